"""The block evaluator: batching, block-size independence, no allocation per block, constant memory,
containment of non-finite samples."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from phonon.graph.plan.schedule import build_schedule
from phonon.engine.render import Renderer, RenderSettings, render_array, render_to_file
from phonon.graph.compiler import compile_program

ALL_BASIC = """
~lfo: sine 0.5 * 0.5 + 0.5
~fm: sine (220 + sine 3 * 40)
~oscs: saw 110 + square 165 * 0.5 + tri 220 + pulse 330 (~lfo * 0.5 + 0.2)
~filtered: ~oscs # lpf (~lfo * 3000 + 200) 2 # hpf 80 # bpf 900 0.7 # notch 1200 3
~ratio: ~fm / (~lfo + 0.5) * (~oscs - 0.2)
out: (~filtered * 0.2 + ~ratio * 0.05 + ~fm * 0.1) * 0.5
"""


def test_same_kind_same_level_is_one_kernel_call():
    text = open("examples/bench/heavy.phonon").read()
    schedule = build_schedule(compile_program(text), 44100, 512)
    assert [(b.kind, len(b.nodes)) for b in schedule.batches] == [("saw", 100), ("svf", 100), ("mix", 7), ("mix", 1)]


def test_python_calls_each_batch_once_per_block():
    renderer = Renderer(compile_program(ALL_BASIC), RenderSettings(block=256), frames=256 * 10)
    calls = []
    ((segment, loop),) = renderer.evaluator._segments
    segment[:] = [((lambda f: (lambda *a: (calls.append(f), f(*a))))(fn), arrays) for fn, arrays in segment]
    dest = np.zeros((256 * 10, 2))
    renderer.render_into(dest, 256 * 10)
    assert len(calls) == 10 * len(renderer.schedule.stages)


@pytest.mark.parametrize("block", [1, 64, 100, 2048])
def test_block_size_does_not_change_the_audio(block):
    reference = render_array(ALL_BASIC, seconds=0.5, block=512)
    other = render_array(ALL_BASIC, seconds=0.5, block=block)
    assert np.abs(reference).max() > 0.05
    np.testing.assert_array_equal(other, reference)


def test_no_allocation_per_block_once_running():
    renderer = Renderer(compile_program(ALL_BASIC), RenderSettings(block=512))
    dest = np.zeros((512, 2))
    for _ in range(20):  # warm up: numba dispatch caches, first-call paths
        renderer.render_into(dest, 512)
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for _ in range(500):
            renderer.render_into(dest, 512)
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename") if s.size_diff > 0)
    assert grown < 2048, f"{grown} bytes still allocated after 500 blocks"


def test_file_render_memory_does_not_grow_with_duration(tmp_path):
    graph = compile_program("out: saw 55 # lpf 800 0.7 * 0.2\n")

    def peak(seconds: float) -> int:
        tracemalloc.start()
        try:
            render_to_file(graph, tmp_path / "x.wav", int(seconds * 44100), RenderSettings())
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    short, long = peak(2), peak(60)
    assert long < short * 1.5 + 100_000, (short, long)


def test_nonfinite_output_is_contained_and_reported(tmp_path):
    text = "~big: sine 440 * 1e200\n~inf: ~big * ~big\nout: sine 220 * 0.1 + ~inf\n"
    report = render_to_file(compile_program(text, "bad.phonon"), tmp_path / "x.wav", 22050, RenderSettings())
    (incident,) = report.incidents
    assert "* (line 2 col 12) in ~inf" == incident.where
    assert any("produced NaN/inf" in line for line in report.lines())
    audio = render_array(text, seconds=0.5)
    assert np.isfinite(audio).all()


def test_ceiling_and_gain():
    loud = render_array("out: sine 100 * 2\n", seconds=0.2, ceiling=0.5)
    assert np.abs(loud).max() == 0.5
    quiet = render_array("out: sine 100 * 0.5\n", seconds=0.2, gain=0.5)
    assert abs(np.abs(quiet).max() - 0.25) < 1e-3
