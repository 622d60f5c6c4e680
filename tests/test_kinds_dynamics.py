"""The limiter, the compressor's sidechain and the pitch shifter (engine/kernels/dynamics.py), through real
programs: what a listener would notice (no peak over the ceiling, a quiet signal untouched, a pad ducked
under the kick and back, the octave up or down), and the contracts (every block size and worker count
renders the same samples)."""

from __future__ import annotations

import numpy as np
import pytest

from phonon.engine.kernels import KERNELS, load_all
from phonon.engine.kernels.dynamics import limit_unguarded
from phonon.engine.render import render_array
from phonon.graph.compiler import compile_program
from phonon.graph.errors import PhononError
from phonon.graph.kinds import KINDS
from tests.audio import db, dominant_freq, rms

SR = 44100


def mono(program: str, seconds: float, **kw) -> np.ndarray:
    out = render_array(program, seconds=seconds, **kw)
    assert np.array_equal(out[:, 0], out[:, 1])
    return out[:, 0]


def latency(lookahead: float) -> int:
    return int(np.floor(lookahead * SR + 0.5))


# ------------------------------------------------------------------------------------------------ limiter

LOUD = {  # +20 dB and more, with sudden onsets (a pattern steps the level on its exact sample)
    "sine burst": 'tempo: 2\nout: sine 440 * "0 10 0.1 [10 0]" # limiter -6',
    "noise": "out: noise * 10 # limiter -6",
    "noise, short look-ahead, fast release": "out: noise * 10 # limiter -6 0.001 0.001",
    "saw, ceiling 0 dB": "out: saw 110 * 10 # limiter 0",
}


@pytest.mark.parametrize("program", LOUD.values(), ids=LOUD.keys())
def test_the_limiters_output_never_exceeds_its_ceiling(program):
    ceiling_db = float(program.split("limiter ")[1].split()[0])
    y = mono(program, 1.0)
    assert np.abs(y).max() <= 10 ** (ceiling_db / 20)
    # and it limits, not silences: the loud parts come out at the ceiling (within 1 dB)
    assert db(np.abs(y).max() / 10 ** (ceiling_db / 20)) > -1.0


def test_the_gain_alone_keeps_the_ceiling_the_final_clamp_never_engages():
    """The kernel without its guard clamp, on +20 dB bursts, noise, a lone +60 dB click and a ceiling that
    steps: no sample over the ceiling it entered with (not even by a rounding)."""
    load_all()
    n = 3 * SR
    rng = np.random.default_rng(7)
    t = np.arange(n) / SR
    x = 10 * np.sin(2 * np.pi * 440 * t) * (((t * 4) % 1) < 0.5)  # +20 dB bursts, sudden onsets
    x[SR : 2 * SR] = rng.uniform(-10, 10, SR)  # +20 dB noise
    x[2 * SR + 1000] = 1000.0  # a lone click in the quiet
    ceiling_db = np.where((t * 3) % 1 < 0.5, -6.0, -20.0)  # stepping: the output follows it L samples later
    for lookahead, release in ((0.005, 0.1), (0.001, 0.001), (0.01, 2.0)):
        lag = latency(lookahead)
        out = np.zeros(n)
        state = np.zeros(1 + KINDS["limiter"].state_size(SR))
        state[0] = SR
        caught = 0
        for a in range(0, n, 512):  # the engine's blocks
            b = min(a + 512, n)
            caught += limit_unguarded(out, x, ceiling_db, np.full(n, lookahead), np.full(n, release), state, a, b)
        assert caught == 0
        entered = 10 ** (ceiling_db[:-lag] / 20)
        assert np.all(np.abs(out[lag:]) <= entered)
        assert np.all(out[:lag] == 0.0)


def test_a_quiet_signal_passes_unchanged_delayed_by_the_look_ahead():
    dry = mono("out: sine 440 * 0.3 + saw 97 * 0.2", 0.5)
    for lookahead in (0.005, 0.001, 0.0031):
        lag = latency(lookahead)
        y = mono(f"out: sine 440 * 0.3 + saw 97 * 0.2 # limiter -1 {lookahead}", 0.5)
        assert np.all(y[:lag] == 0.0)
        assert np.array_equal(y[lag:], dry[:-lag])  # exactly: every gain is exactly 1
    # the default look-ahead is 5 ms: 221 samples at 44.1 kHz
    assert np.array_equal(mono("out: sine 440 * 0.3 + saw 97 * 0.2 # limiter", 0.5)[221:], dry[:-221])


def test_the_gain_is_down_before_the_peak_and_recovers_over_the_release():
    """A quiet tone with one loud 50 ms burst: the tone just before the burst is ducked already (the look-ahead
    ramp), and after it the tone is back to full level within a few release times."""
    program = "tempo: 1\nout: sine 440 * \"0.1 [0.1 0.1 0.1 10] 0.1 0.1\" # limiter -6 0.005 0.05"
    y = mono(program, 1.0)
    onset = int(0.4375 * SR) + latency(0.005)  # where the burst comes out
    quiet = 0.1 / np.sqrt(2)
    assert db(rms(y[onset - 110 : onset]) / quiet) < -3  # the last 2.5 ms before it are turned down
    assert abs(db(rms(y[onset - 2000 : onset - 300]) / quiet)) < 0.01  # earlier: untouched
    end = int(0.5 * SR) + latency(0.005)
    assert abs(db(rms(y[end + int(0.3 * SR) : end + int(0.45 * SR)]) / quiet)) < 0.1  # recovered (6 releases)


# ------------------------------------------------------------------------------------------ sidechain

