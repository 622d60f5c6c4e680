"""engine/kernels/lane_filters.py: the per-voice filters, 4 to 16 lanes a pass in registers (their coefficients per
lane, or per sample from a table), give every lane the samples of the scalar SVF step (`svf_step`) to the bit,
whatever the pass's width, the count or the lanes beside it, touch nothing outside their lanes and samples, and
keep their state across calls."""

import math

import numba as nb
import numpy as np
import pytest

from phonon.engine.kernels.filters import svf_coefficients, svf_step
from phonon.engine.kernels import FLUSH
from phonon.engine.kernels.lane_filters import BAND, HIGH, LOW, MAX_GROUPS, WORK_ROWS, filter_lanes

SR = 44100.0


def _pass(groups: int, out: int, varying: bool = False):
    """A jitted call of one pass (groups and out are literals there, as in engine/kernels/voices.py)."""

    @nb.njit
    def run(x, lane0, count, work, col0=0, table=None):
        filter_lanes(x, lane0, col0, count, work, table, groups, out)

    @nb.njit
    def run_varying(x, lane0, count, work, col0, table):
        filter_lanes(x, lane0, col0, count, work, table, groups, out)

    return run_varying if varying else run


def _reference(x: np.ndarray, lane0: int, lanes: int, count: int, work: np.ndarray, out: int, col0: int = 0,
               table: "np.ndarray | None" = None) -> None:
    """The scalar step, lane by lane, sample by sample (plain Python floats: the same IEEE operations)."""
    step = svf_step.py_func
    for lane in range(lane0, lane0 + lanes):
        a1, a2, a3, g0, g1, s1, s2 = (float(work[k, lane]) for k in range(WORK_ROWS))
        for q in range(count):
            if table is not None:
                a1, a2, a3 = (float(table[k, q, lane]) for k in range(3))
            v0 = float(x[lane, col0 + q])
            v1, v2, n1, n2 = step(v0, s1, s2, a1, a2, a3)
            y = (g0 * v0 + v2) if out == LOW else (v0 + g1 * v1 - v2) if out == HIGH else (g0 * v0 + g1 * v1)
            x[lane, col0 + q] = y
            s1 = n1 if abs(n1) > FLUSH else 0.0
            s2 = n2 if abs(n2) > FLUSH else 0.0
        work[5, lane], work[6, lane] = s1, s2


def _work(lanes: int, rng: np.random.Generator, filtered: float = 0.75) -> np.ndarray:
    """Coefficients of lowpasses at random cutoffs and qs, random state; a quarter of the lanes pass through."""
    work = np.zeros((WORK_ROWS, lanes))
    for lane in range(lanes):
        if rng.random() < filtered:
            work[0:3, lane] = svf_coefficients(rng.uniform(50.0, 15000.0), 1.0 / rng.uniform(0.5, 8.0), SR)
            work[3, lane], work[4, lane] = 0.0, rng.uniform(0.1, 2.0)
            work[5:7, lane] = rng.standard_normal(2) * 0.1
        else:
            work[3, lane] = 1.0
    return work


@pytest.mark.parametrize("groups, out", [(1, LOW), (2, LOW), (3, LOW), (4, LOW), (2, HIGH), (4, BAND)])
@pytest.mark.parametrize("count", [0, 1, 3, 4, 7, 64, 509])
def test_every_lane_is_the_scalar_filter_to_the_bit_and_nothing_else_moves(groups, out, count):
    rng = np.random.default_rng(groups * 1000 + out * 100 + count)
    rows, columns, lane0 = 4 * groups + 8, 520, 4
    x = rng.standard_normal((rows, columns))
    work = _work(rows, rng)
    expected_x, expected_work = x.copy(), work.copy()
    _reference(expected_x, lane0, 4 * groups, count, expected_work, out)
    _pass(groups, out)(x, lane0, count, work)
    np.testing.assert_array_equal(x, expected_x)  # the lanes' samples, and every other row and column unchanged
    np.testing.assert_array_equal(work, expected_work)  # the state written back, the coefficients untouched


