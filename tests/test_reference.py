"""The hand-written numba reference renderer (benchmarks/reference.py): sane output, 1 and 2 threads agree,
it matches Phonon's rendering of the same programs, and bus8x's delay echoes. No wall-clock thresholds."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import reference as ref
from benchmarks.workloads import all_workloads

SR = 44100


@pytest.fixture(scope="module")
def heavy():
    return ref.render("heavy", 0.2)


def _rms(x):
    return float(np.sqrt(np.mean(np.square(x))))


def test_heavy_level_is_sane(heavy):
    assert heavy.shape == (int(0.2 * SR),) and heavy.dtype == np.float64
    assert np.all(np.isfinite(heavy))
    # 100 lowpassed saws times 0.005: measured rms 0.058, peak 0.48 (all saws start at phase 0 together).
    assert 0.02 < _rms(heavy) < 0.2
    assert 0.1 < np.max(np.abs(heavy)) < 1.0


def test_heavy_is_lowpassed(heavy):
    power = np.abs(np.fft.rfft(heavy * np.hanning(len(heavy)))) ** 2
    freqs = np.fft.rfftfreq(len(heavy), 1 / SR)
    assert freqs[np.argmax(power)] < 2000
    # Saws at 55..105 Hz through lowpasses at 1000..1990 Hz: measured 99.3% of the power below 2 kHz.
    assert power[freqs < 2000].sum() / power.sum() > 0.98


@pytest.mark.parametrize("workload", ["heavy", "bus8x"])
def test_one_and_two_threads_agree(workload):
    one = ref.render(workload, 0.2, threads=1)
    two = ref.render(workload, 0.2, threads=2)
    np.testing.assert_allclose(two, one, rtol=0, atol=1e-9)


def test_partial_last_block():
    # 0.2 s is 8820 samples: 17 blocks and one of 116; the block size does not change the result.
    whole = ref.render("heavy", 0.2, block=512)
    other = ref.render("heavy", 0.2, block=300)
    np.testing.assert_allclose(other, whole, rtol=0, atol=1e-12)


@pytest.mark.parametrize("workload", ["heavy", "bus8x"])
def test_matches_phonon(workload):
    from phonon.engine.render import render_array

    phonon = render_array(all_workloads()[workload], seconds=0.2)[:, 0]
    # With the programs' own q (0.7) the hand-written loop is the engine's arithmetic: measured 4e-16.
    same_q = ref.render(workload, 0.2, q=0.7)
    np.testing.assert_allclose(same_q, phonon, rtol=0, atol=1e-9)
    # The reference proper uses q 0.707: measured relative rms difference 0.30% (heavy), 0.24% (bus8x),
    # correlation 0.999996.
    reference = ref.render(workload, 0.2)
    assert _rms(reference - phonon) / _rms(phonon) < 0.01
    assert np.corrcoef(reference, phonon)[0, 1] > 0.9999


def test_bus8x_echoes_after_a_quarter_second():
    seconds, d = 0.6, int(round(0.25 * SR))  # 11025 samples
    frames = int(seconds * SR)
    out = ref.render("bus8x", seconds)
    # The dry signal: the same 200 voices summed, times 0.005, with no delay.
    r = ref.Reference("bus8x")
    dry = np.zeros(frames)
    for start in range(0, frames, 512):
        view = dry[start : start + 512]
        ref.voices_block_1t(view, len(view), r.dt, r.a1, r.a2, r.a3, r.phase, r.ic1, r.ic2, r.acc)
    wet = out - 0.5 * dry  # what the delay adds: the mix-0.5 echo
    # Nothing before 0.25 s (up to rounding: the groups are scaled one by one, then summed).
    assert np.max(np.abs(wet[:d])) < 1e-12
    assert _rms(wet[d : 2 * d]) > 0.3 * _rms(dry)  # then the echo
    # Exactly: echo(t) = 0.5 * sum_k 0.5^(k-1) dry(t - k d), k >= 1 (feedback 0.5).
    expected = np.zeros(frames)
    k = 1
    while k * d < frames:
        expected[k * d :] += 0.5 * 0.5 ** (k - 1) * dry[: frames - k * d]
        k += 1
    np.testing.assert_allclose(wet, expected, rtol=0, atol=1e-12)
