"""The hand-written numba REFERENCE renderer for the voice workloads of DESIGN.md: what one tight loop
computes, with no graph, no scheduler and no runtime, so that Phonon's realtime factor has a yardstick.

    from benchmarks.reference import render, realtime_factor
    render("heavy", 1.0)               # mono float64, 44100 samples
    realtime_factor("extreme", 10.0, threads=2)

Workloads (benchmarks/workloads.py): voice i is a PolyBLEP saw at 55 * (1 + (i % 24) / 12) Hz through a TPT
SVF lowpass at 1000 + 10 * i Hz, q 0.707.
  heavy    100 voices summed, times 0.005.
  extreme  500 voices summed, times 0.005.
  bus8x    8 groups of 25 voices (voices 25 g .. 25 g + 24); each group's sum, times 0.005, goes through
           `delay 0.25 0.5` (0.25 s, feedback 0.5, mix 0.5), and the 8 delay outputs are summed.

The arithmetic is the engine's (engine/kernels/oscillators.py `saw`, engine/kernels/filters.py `svf` in
lowpass mode, engine/kernels/delays.py `delay`), written out by hand (the saw's phase step and PolyBLEP are
the engine's own inlined helpers, `advance_phase` and `_blep`), without fastmath:
  saw     out = 2 phase - 1 - blep(phase, dt), dt = freq * (1 / sr), phase advanced by dt and wrapped.
  svf     g = tan(pi fc / sr), k = 1 / q, a1 = 1 / (1 + g (g + k)), a2 = g a1, a3 = g a2, computed once per
          voice (the cutoff is constant); per sample v3 = x - ic2, v1 = a1 ic1 + a2 v3,
          v2 = ic2 + a2 ic1 + a3 v3, ic1 = 2 v1 - ic1, ic2 = 2 v2 - ic2, out = v2.
  delay   0.25 s at 44.1 kHz is exactly 11025 samples, so the line is an integer-sample ring buffer of
          exactly d = round(0.25 sr) samples (the engine snaps a delay within 1e-9 of an integer to it and
          reads one stored sample, no interpolation): delayed = buf[w] (written d samples ago),
          buf[w] = x + 0.5 delayed (flushed to 0 below 1e-30, as the engine does),
          out = x (1 - 0.5) + delayed 0.5. At a rate where 0.25 sr is not an integer the line rounds it.
Two differences from the Phonon programs, both deliberate: q is 0.707 (the programs say 0.7; the other
systems of DESIGN.md's comparison were run with 0.707), and the engine's SVF may contract multiply-adds
into FMAs (fastmath={"contract"}) where this code does not. The output is the mono sum; Phonon puts a mono
`out:` on both channels unchanged, so its left channel is comparable.

Each block (512 samples) is ONE call of one jitted kernel, which processes one voice at a time: the voice's
saw and filter run over the whole block in one loop and the voice is added into an accumulator, voices
in index order. The 2-thread kernels (parallel=True) split the voices (for bus8x: the groups) into two
halves with prange; each half is summed in index order into its own accumulator, and the two halves are
added in a fixed order (first + second), so the result does not depend on scheduling. It differs from
the 1-thread sum only by rounding (about 1e-16).

The 2-thread kernels fork and join once per block through numba's threading layer (GNU OpenMP here, whose
idle thread spins before it sleeps). Measured 2026-12 on the 2-core machines, heavy: quiet, 1 thread 52x,
2 threads 93-99x (OMP_WAIT_POLICY=passive 43-67x, NUMBA_THREADING_LAYER=workqueue 26-35x, so the default
is kept: it is the best a hand-written loop does). But with two other busy processes on the machine the
default 2-thread figure collapses to about 1x (each block's join waits out a scheduler time slice of the
descheduled thread) while 1 thread still makes 31x; passive waiting makes 31x there too. So a 2-thread
figure far below the 1-thread one means the machine was busy, not that the reference is slow.
"""

from __future__ import annotations

import math
import statistics
import time

import numba as nb
import numpy as np

from phonon.engine.kernels.oscillators import advance_phase, _blep  # the saw's phase step and PolyBLEP, inlined

Q = 0.707
GAIN = 0.005
VOICES = {"heavy": 100, "extreme": 500}
BUS_GROUPS, BUS_VOICES = 8, 25
DELAY_SECONDS, DELAY_FEEDBACK, DELAY_MIX = 0.25, 0.5, 0.5
WORKLOADS = ("heavy", "extreme", "bus8x")


def voice_frequency(i: int) -> float:
    return 55 * (1 + (i % 24) / 12)


