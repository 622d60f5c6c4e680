"""Feedback between buses (invariant 3): exact loop timing, independent of the block size."""

from __future__ import annotations

import numpy as np
import pytest

from phonon.graph.plan.schedule import build_schedule
from phonon.engine.render import RenderSettings, render_array, render_to_file
from phonon.graph.compiler import compile_program

SR = 44100
BLOCKS = (64, 512, 2048)


def echo_program(seconds: float) -> str:
    return f"""~input: impulse
~feedback: ~output # delay {seconds} 0.0 1.0 * 0.5
~output: ~input + ~feedback
out: ~output
"""


def renders(text: str, seconds: float, blocks=BLOCKS, sr: int = SR) -> list[np.ndarray]:
    return [render_array(text, seconds=seconds, block=b, sr=sr)[:, 0] for b in blocks]


@pytest.mark.parametrize("delay", [0.1, 0.25, 0.005])
def test_echo_loop_repeats_exactly_on_its_delay(delay):
    sr = 48000  # every delay here is a whole number of samples at 48 kHz (0.005 s is 220.5 at 44.1 kHz)
    outs = renders(echo_program(delay), seconds=delay * 6 + 0.01, sr=sr)
    for out in outs[1:]:
        np.testing.assert_array_equal(out, outs[0])
    out = outs[0]
    period = round(delay * sr)
    onsets = np.flatnonzero(out)
    assert list(onsets[:6]) == [k * period for k in range(6)]
    assert list(out[onsets[:6]]) == [0.5**k for k in range(6)]


def test_echo_loop_steps_by_its_delay_not_by_samples():
    schedule = build_schedule(compile_program(echo_program(0.1)), SR, 512)
    (loop,) = schedule.feedback.loops
    assert loop.step == 4410 and loop.implicit == [] and sorted(loop.buses) == ["feedback", "output"]


def test_self_reference_reaches_the_geometric_steady_state():
    text = "~in: sine 440 * 0.5\n~fb: ~in * 0.5 + ~fb * 0.3\nout: ~fb\n"
    outs = renders(text, seconds=0.5)
    for out in outs[1:]:
        np.testing.assert_array_equal(out, outs[0])
    # |H| of y = 0.5 x + 0.3 y[n-1] at 440 Hz: the one-sample loop delay is implicit and exact.
    w = 2 * np.pi * 440 / SR
    expected = 0.5 * 0.5 / abs(1 - 0.3 * np.exp(-1j * w))
    assert np.abs(outs[0][-4410:]).max() == pytest.approx(expected, rel=1e-3)
    assert expected == pytest.approx(0.5 * 0.5 / 0.7, rel=0.01)
    (loop,) = build_schedule(compile_program(text), SR, 512).feedback.loops
    assert loop.step == 1 and len(loop.implicit) == 1


def dominant_frequency(x: np.ndarray) -> float:
    window = np.hanning(len(x))
    spectrum = np.abs(np.fft.rfft(x * window, n=8 * len(x)))
    k = int(np.argmax(spectrum[1:])) + 1
    a, b, c = np.log(spectrum[k - 1 : k + 2] + 1e-30)
    return (k + 0.5 * (a - c) / (a - 2 * b + c)) * SR / (8 * len(x))


def test_karplus_strong_string_from_buses_has_its_pitch_for_every_block_size():
    text = """~burst: noise * (env 0 0.005 0 0)
~string: ~burst + (~string # delay (1 / 220) 0 1 # lpf 12000) * 0.995
out: ~string * 0.5
"""
    outs = renders(text, seconds=1.0)
    for out in outs[1:]:
        np.testing.assert_array_equal(out, outs[0])
    tail = outs[0][SR // 10 :]
    assert np.abs(tail).max() > 0.01  # still ringing
    assert dominant_frequency(tail) == pytest.approx(220, abs=1.0)


def test_delay_free_loop_through_a_filter_is_stable_and_block_independent():
    text = "~in: saw 110 * 0.5\n~fb: (~fb * 0.7 + ~in * 0.3) # lpf 2000 0.7\nout: ~fb\n"
    outs = renders(text, seconds=1.0, blocks=(1, 64, 512, 2048))
    for out in outs[1:]:
        np.testing.assert_array_equal(out, outs[0])
    assert np.isfinite(outs[0]).all() and 0.05 < np.abs(outs[0]).max() < 2.0


def test_two_interlocked_loops_render_identically_for_all_block_sizes():
    text = """~in: impulse 3
~a: ~in + ~b * 0.4 # lpf 3000
~b: (~a + ~b * 0.5) # delay 0.013 0.2 0.7
out: ~a * 0.3 + ~b * 0.2
"""
    outs = renders(text, seconds=1.0)
    for out in outs[1:]:
        np.testing.assert_array_equal(out, outs[0])
    assert np.abs(outs[0]).max() > 0.05


def test_loop_with_gain_above_one_stays_finite_and_is_reported_once(tmp_path):
    text = "~in: impulse 2\n~a: ~in + ~b * 1.5\n~b: ~a # delay 0.01 0 1\nout: ~a * 0.1\n"
    graph = compile_program(text, "loud.phonon")
    report = render_to_file(graph, tmp_path / "loud.wav", 30 * SR, RenderSettings())
    (incident,) = report.incidents
    assert "in the feedback loop ~a, ~b" in incident.where and "line 2" in incident.where
    import soundfile as sf

    audio, _ = sf.read(tmp_path / "loud.wav")
    assert np.isfinite(audio).all() and np.abs(audio).max() <= 1.0


def test_forward_reference_and_cycle_both_play():
    text = "out: ~later * 0.3\n~later: sine 440 + ~later * 0\n"
    out = render_array(text, seconds=0.2)[:, 0]
    assert np.abs(out).max() == pytest.approx(0.3, rel=1e-3)


def test_graph_report_names_loops_steps_and_implicit_delays():
    from phonon.engine.report import graph_text

    text = echo_program(0.1) + "~fb: ~input * 0.5 + ~fb * 0.3\no2: ~fb\n"
    report = graph_text(compile_program(text, "loops.phonon"))
    assert "shortest loop delay 4410 samples (100.000 ms), evaluated in steps of 512 samples" in report
    assert "implicit one-sample delay on ~fb at line 5 col 21 (closes ~fb -> ~fb)" in report
    assert "runs sample by sample" in report