DUCKING = """tempo: 0.5
~kick: sine 60 * "1 0"
~pad: saw 220 * 0.2 + saw 330.5 * 0.1
out: ~pad # compressor -30 8 0.005 0.2 0 :sidechain ~kick
"""


def test_the_sidechain_ducks_the_pad_while_the_kick_plays_and_lets_it_recover():
    y = mono(DUCKING, 2.0)
    pad = mono("~pad: saw 220 * 0.2 + saw 330.5 * 0.1\nout: ~pad", 2.0)
    during = slice(int(0.2 * SR), int(0.95 * SR))  # the kick plays 0..1 s (half of a 2 s cycle)
    after = slice(int(1.8 * SR), 2 * SR)  # 0.8 s after it, 4 release times
    assert db(rms(y[during]) / rms(pad[during])) < -20  # 0 dB kick, 30 dB over, 8:1: about 26 dB down
    assert np.array_equal(y[after], pad[after])  # the detector is below the threshold: untouched
    assert {n.kind for n in compile_program(DUCKING).nodes} >= {"sidechain_compressor"}


def test_without_a_sidechain_the_compressor_is_the_plain_compressor():
    plain = "~pad: saw 220 * 0.4\nout: ~pad # comp -20 4 0.005 0.1 3"
    kinds = [n.kind for n in compile_program(plain).nodes]
    assert "compressor" in kinds and "sidechain_compressor" not in kinds
    # the input itself as the sidechain is the same node (the same graph, the same samples)
    itself = plain + " :sidechain ~pad"
    assert [n.kind for n in compile_program(itself).nodes] == kinds
    assert np.array_equal(mono(itself, 0.5), mono(plain, 0.5))
    # a sidechain that is another node carrying the same signal: the variant kind, the same samples
    copy = "~pad: saw 220 * 0.4\n~copy: saw 220 * 0.4\nout: ~pad # comp -20 4 0.005 0.1 3 :sidechain ~copy"
    assert "sidechain_compressor" in [n.kind for n in compile_program(copy).nodes]
    assert np.array_equal(mono(copy, 0.5), mono(plain, 0.5))


def test_the_sidechain_kernel_fed_its_own_input_computes_the_compressors_samples():
    load_all()
    n = 6000
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, n) * np.repeat([1.0, 0.05, 0.7], n // 3)
    ranges = ((-40, -5), (1, 20), (0.001, 0.05), (0.01, 1), (0, 12))  # threshold ratio attack release makeup
    params = [np.repeat(rng.uniform(lo, hi, 6), n // 6) for lo, hi in ranges]
    outs = []
    for kind, columns in (("compressor", 7), ("sidechain_compressor", 8)):
        arena = np.array([np.zeros(n), x, *params])
        wiring = np.array([[0, 1, 2, 3, 4, 5, 6, 1][:columns]], dtype=np.int64)  # the sidechain: row 1, the input
        state = np.zeros((1, 2))
        state[0, 0] = SR
        KERNELS[kind](arena, wiring, state, 0, n)
        outs.append(arena[0])
    assert np.array_equal(outs[0], outs[1])


def test_sidechain_is_an_optional_keyword_shown_in_the_usage():
    with pytest.raises(PhononError) as e:
        compile_program("out: saw 55 # comp -20 4 0.01\n")
    assert "[sidechain=input]" in (e.value.hint or "")
    with pytest.raises(PhononError, match="no parameter 'sidechian'"):
        compile_program("~k: sine 50\nout: saw 55 # comp -20 4 0.01 0.1 0 :sidechian ~k\n")


# ----------------------------------------------------------------------------------------- pitchshift


@pytest.mark.parametrize(("semitones", "ratio"), [(12, 2.0), (-12, 0.5), (7, 2 ** (7 / 12))])
def test_pitchshift_moves_a_sine_by_its_interval(semitones, ratio):
    y = mono(f"out: sine 440 * 0.5 # pitchshift {semitones}", 1.0)
    f = dominant_freq(y[int(0.1 * SR) :])
    assert f == pytest.approx(440 * ratio, rel=0.02)
    assert abs(db(rms(y[int(0.1 * SR) :]) / (0.5 / np.sqrt(2)))) < 1.0  # at the same level


def test_pitchshift_by_zero_is_the_input_delayed():
    y = mono("out: sine 440 * 0.5 # pitchshift 0 0.02", 0.3)
    dry = mono("out: sine 440 * 0.5", 0.3)
    # the taps stay where they start, phase 0 and 0.5: delays 1 and 1 + 0.01 s (441 samples), weighted 0 and 1
    assert np.array_equal(y[442:], dry[:-442])


# -------------------------------------------------------------------------------------------- contracts

ALL_NEW = """tempo: 1.5
~kick: sine 55 * "1 0 0.5 0"
~pad: (saw 220 * 0.3 + noise * 0.05) # compressor -30 8 0.005 0.2 0 :sidechain ~kick
o1: ~pad # pitchshift "7 12 -5" 0.03 * 3 # limiter "-6 -3" 0.003 0.05
o2: (~pad + ~kick * 4) # limiter -3 0.005 0.02
"""


def test_the_new_kinds_render_the_same_at_every_block_size_and_worker_count():
    kinds = {n.kind for n in compile_program(ALL_NEW).nodes}
    assert {"limiter", "sidechain_compressor", "pitchshift"} <= kinds
    reference = render_array(ALL_NEW, seconds=1.0, block=512)
    assert rms(reference[:, 0]) > 0.05
    for block in (64, 2048):
        assert np.array_equal(render_array(ALL_NEW, seconds=1.0, block=block), reference), block
    assert np.array_equal(render_array(ALL_NEW, seconds=1.0, workers=2), reference)