def voice_cutoff(i: int) -> float:
    return float(1000 + 10 * i)


# ---------------------------------------------------------------------------------------------- kernels


@nb.njit(cache=True, inline="always")
def _voices_into(acc, n, lo, hi, dt, a1, a2, a3, phase, ic1, ic2):
    """acc[:n] = the sum of voices lo..hi-1 (in that order) over n samples; advances their state."""
    for s in range(n):
        acc[s] = 0.0
    for v in range(lo, hi):
        d = dt[v]
        adt = abs(d)
        c1, c2, c3 = a1[v], a2[v], a3[v]
        p, z1, z2 = phase[v], ic1[v], ic2[v]
        for s in range(n):
            x = 2.0 * p - 1.0 - _blep(p, adt)
            p = advance_phase(p, d)
            v3 = x - z2
            v1 = c1 * z1 + c2 * v3
            v2 = z2 + c2 * z1 + c3 * v3
            z1 = 2.0 * v1 - z1
            z2 = 2.0 * v2 - z2
            acc[s] += v2
        phase[v] = p
        ic1[v] = z1 if abs(z1) > 1e-30 else 0.0
        ic2[v] = z2 if abs(z2) > 1e-30 else 0.0


@nb.njit(cache=True, inline="always")
def _delay_add(out, acc, n, gain, buf, wpos, g, feedback, mix):
    """out[:n] += delay(acc[:n] * gain) for group g: an integer-sample ring buffer of len(buf[g])."""
    line = buf[g]
    size = line.shape[0]
    w = wpos[g]
    for s in range(n):
        x = acc[s] * gain
        delayed = line[w]
        y = x + feedback * delayed
        line[w] = y if abs(y) > 1e-30 else 0.0
        w += 1
        if w == size:
            w = 0
        out[s] += x * (1.0 - mix) + delayed * mix
    wpos[g] = w


@nb.njit(cache=True, nogil=True)
def voices_block_1t(out, n, dt, a1, a2, a3, phase, ic1, ic2, acc):
    """One block of a voices workload, one thread: out[:n] = (sum of all voices) * GAIN."""
    _voices_into(acc[0], n, 0, dt.shape[0], dt, a1, a2, a3, phase, ic1, ic2)
    for s in range(n):
        out[s] = acc[0, s] * GAIN


@nb.njit(cache=True, nogil=True, parallel=True)
def voices_block_2t(out, n, dt, a1, a2, a3, phase, ic1, ic2, acc):
    """One block, two threads: each half of the voices into acc[h]; out = (acc[0] + acc[1]) * GAIN."""
    voices = dt.shape[0]
    mid = voices // 2
    for h in nb.prange(2):
        lo = 0 if h == 0 else mid
        hi = mid if h == 0 else voices
        _voices_into(acc[h], n, lo, hi, dt, a1, a2, a3, phase, ic1, ic2)
    for s in range(n):
        out[s] = (acc[0, s] + acc[1, s]) * GAIN


@nb.njit(cache=True, inline="always")
def _groups_into(out, n, g_lo, g_hi, per_group, dt, a1, a2, a3, phase, ic1, ic2, acc, buf, wpos, fb, mix):
    """out[:n] = the sum over groups g_lo..g_hi-1 (in order) of delay(group sum * GAIN); acc is scratch."""
    for s in range(n):
        out[s] = 0.0
    for g in range(g_lo, g_hi):
        _voices_into(acc, n, g * per_group, (g + 1) * per_group, dt, a1, a2, a3, phase, ic1, ic2)
        _delay_add(out, acc, n, GAIN, buf, wpos, g, fb, mix)


@nb.njit(cache=True, nogil=True)
def bus_block_1t(out, n, per_group, dt, a1, a2, a3, phase, ic1, ic2, acc, buf, wpos, fb, mix):
    groups = buf.shape[0]
    _groups_into(out, n, 0, groups, per_group, dt, a1, a2, a3, phase, ic1, ic2, acc[0], buf, wpos, fb, mix)


@nb.njit(cache=True, nogil=True, parallel=True)
def bus_block_2t(out, n, per_group, dt, a1, a2, a3, phase, ic1, ic2, acc, buf, wpos, fb, mix):
    """Groups 0..G/2-1 on one thread, the rest on the other; halves added first + second."""
    groups = buf.shape[0]
    mid = groups // 2
    for h in nb.prange(2):
        lo = 0 if h == 0 else mid
        hi = mid if h == 0 else groups
        _groups_into(acc[2 + h], n, lo, hi, per_group, dt, a1, a2, a3, phase, ic1, ic2, acc[h], buf, wpos, fb, mix)
    for s in range(n):
        out[s] = acc[2, s] + acc[3, s]


