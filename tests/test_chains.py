"""Voices in SIMD lanes (engine.kernels.chains) and fused part runners (engine.fused): the same audio as the
batch kernels, chosen by the graph alone, and generated code keyed by structure, never by numbers."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.workloads import all_workloads
from phonon.engine.executor import BlockEvaluator
from phonon.graph.plan.schedule import ChainStage, build_schedule
from phonon.engine.render import render_array
from phonon.graph.plan import lanes
from phonon.graph.compiler import compile_program

MODULATED = """~lfo: sine 3 * 200 + 600
o1: saw (~lfo * 0.2 + 110) # lpf (~lfo * 2 + 400) 0.9 * 0.2
o2: saw "55 82.5 <110 165>" # hpf "300 3000" 2 * 0.2
o3: saw 220 # bpf ~lfo 4 * 0.2 + saw 0 # notch 500 * 0.1
"""


def _without_chains(monkeypatch) -> None:
    monkeypatch.setattr(lanes, "LANE_CHAINS", set())


def _without_sums(monkeypatch) -> None:
    monkeypatch.setattr(lanes, "sums", lambda ug, units, chained: {})


# Sums of chains in every shape the planner meets: partial sums of a wide sum, a chain that a sum and an output
# both read (its row is still written), a sum that also reads a signal of an earlier level (fused) or of the
# chains' own level (not fused), voices whose frequency or cutoff moves within a block (the one-voice path).
SUMS = """~lfo: sine 3 * 200 + 600
~shared: saw 110 # lpf 900 0.8
o1: (""" + " + ".join(f"saw {55 + 7 * i} # lpf {700 + 40 * i} 0.9" for i in range(40)) + """) * 0.01
o2: ~shared * 0.2 + (saw 82.5 # hpf 400) * 0.1 + ~lfo * 0.0001
o3: ~shared * 0.1 + (saw (~lfo * 0.3) # bpf 1200 3) * 0.2 + (sine 220 # lpf 300) * 0.1
o4: (saw "55 110 <165 220>" # lpf (~lfo * 3) 0.7 + saw 0 # notch 500) * 0.2
"""


@pytest.mark.parametrize("name", ["heavy", "bus8x", "moderate"])
def test_lanes_agree_with_the_batch_kernels(name, monkeypatch):
    text = all_workloads()[name]
    in_lanes = render_array(text, seconds=0.3)
    _without_chains(monkeypatch)
    batched = render_array(text, seconds=0.3)
    assert np.abs(batched).max() > 0.01
    np.testing.assert_allclose(in_lanes, batched, rtol=0, atol=1e-12)


def test_modulated_voices_take_the_one_voice_path_and_still_agree(monkeypatch):
    """Frequencies, cutoffs and q that change within a block (signals, patterns), every filter mode, and a
    0 Hz saw: each voice whose inputs are not steady over a block runs the batch kernels' arithmetic."""
    in_lanes = render_array(MODULATED, seconds=2.0, block=512)
    assert any(isinstance(s, ChainStage) for s in build_schedule(compile_program(MODULATED), 44100, 512).stages)
    _without_chains(monkeypatch)
    batched = render_array(MODULATED, seconds=2.0, block=512)
    assert np.abs(batched).max() > 0.05
    np.testing.assert_allclose(in_lanes, batched, rtol=0, atol=1e-12)


@pytest.mark.parametrize("block", [64, 2048])
def test_lanes_do_not_depend_on_the_block_size(block):
    text = all_workloads()["heavy"]
    np.testing.assert_allclose(render_array(text, seconds=0.3, block=block), render_array(text, seconds=0.3), atol=1e-9)


def test_only_a_saw_with_a_single_filter_reader_is_chained():
    text = "~s: saw 55\no1: ~s # lpf 800 * 0.1\no2: ~s * 0.1\no3: saw 110 # lpf 900 * 0.1\n"
    graph = compile_program(text)
    schedule = build_schedule(graph, 44100, 512)
    chains = [s for s in schedule.stages if isinstance(s, ChainStage)]
    assert len(chains) == 1 and chains[0].kind == "saw>svf>mix"  # o1's "* 0.1" and o3's: sums of chains
    saw, svf = chains[0].links
    assert graph.nodes[saw.nodes[0]].consts == () and graph.nodes[svf.nodes[0]].inputs[0] == saw.nodes[0]
    assert graph.buses["s"] not in chains[0].nodes  # ~s has two readers: its row is needed
    for workers in (1, 2, 3):
        out = render_array(text, seconds=0.2, workers=workers)
        np.testing.assert_array_equal(out, render_array(text, seconds=0.2))


@pytest.mark.parametrize("name", ["bus8x", "feedback"])
def test_a_fused_part_runner_computes_the_same_samples(name):
    text = all_workloads()[name] if name != "feedback" else (
        "~in: impulse 3\n~fb: ~out # delay 0.01 0.0 1.0 * 0.5\n~out: ~in + ~fb\n~x: (~x * 0.7 + saw 110 * 0.3) # lpf 2000\n"
        "o1: ~out * 0.5\no2: ~x * 0.3\n"
    )
    schedule = build_schedule(compile_program(text), 44100, 256)
    a, b = BlockEvaluator(schedule, np.zeros(schedule.arena_shape())), None
    fused_schedule = build_schedule(compile_program(text), 44100, 256)
    b = BlockEvaluator(fused_schedule, np.zeros(fused_schedule.arena_shape()))
    b.fuse()
    for k in range(20):
        a.process(k * 256, 256)
        b.process(k * 256, 256)
        np.testing.assert_array_equal(a.arena, b.arena)


def test_editing_numbers_or_adding_a_voice_reuses_the_compiled_part():
    def fused(text: str):
        schedule = build_schedule(compile_program(text), 44100, 512)
        evaluator = BlockEvaluator(schedule, np.zeros(schedule.arena_shape()))
        evaluator.fuse()
        evaluator.process(0, 512)
        return evaluator._runner

    first = fused("out: ((saw 55 # lpf 800 0.7) + (saw 82 # lpf 900 0.7)) * 0.1 # delay 0.25 0.5\n")
    compiled = len(first.signatures)
    again = fused("out: ((saw 60 # lpf 1200) + (saw 90 # lpf 300 0.9) + (saw 20 # hpf 99)) * 0.3 # delay 0.2 0.1\n")
    assert again is first and len(again.signatures) == compiled == 1


def test_sums_of_chains_run_in_the_lanes_and_change_no_bit(monkeypatch):
    """A sum computed from the lane tile adds the same numbers in the same order as the mix kernel."""
    graph = compile_program(SUMS)
    kinds = [s.kind for s in build_schedule(graph, 44100, 512).stages if isinstance(s, ChainStage)]
    assert "saw>svf>mix" in kinds
    fused = {w: render_array(SUMS, seconds=0.5, workers=w) for w in (1, 2, 3)}
    _without_sums(monkeypatch)
    apart = render_array(SUMS, seconds=0.5)
    assert np.abs(apart).max() > 0.05
    for w, out in fused.items():
        np.testing.assert_array_equal(out, apart, err_msg=f"{w} workers")


@pytest.mark.parametrize("name", ["heavy", "extreme"])
def test_wide_sums_of_voices_change_no_bit(name, monkeypatch):
    text = all_workloads()[name]
    fused = render_array(text, seconds=0.2)
    _without_sums(monkeypatch)
    np.testing.assert_array_equal(fused, render_array(text, seconds=0.2))


def test_a_voice_that_goes_non_finite_inside_a_fused_sum_is_named_and_the_others_keep_playing():
    """An infinite frequency makes one voice NaN inside the lane kernel, where its sum reads it: the voice
    (its filter, line 2) is reported once, silenced from then on before the sum reads it, and the voice
    beside it in the same sum keeps playing at its level."""
    text = "~f: 1e200 * 1e200\nout: (saw ~f # lpf 800 + sine 0 # lpf 20 + saw 220 # lpf 5000) * 0.1\n"
    from tests.audio import render_report, tone_amplitude

    for workers in (1, 2):
        out, report = render_report(text, 1.0, workers=workers)
        assert np.isfinite(out).all()
        assert [(i.where, i.sample) for i in report.incidents] == [("lpf (line 2 col 16)", 1)]
        assert tone_amplitude(out[22050:, 0], 220.0) == pytest.approx(0.1 * 2 / np.pi, rel=0.05)


# Square and tri voices (each kind its own lane kernel copy), mixed on one level: a sum of both kinds is left
# to the mix kernel, a sum of one kind is fused; some voices move within a block (the one-voice path).
WAVES = "\n".join(
    f"~v{i}: {'square' if i % 2 else 'tri'} ({55 + 3 * i}) # lpf ({800 + 20 * i}) 0.8" for i in range(40)
) + "\nout: (" + " + ".join(f"~v{i}" for i in range(40)) + ") * 0.01\n" + (
    "o2: (" + " + ".join(f"square {100 + 7 * i} # hpf 300" for i in range(20)) + ") * 0.01\n"
    "o3: (tri (sine 3 * 40 + 200) # bpf 900 2 + square \"55 110\" # notch 400) * 0.1\n"
)


def test_square_and_tri_voices_run_in_lanes_and_agree_with_the_batch_kernels(monkeypatch):
    kinds = {s.kind for s in build_schedule(compile_program(WAVES), 44100, 512).stages if isinstance(s, ChainStage)}
    assert {"square>svf>mix", "tri>svf"} <= kinds
    in_lanes = {w: render_array(WAVES, seconds=0.5, workers=w) for w in (1, 2, 3)}
    _without_chains(monkeypatch)
    batched = render_array(WAVES, seconds=0.5)
    assert np.abs(batched).max() > 0.05
    np.testing.assert_allclose(in_lanes[1], batched, rtol=0, atol=1e-12)
    for w in (2, 3):
        np.testing.assert_array_equal(in_lanes[w], in_lanes[1])
