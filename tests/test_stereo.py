"""Stereo for signals (issue 12 part 5): `pan` and `width` on any signal, reverb, chorus, phaser and flanger
stereo in and out (a mono input spreads), and feedback loops through a stereo bus keeping both sides."""

from __future__ import annotations

import math

import numpy as np
import pytest

from phonon.graph.compiler import compile_program
from tests.audio import render, render_stereo, rms

TONE = "sine 440 * 0.8"


def sides(program: str, seconds: float = 0.5, **kw) -> tuple[np.ndarray, np.ndarray]:
    out = render_stereo(program, seconds, **kw)
    return out[:, 0], out[:, 1]


@pytest.mark.parametrize("pos", [0.0, 0.25, 0.5, 0.75, 1.0])
def test_pan_keeps_the_power_and_is_never_louder_than_the_input(pos):
    dry = render(f"out: {TONE}", 0.5)
    left, right = sides(f"out: {TONE} # pan {pos}")
    theta = pos * math.pi / 2
    np.testing.assert_allclose(left, dry * math.cos(theta), atol=1e-12)
    np.testing.assert_allclose(right, dry * math.sin(theta), atol=1e-12)
    assert rms(left) ** 2 + rms(right) ** 2 == pytest.approx(rms(dry) ** 2, rel=1e-9)  # the same loudness
    assert max(np.abs(left).max(), np.abs(right).max()) <= np.abs(dry).max() + 1e-12


def test_a_hard_pan_puts_the_signal_on_one_side_and_a_moving_pan_moves_it():
    left, right = sides(f"out: {TONE} # pan 0")
    assert np.array_equal(left, render(f"out: {TONE}", 0.5)) and not right.any()
    left, right = sides(f"out: {TONE} # pan (sine 1 * 0.5 + 0.5)", 1.0)  # right in the first half second
    half = len(left) // 2
    assert rms(right[:half]) > 2 * rms(left[:half]) and rms(left[half:]) > 2 * rms(right[half:])


def test_pan_on_a_stereo_signal_is_a_balance_that_leaves_the_centre_alone():
    stereo = f"({TONE} # pan 0.2)"
    left, right = sides(f"out: {stereo}")
    bl, br = sides(f"out: {stereo} # pan 0.5")
    assert np.array_equal(bl, left) and np.array_equal(br, right)
    bl, br = sides(f"out: {stereo} # pan 0")
    assert np.array_equal(bl, left) and not br.any()


def test_width_folds_keeps_and_widens_the_image():
    stereo = "(sine 440 * 0.3 # pan 0.1)"  # quiet enough that width 2 stays under the master's ceiling
    left, right = sides(f"out: {stereo}")
    mid, side = (left + right) / 2, (left - right) / 2
    for amount in (0, 1, 2):
        wl, wr = sides(f"out: {stereo} # width {amount}")
        np.testing.assert_allclose(wl, mid + amount * side, atol=1e-12)
        np.testing.assert_allclose(wr, mid - amount * side, atol=1e-12)
    wl, wr = sides(f"out: {TONE} # width 2")  # a mono signal has no side to widen
    assert np.array_equal(wl, wr)


@pytest.mark.parametrize("effect", ["reverb 0.8 0.3 0.6", "chorus 0.5 0.8 0.5", "phaser 0.5 0.8 0.3", "flanger 0.3 0.8 0.3"])
def test_a_mono_input_spreads_and_a_stereo_input_keeps_its_sides(effect):
    source = "saw 110 * 0.3"
    left, right = sides(f"out: {source} # {effect}", 1.0)
    assert abs(np.corrcoef(left, right)[0, 1]) < 0.95 and rms(right) > 0.5 * rms(left)  # two different sides
    hard_left = sides(f"out: ({source} # pan 0) # {effect}", 1.0)
    assert np.array_equal(hard_left[0], left) and not hard_left[1].any()  # each side its own channel


def test_a_feedback_loop_through_a_stereo_bus_keeps_both_sides():
    program = "~echo: (saw 110 * 0.2 # pan 0) + ~echo # delay 0.25 0.5 1 * 0.5\nout: ~echo\n"
    left, right = sides(program, 1.0)
    assert rms(left[len(left) // 2 :]) > 0.01 and not right.any()  # the echoes stay on the left
    mono = compile_program("~echo: saw 110 * 0.2 + ~echo # delay 0.25 0.5 1 * 0.5\nout: ~echo\n")
    assert [n.kind for n in mono.nodes].count("feedback") == 1  # a mono loop is not doubled
    stereo = compile_program(program)
    assert [n.kind for n in stereo.nodes].count("feedback") == 2


STEREO_PROGRAM = """~wide: (saw 110 * 0.2 # pan (sine 0.7 * 0.5 + 0.5)) # chorus 0.5 0.7 0.5 # width 1.5
~loop: (noise * (sine 2) * 0.1 # pan 0.3) + ~loop # delay 0.1 0.6 1 * 0.5
out: ~wide # reverb 0.6 0.4 0.3 + ~loop # phaser 0.4 0.7 0.2
o2: sine 55 * 0.1 # flanger 0.2 0.6 0.4
"""


def test_stereo_programs_render_the_same_at_every_block_size_and_worker_count():
    reference = render_stereo(STEREO_PROGRAM, 0.8, block=512, workers=1)
    assert not np.array_equal(reference[:, 0], reference[:, 1])
    for block, workers in ((64, 1), (2048, 1), (64, 2), (512, 2), (2048, 2)):
        np.testing.assert_array_equal(render_stereo(STEREO_PROGRAM, 0.8, block=block, workers=workers), reference,
                                      err_msg=f"block {block}, workers {workers}")