# ---------------------------------------------------------------------------------------------- driver


class Reference:
    """The state of one workload; `process(dest)` renders the next len(dest) <= block samples into dest."""

    def __init__(self, workload: str, sr: int = 44100, block: int = 512, threads: int = 1, q: float = Q):
        if workload not in WORKLOADS:
            raise ValueError(f"unknown workload {workload!r}: one of {', '.join(WORKLOADS)}")
        if threads not in (1, 2):
            raise ValueError("threads must be 1 or 2")
        self.workload, self.sr, self.block, self.threads = workload, sr, block, threads
        voices = BUS_GROUPS * BUS_VOICES if workload == "bus8x" else VOICES[workload]
        inv_sr = 1.0 / sr
        self.dt = np.array([voice_frequency(i) * inv_sr for i in range(voices)])
        a1, a2, a3 = np.empty(voices), np.empty(voices), np.empty(voices)
        k = 1.0 / min(max(q, 0.5), 20.0)
        for i in range(voices):
            g = math.tan(math.pi * min(max(voice_cutoff(i), 20.0), 0.49 * sr) / sr)
            a1[i] = 1.0 / (1.0 + g * (g + k))
            a2[i] = g * a1[i]
            a3[i] = g * a2[i]
        self.a1, self.a2, self.a3 = a1, a2, a3
        self.phase, self.ic1, self.ic2 = np.zeros(voices), np.zeros(voices), np.zeros(voices)
        self.acc = np.zeros((4, block))
        if workload == "bus8x":
            size = max(1, int(round(DELAY_SECONDS * sr)))
            self.buf = np.zeros((BUS_GROUPS, size))
            self.wpos = np.zeros(BUS_GROUPS, dtype=np.int64)
        if threads == 2:
            nb.set_num_threads(min(2, nb.config.NUMBA_NUM_THREADS))

    def process(self, dest: np.ndarray) -> None:
        n = dest.shape[0]
        if self.workload == "bus8x":
            kernel = bus_block_2t if self.threads == 2 else bus_block_1t
            kernel(dest, n, BUS_VOICES, self.dt, self.a1, self.a2, self.a3, self.phase, self.ic1, self.ic2,
                   self.acc, self.buf, self.wpos, DELAY_FEEDBACK, DELAY_MIX)
        else:
            kernel = voices_block_2t if self.threads == 2 else voices_block_1t
            kernel(dest, n, self.dt, self.a1, self.a2, self.a3, self.phase, self.ic1, self.ic2, self.acc)


def render(workload: str, seconds: float, sr: int = 44100, block: int = 512, threads: int = 1, *,
           q: float = Q) -> np.ndarray:
    """The workload's mono output, float64, int(seconds * sr) samples, rendered block by block. `q` is for
    checks only: with q=0.7 (the programs' value) the result is Phonon's left channel up to rounding."""
    frames = int(seconds * sr)
    out = np.zeros(frames)
    ref = Reference(workload, sr, block, threads, q)
    for start in range(0, frames, block):
        ref.process(out[start : start + block])
    return out


def _timed(workload: str, seconds: float, sr: int, block: int, threads: int) -> float:
    """Wall seconds to render `seconds` of audio into one block buffer (set-up not timed, as in
    engine.bench.bench_program)."""
    frames = int(seconds * sr)
    ref = Reference(workload, sr, block, threads)
    dest = np.zeros(block)
    started = time.perf_counter()
    done = 0
    while done < frames:
        n = min(block, frames - done)
        ref.process(dest[:n])
        done += n
    return time.perf_counter() - started


def warm_up(workload: str, threads: int, sr: int = 44100, block: int = 512) -> None:
    """Load (or compile) the kernels and start numba's thread pool, so no timing includes them."""
    _timed(workload, 4 * block / sr, sr, block, threads)


def realtime_factor(workload: str, seconds: float, threads: int = 1, repeat: int = 3, sr: int = 44100,
                    block: int = 512) -> float:
    """Seconds of audio per wall second: the median of `repeat` timed renders, after a warm-up."""
    warm_up(workload, threads, sr, block)
    walls = [_timed(workload, seconds, sr, block, threads) for _ in range(repeat)]
    return seconds / statistics.median(walls)


if __name__ == "__main__":
    for name in WORKLOADS:
        for t in (1, 2):
            print(f"{name:<8} {t} thread(s): {realtime_factor(name, 5.0, t):7.1f}x")
