"""Voices in SIMD lanes: an oscillator (saw, square or tri) feeding a state-variable filter, many voices in one
kernel.

A batch kernel runs one voice at a time along the block, and the filter's recurrence makes each sample wait
for the one before. Voices are independent, so this kernel turns the loops around: the block outer, the
voices inner, with the state of every voice in its own small array (structure of arrays), so LLVM runs 8
voices per AVX-512 instruction; the saw's output never leaves a register.

The planner (graph/plan/schedule.py) gives it chains `saw -> svf` (graph/plan/lanes.py) where the svf is the
oscillator's only reader; `wave` says which oscillator, and each wave gets its own copy of the loops (a
literal in each inlined copy), the saw's hand-written for the lanes, the others' their kinds' own steps. Per
block, a voice whose frequency, cutoff and q hold one value over the block runs in the lanes; any other runs
the two batch kernels' arithmetic one voice at a time. Which path a voice takes depends on that voice alone,
and the lane arithmetic is plain IEEE (no contraction, no reassociation), so a voice computes the same numbers
whichever voices share its batch: parallel renders stay bit-identical to serial ones. Against the batch
kernels (which contract multiply-adds) it agrees to about 1e-15.

The planner may also hand it sums (`mix` nodes) that read these chains: a tile of lane outputs is summed
straight from the tile, so a voice whose filter feeds only a sum never writes its own arena row. Each sum
adds its inputs in the graph's order, exactly as the mix kernel does (bias, then gain times input, one input
after the other), so fusing a sum changes no bit of it. A sum that goes non-finite makes the lane voices
write their rows from that tile on, so the containment still finds (and names) the voice it came from.

Arguments: `constant` (bool per arena row: rows that never change), the oscillator batch's (wiring, state) and the
svf batch's, row i of each being one chain; the sums' (wiring, state) as the mix kernel takes them, with
`source[s, k]` the chain whose output is input k of sum s (-1: read the arena row), `owned[i]` true where
chain i's only reader is a fused sum (its row is not written) and `guarded[i]` true where chain i once went
non-finite (its non-finite samples are silenced before anything reads them); `wave` (WAVES); then the scratch
arrays of `osc_svf_scratch`."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from phonon.engine.kernels import flush, steady
from phonon.engine.kernels.arithmetic import BIAS
from phonon.engine.kernels.filters import IC1, IC2, MODE, _coefficients, _load, _mode_mix, _store, _tick
from phonon.engine.kernels.oscillators import PHASE, saw_step, square_step, tri_step

TILE = 16  # samples per pass over the voices: their outputs wait in a [TILE, voices] buffer
LANE_GROUP = 8  # lanes run in whole groups of this many (an AVX-512 register of float64), idle ones zeroed
LANE_FIELDS = 12  # rows of the structure of arrays: phase, dt (or freq), |dt|, 1/|dt|, ic1, ic2, a1, a2, a3, gx, gb, gl
WAVES = {"saw": 0, "square": 1, "tri": 2}  # the oscillators a lane kernel runs, by kind
SAW, SQUARE, TRI = WAVES["saw"], WAVES["square"], WAVES["tri"]


def osc_svf_scratch(voices: int) -> tuple[np.ndarray, ...]:
    """The arrays `osc_svf` works in for a batch of `voices` chains: lane indices, each chain's lane (-1 when
    it runs alone), state, output tile, one sum's tile."""
    lanes = -(-voices // LANE_GROUP) * LANE_GROUP
    return (
        np.zeros(voices, dtype=np.int64),
        np.zeros(voices, dtype=np.int64),
        np.zeros((LANE_FIELDS, lanes)),
        np.zeros((TILE, lanes)),
        np.zeros(TILE),
    )


@nb.njit(cache=True, inline="always")
def _steady(arena, constant, row: int, start: int, stop: int) -> bool:
    """The row holds one value over [start, stop) (a constant row always does)."""
    return constant[row] or steady(arena[row], start, stop)


@nb.njit(cache=True, inline="always")
def _silence(x, first: int, n: int) -> None:
    for k in range(first, first + n):
        if not math.isfinite(x[k]):
            x[k] = 0.0


@nb.njit(cache=True, inline="always")
def _write_lanes(arena, svf_wiring, lanes, count, tile, t0, m, owned, want: bool) -> None:
    """Lane outputs of this tile to their arena rows, for the chains whose `owned` is `want`."""
    for j in range(count):
        i = lanes[j]
        if owned[i] == want:
            out = arena[svf_wiring[i, 0], t0 : t0 + m]
            for n in range(m):
                out[n] = tile[n, j]


@nb.njit(cache=True, inline="always")
def _sum_tile(arena, sum_wiring, sum_state, source, pos, tile, acc, t0, m) -> float:
    """Every sum over samples [t0, t0 + m): inputs in the graph's order, from the tile where a lane holds
    them. Returns 0.0, or NaN where a sum went non-finite (x - x is NaN exactly for inf and NaN)."""
    check = 0.0
    for s in range(sum_wiring.shape[0]):
        bias = sum_state[s, BIAS]
        for n in range(m):
            acc[n] = bias
        for k in range(1, sum_wiring.shape[1]):
            row = sum_wiring[s, k]
            if row < 0:
                break
            g = sum_state[s, BIAS + k]
            i = source[s, k]
            p = pos[i] if i >= 0 else -1
            if p >= 0:
                for n in range(m):
                    acc[n] += g * tile[n, p]
            else:
                x = arena[row, t0 : t0 + m]
                for n in range(m):
                    acc[n] += g * x[n]
        out = arena[sum_wiring[s, 0], t0 : t0 + m]
        for n in range(m):
            out[n] = acc[n]
            check += acc[n] - acc[n]
    return check


@nb.njit(cache=True, inline="always")
def _wave_step(wave: int, sr: float, freq: float, phase: float) -> tuple:
    """One sample of the oscillator `wave`: its kind's own step (the batch kernel's arithmetic)."""
    if wave == SAW:
        return saw_step(sr, freq, phase)
    if wave == SQUARE:
        return square_step(sr, freq, phase)
    return tri_step(sr, freq, phase)


@nb.njit(cache=True, inline="always")
def _lane_tile(wave: int, sr: float, count: int, m: int, soa, tile) -> None:
    """m samples of every lane voice into tile[:m, :count]. Branch-free in the lanes, so LLVM vectorises them;
    `wave` is a literal in each inlined copy, so the branches on it fold away."""
    phase, dt, adt, inv, ic1, ic2 = soa[0], soa[1], soa[2], soa[3], soa[4], soa[5]
    a1, a2, a3, gx, gb, gl = soa[6], soa[7], soa[8], soa[9], soa[10], soa[11]
    for n in range(m):
        for j in range(count):
            if wave == SAW:  # by hand: 1 / |dt| kept per lane, so no division per sample
                p = phase[j]
                r = p * inv[j]  # inv = 1 / |dt| (inf for 0 Hz: then neither correction is selected)
                rising = r + r - r * r - 1.0
                r = (p - 1.0) * inv[j]
                falling = r * r + r + r + 1.0
                x = 2.0 * p - 1.0 - (rising if p < adt[j] else (falling if p > 1.0 - adt[j] else 0.0))
                p += dt[j]
                phase[j] = p - np.floor(p)  # the same number as the oscillators' wrap
            else:  # dt holds the frequency
                x, phase[j] = _wave_step(wave, sr, dt[j], phase[j])
            c1, c2 = ic1[j], ic2[j]
            v3 = x - c2
            v1 = a1[j] * c1 + a2[j] * v3
            v2 = c2 + a2[j] * c1 + a3[j] * v3
            ic1[j] = 2.0 * v1 - c1
            ic2[j] = 2.0 * v2 - c2
            tile[n, j] = gx[j] * x + gb[j] * v1 + gl[j] * v2


@nb.njit(cache=True, nogil=True, error_model="numpy")
def osc_svf(
    arena, constant, osc_wiring, osc_state, svf_wiring, svf_state, sum_wiring, sum_state, source, owned, guarded,
    wave, lanes, pos, soa, tile, acc, start, stop,
):
    if stop <= start:
        return
    voices = osc_wiring.shape[0]
    count = 0  # lanes[:count]: the voices that run in the lanes this block
    for i in range(voices):
        f, c, r = osc_wiring[i, 1], svf_wiring[i, 2], svf_wiring[i, 3]
        if _steady(arena, constant, f, start, stop) and _steady(arena, constant, c, start, stop) and _steady(
            arena, constant, r, start, stop
        ):
            lanes[count] = i
            pos[i] = count
            count += 1
        else:  # the batch kernels' arithmetic, one voice at a time
            pos[i] = -1
            out, freq = arena[svf_wiring[i, 0], start:stop], arena[f, start:stop]
            cutoff, q = arena[c, start:stop], arena[r, start:stop]
            phase = osc_state[i, PHASE]
            m = _mode_mix(svf_state[i, MODE])
            s = _load(svf_state[i])
            sr = svf_state[i, 0]
            for n in range(stop - start):
                x, phase = _wave_step(wave, osc_state[i, 0], freq[n], phase)
                out[n], s = _tick(x, _coefficients(cutoff[n], q[n], s, sr), m)
            if guarded[i]:
                _silence(out, 0, stop - start)
            osc_state[i, PHASE] = phase
            _store(svf_state[i], s)
    # Structure of arrays for the lane voices (rows of `soa`, made once by the planner: no allocation per block).
    phase, dt, adt, inv, ic1, ic2 = soa[0], soa[1], soa[2], soa[3], soa[4], soa[5]
    a1, a2, a3, gx, gb, gl = soa[6], soa[7], soa[8], soa[9], soa[10], soa[11]
    sr = osc_state[0, 0] if voices > 0 else 1.0  # every node of a schedule has the same rate
    for j in range(count):
        i = lanes[j]
        phase[j] = osc_state[i, PHASE]
        if wave == SAW:
            dt[j] = arena[osc_wiring[i, 1], start] * (1.0 / osc_state[i, 0])
            adt[j] = abs(dt[j])
            inv[j] = 1.0 / adt[j] if adt[j] > 0.0 else np.inf
        else:
            dt[j] = arena[osc_wiring[i, 1], start]
        m = _mode_mix(svf_state[i, MODE])
        s = _coefficients(arena[svf_wiring[i, 2], start], arena[svf_wiring[i, 3], start], _load(svf_state[i]), svf_state[i, 0])
        ic1[j], ic2[j], a1[j], a2[j], a3[j] = s[0], s[1], s[4], s[5], s[6]
        gx[j], gb[j], gl[j] = m[0], m[1] - m[2] * s[7], m[3]
        _store(svf_state[i], s)  # the coefficients, for the per-voice path of a later block
    # The lanes run in whole groups, so LLVM's loop over them leaves no voice to its scalar remainder loop
    # (which costs about 2.5 vector voices per voice). The idle lanes compute silence from zeros.
    width = min(-(-count // LANE_GROUP) * LANE_GROUP, soa.shape[1])
    soa[:, count:width] = 0.0
    spill = False  # from the tile where a sum went non-finite on, every lane writes its row
    t0 = start
    while t0 < stop:
        t1 = min(t0 + TILE, stop)
        if wave == SAW:  # one copy of the lanes per wave
            _lane_tile(SAW, sr, width, t1 - t0, soa, tile)
        elif wave == SQUARE:
            _lane_tile(SQUARE, sr, width, t1 - t0, soa, tile)
        else:
            _lane_tile(TRI, sr, width, t1 - t0, soa, tile)
        for j in range(count):
            if guarded[lanes[j]]:
                _silence(tile[:, j], 0, t1 - t0)
        _write_lanes(arena, svf_wiring, lanes, count, tile, t0, t1 - t0, owned, False)
        if _sum_tile(arena, sum_wiring, sum_state, source, pos, tile, acc, t0, t1 - t0) != 0.0:
            spill = True
        if spill:
            _write_lanes(arena, svf_wiring, lanes, count, tile, t0, t1 - t0, owned, True)
        t0 = t1
    for j in range(count):
        i = lanes[j]
        osc_state[i, PHASE] = phase[j]
        svf_state[i, IC1], svf_state[i, IC2] = flush(ic1[j]), flush(ic2[j])
