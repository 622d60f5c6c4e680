"""Tiered execution (engine/tiers.py): a render never waits for a compiler. A part runs its batched kernels
until its fused runner is compiled (in a background process) and then swaps to it between steps; the next
render loads it from the cache. Every tier computes the same samples."""

from __future__ import annotations

import os

import numpy as np
import pytest

import phonon.engine.fused as fused
from phonon.engine.executor import BlockEvaluator
from phonon.graph.plan.schedule import build_schedule
from phonon.engine.render import Renderer, RenderSettings, render_array
from phonon.graph.compiler import compile_program

PROGRAM = """~lfo: sine 3 * 100 + 300
~pad: (pulse 110 0.3 # hpf 200) * 0.05
o1: saw ~lfo # lpf 800 # dist 3 * 0.2 + ~pad # delay 0.01 0.4 0.5
o2: tri 55 # bitcrush 6 2 * 0.05 + ~pad * 0.5
"""
SR, BLOCK = 44100, 512
FRAMES = 64 * BLOCK


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """Generated code in an empty folder, so the fused runners must be compiled."""
    monkeypatch.setenv("PHONON_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(fused, "_loaded", {})
    return tmp_path


def _wait_compiled(renderer: Renderer) -> None:
    assert renderer.tiers.wait(timeout=300), "the compiler process never finished"  # a hang guard only


def test_a_render_while_its_fused_code_compiles_equals_one_rendered_after(fresh_cache):
    graph = compile_program(PROGRAM)
    batched = render_array(graph, seconds=FRAMES / SR)
    assert np.abs(batched).max() > 0.05
    out = np.zeros((FRAMES, 2))
    with Renderer(graph, RenderSettings(), FRAMES, 1, tiered=True) as first:
        assert first.tiers.loaded == 0 and len(first.tiers.waiting) == 1
        first.render_into(out, FRAMES // 2)  # batched kernels, while the compiler works
        _wait_compiled(first)
        rest = np.zeros((FRAMES - FRAMES // 2, 2))
        first.render_into(rest, len(rest))  # swapped to the fused runner at the next step
        assert first.tiers.swapped == 1
        assert "compiled in the background" in first.report(FRAMES, 1.0).fused
    out[FRAMES // 2 :] = rest
    np.testing.assert_array_equal(out, batched)

    with Renderer(graph, RenderSettings(), FRAMES, 1, tiered=True) as second:  # the next render: from the cache
        assert second.tiers.loaded == 1 and not second.tiers.waiting
        again = np.zeros((FRAMES, 2))
        second.render_into(again, FRAMES)
        assert second.report(FRAMES, 1.0).fused is None  # nothing compiled: nothing to say
    np.testing.assert_array_equal(again, batched)


def test_a_render_that_ends_first_stops_its_compiler_and_says_so(fresh_cache):
    graph = compile_program(PROGRAM)
    with Renderer(graph, RenderSettings(), 2 * BLOCK, 1, tiered=True) as renderer:
        renderer.render_into(np.zeros((2 * BLOCK, 2)), 2 * BLOCK)
        pid = renderer.tiers.compiler
        assert pid is not None
        note = renderer.report(2 * BLOCK, 1.0).fused
    assert "still compiling" in note
    with pytest.raises(ChildProcessError):  # killed and reaped: no orphan, no zombie
        os.waitpid(pid, os.WNOHANG)


def test_parallel_parts_load_their_fused_code_and_agree(fresh_cache):
    graph = compile_program(PROGRAM)
    batched = render_array(graph, seconds=FRAMES / SR)
    with Renderer(graph, RenderSettings(), FRAMES, 2, tiered=True) as first:
        first.render_into(np.zeros((FRAMES, 2)), FRAMES)
        _wait_compiled(first)
    out = np.zeros((FRAMES, 2))
    with Renderer(graph, RenderSettings(), FRAMES, 2, tiered=True) as second:
        assert len(second.parts.parts) > 1
        assert second.tiers.loaded == len(second.parts.parts) and not second.tiers.waiting
        second.render_into(out, FRAMES)
    np.testing.assert_array_equal(out, batched)


def test_a_nan_inside_a_fused_part_is_contained_and_names_its_node():
    text = "~x: sine 440 * 1e200\nout: (~x * ~x # lpf 1000) * 0.5 + sine 330 * 0.1\n"
    schedule = build_schedule(compile_program(text), SR, BLOCK)
    evaluator = BlockEvaluator(schedule, np.zeros(schedule.arena_shape()))
    evaluator.fuse()
    for k in range(8):
        evaluator.process(k * BLOCK, BLOCK)
        assert np.isfinite(evaluator.arena[[r for pair in schedule.output_rows.values() for r in pair]]).all()
    (incident,) = evaluator.incidents
    assert incident.where.startswith("* (line 2 col")
    assert evaluator._runner is None  # the guard changed the part: it runs batched again, never a stale runner


GUARDED = {  # an inf from 1.5 s (the last quarter of the cycle squares 1e300), and a loop that runs away later
    "nan": '~x: sine 440 * "1 1 1 1e300"\nout: (~x * ~x # lpf 1000) * 0.5 + sine 330 * 0.1\n',
    "runaway": "~in: impulse 2\n~a: ~in + ~b * 1.5\n~b: ~a # delay 0.01 0 1\nout: ~a * 0.1 + sine 440 * 0.2\n",
}


@pytest.mark.parametrize("name", sorted(GUARDED))
@pytest.mark.parametrize("workers", [1, 2])
def test_guards_fire_inside_a_fused_step_as_between_batched_kernels(fresh_cache, name, workers):
    """A part runner computes a whole step of blocks; where a guard fires it stops at that block, and the
    host contains it before the block leaves the part: the same samples and the same incidents as batched."""
    graph = compile_program(GUARDED[name])
    frames = 3 * SR
    batched = Renderer(graph, RenderSettings(), frames, workers)
    with batched:
        expected = np.zeros((frames, 2))
        batched.render_into(expected, frames)
        incidents = [(i.node, i.sample, i.kind) for i in batched.report(frames, 1.0).incidents]
    assert len(incidents) == 1 and incidents[0][1] > 4 * BLOCK  # mid-render, not in the first step
    with Renderer(graph, RenderSettings(), BLOCK, workers, tiered=True) as first:
        first.render_into(np.zeros((BLOCK, 2)), BLOCK)
        _wait_compiled(first)
    with Renderer(graph, RenderSettings(), frames, workers, tiered=True) as fused_render:
        assert fused_render.tiers.loaded == len(fused_render.parts.parts)
        out = np.zeros((frames, 2))
        fused_render.render_into(out, frames)
        found = [(i.node, i.sample, i.kind) for i in fused_render.report(frames, 1.0).incidents]
    np.testing.assert_array_equal(out, expected)
    assert found == incidents