@pytest.mark.parametrize("groups, out", [(1, LOW), (4, LOW), (3, HIGH)])
@pytest.mark.parametrize("col0, count", [(0, 64), (37, 61), (100, 3)])
def test_coefficients_from_a_table_change_on_their_sample(groups, out, col0, count):
    rng = np.random.default_rng(groups * 7 + col0 + count)
    rows, columns, lane0 = 4 * groups + 4, 200, 4
    x = rng.standard_normal((rows, columns))
    work = _work(rows, rng)
    table = np.zeros((3, 64, rows))
    for lane in range(rows):  # a new cutoff every 16 samples, a different phase per lane (as an envelope's)
        for q in range(64):
            table[:, q, lane] = svf_coefficients(200.0 * 2 ** (((q + 5 * lane) // 16) % 6), 1.0, SR)
    expected_x, expected_work = x.copy(), work.copy()
    _reference(expected_x, lane0, 4 * groups, count, expected_work, out, col0, table)
    _pass(groups, out, varying=True)(x, lane0, count, work, col0, table)
    np.testing.assert_array_equal(x, expected_x)
    np.testing.assert_array_equal(work, expected_work)


def test_state_carries_across_calls_so_chunks_never_show():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((16, 520))
    work = _work(16, rng)
    whole_x, whole_work = x.copy(), work.copy()
    run = _pass(MAX_GROUPS, LOW)
    run(whole_x, 0, 512, whole_work)
    at = 0
    for width in (197, 1, 314):  # the same samples in three calls, each from its own array's column 0
        piece = np.zeros((16, 520))
        piece[:, :width] = x[:, at : at + width]
        run(piece, 0, width, work)
        np.testing.assert_array_equal(piece[:, :width], whole_x[:, at : at + width])
        at += width
    np.testing.assert_array_equal(work, whole_work)


def test_a_lowpass_lane_keeps_the_low_tone_and_cuts_the_high_one():
    t = np.arange(8192) / SR
    x = np.zeros((4, 8192))
    x[0] = np.sin(2 * math.pi * 100.0 * t)
    x[1] = np.sin(2 * math.pi * 5000.0 * t)
    x[2] = x[1]  # passed through: g0 = 1, no coefficients
    work = np.zeros((WORK_ROWS, 4))
    for lane in (0, 1):
        work[0:3, lane] = svf_coefficients(500.0, 1.0 / 0.707, SR)
    work[3, 2:] = 1.0
    _pass(1, LOW)(x, 0, 8192, work)
    rms = np.sqrt(np.mean(x[:, 4096:] ** 2, axis=1))
    assert 20 * np.log10(rms[0] / (1 / np.sqrt(2))) > -0.5  # 100 Hz, well below 500: through
    assert 20 * np.log10(rms[1] / (1 / np.sqrt(2))) < -30.0  # 5 kHz, 3.3 octaves above: 12 dB/octave down
    assert rms[2] == pytest.approx(1 / np.sqrt(2), rel=1e-3)


def test_a_nan_does_not_stay_in_the_filter():
    x = np.zeros((4, 64))
    x[:, 10] = np.nan
    x[:, 11:] = 1.0
    work = np.zeros((WORK_ROWS, 4))
    work[0:3] = np.array(svf_coefficients(1000.0, 1.0, SR))[:, None]
    _pass(1, LOW)(x, 0, 64, work)
    assert np.isnan(x[:, 10]).all()
    assert np.isfinite(x[:, 11:]).all() and np.isfinite(work).all()


@pytest.mark.parametrize("lane0, col0, count", [(4, 0, 8), (-4, 0, 8), (0, 0, 521), (0, 500, 21), (0, -1, 8)])
def test_lanes_or_samples_outside_the_arrays_are_refused(lane0, col0, count):
    x = np.zeros((8, 520))
    work = np.zeros((WORK_ROWS, 8))
    with pytest.raises(IndexError, match="outside"):
        _pass(2, LOW)(x, lane0, count, work, col0)


def test_a_table_too_short_for_the_pass_is_refused():
    x, work, table = np.zeros((8, 520)), np.zeros((WORK_ROWS, 8)), np.zeros((3, 16, 8))
    with pytest.raises(IndexError, match="coefficients"):
        _pass(2, LOW, varying=True)(x, 0, 17, work, 0, table)
