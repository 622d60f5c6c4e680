"""Delay lines: `delay` (feedback echo) and `chorus` (one modulated tap).

delay. State: w (the write position), then buffer[L] with L = int(DELAY_MAX_SECONDS * sr).
  Per sample: d = time * sr samples, clamped to [1, L]; a d within 1e-9 of an integer is snapped to it, so
  an integer delay reads exactly one stored sample (no interpolation smear) even when time * sr rounds to
  4409.999999999999. Otherwise the tap is linearly interpolated between floor(d) and floor(d) + 1.
      delayed = tap(d)                         (read before this sample is written)
      buf[w]  = x + feedback * delayed         (linear: no tanh, unlike the reference; fb clamped -2..2)
      out     = x * (1 - mix) + delayed * mix  (dry/wet crossfade, mix clamped 0..1)
  So an impulse through `delay 0.1 0 1` comes out once, at exactly 0.1 * sr samples, with amplitude exactly 1,
  and with feedback fb every further echo is fb times the previous one. The buffer holds the full 2 s that
  `time` may ask for (the reference allocated 1 s; Ambiguity 18).

chorus. State: w, lfo_phase, then buffer[L] with L = int(CHORUS_MAX_SECONDS * sr).
  d = 15 ms + sin(2 pi lfo_phase) * depth * 10 ms (5..25 ms), rate clamped 0.1..10 Hz, depth 0..1, mix 0..1;
  the tap is read with 4-point cubic Hermite interpolation (smoother under modulation than linear, which
  dulls the highs by up to 6 dB at half-sample offsets); out = x * (1 - mix) + wet * mix. The LFO starts at
  phase 0 (delay 15 ms) and its phase stays in [0, 1).

Buffer values are flushed to 0 below 1e-30 as they are written, so decaying feedback tails never go denormal.
"""

from __future__ import annotations

import math

import numba as nb

from phonon.engine.kernels import flush, steady
from phonon.graph.kinds import INPUT, MIX, Kind, Param, define, fields, function

_TWO_PI = 2.0 * math.pi
FEEDBACK_LIMIT = 2.0  # feedback above 1 is allowed (it grows); the engine contains what becomes inf
DELAY_MAX_SECONDS = 2.0
CHORUS_MAX_SECONDS = 0.05


@nb.njit(cache=True, inline="always")
def lfo_sin(phase: float) -> float:
    """sin(2 pi phase) for phase in [0, 1), by an odd Taylor polynomial to x**11 on the folded quarter wave:
    error below 6e-8 (6e-10 ms of chorus delay), about 4x cheaper than math.sin."""
    x = 0.5 - phase  # sin(2 pi phase) == sin(2 pi x), x in (-0.5, 0.5]
    if x > 0.25:
        x = 0.5 - x
    elif x < -0.25:
        x = -0.5 - x
    x *= _TWO_PI  # |x| <= pi / 2
    x2 = x * x
    return x * (1.0 + x2 * (-1.0 / 6.0 + x2 * (1.0 / 120.0 + x2 * (-1.0 / 5040.0 + x2 * (
        1.0 / 362880.0 + x2 * (-1.0 / 39916800.0))))))


# A sided kind's right node runs its LFO a quarter cycle ahead of the left one: a mono input spreads into a
# stereo image (stereo chorus, phaser and flanger); the left node is the mono effect it always was.
SIDE_LFO_OFFSET = 0.25


@nb.njit(cache=True, inline="always")
def side_lfo(phase: float, side: float) -> float:
    """lfo_sin of the phase, shifted by SIDE_LFO_OFFSET on the right side (side 1)."""
    q = phase + SIDE_LFO_OFFSET if side > 0.5 else phase
    return lfo_sin(q - 1.0 if q >= 1.0 else q)


@nb.njit(cache=True, inline="always")
def hermite_tap(buf, w, size, d):
    """The value d samples before the one at w (1 <= d <= size - 3), by 4-point cubic Hermite interpolation."""
    di = int(d)
    t = d - di
    j0 = w - di
    if j0 < 0:
        j0 += size
    jm = j0 + 1  # one sample newer
    if jm == size:
        jm = 0
    j1 = j0 - 1  # one older
    if j1 < 0:
        j1 += size
    j2 = j1 - 1  # two older
    if j2 < 0:
        j2 += size
    ym, y0, y1, y2 = buf[jm], buf[j0], buf[j1], buf[j2]
    c1 = 0.5 * (y1 - ym)
    c2 = ym - 2.5 * y0 + 2.0 * y1 - 0.5 * y2
    c3 = 0.5 * (y2 - ym) + 1.5 * (y0 - y1)
    return ((c3 * t + c2) * t + c1) * t + y0


@nb.njit(cache=True, inline="always")
def _samples(seconds, sr, size):
    """A delay time as (whole samples, fraction), within [1, size] and snapped to a near integer."""
    d = seconds * sr
    if not d >= 1.0:  # also catches NaN, so the index below is always in range
        d = 1.0
    elif d > size:
        d = float(size)
    r = math.floor(d + 0.5)
    if abs(d - r) < 1e-9:
        d = r
    di = int(d)
    return di, d - di


@nb.njit(cache=True, inline="always")
def _tap(buf, w, size, seconds, sr):
    """The value `seconds` ago (read before sample w is written), linearly interpolated."""
    di, frac = _samples(seconds, sr, size)
    j = w - di
    if j < 0:
        j += size
    delayed = buf[j]
    if frac > 0.0:
        j -= 1
        if j < 0:
            j += size
        delayed += frac * (buf[j] - delayed)
    return delayed


@nb.njit(cache=True, inline="always")
def _store(buf, w, size, x, feedback, delayed):
    """Write x + feedback * delayed at w; return the next write position."""
    fb = min(max(feedback, -FEEDBACK_LIMIT), FEEDBACK_LIMIT)
    v = x + fb * delayed
    buf[w] = flush(v)
    w += 1
    return 0 if w == size else w


@nb.njit(cache=True, inline="always")
def _held_block(buf, w, size, di, frac, fb, m, x, out, start, stop):
    """A block with time, feedback and mix held and a delay of at least the block: every tap reads a sample
    stored before the block, so the samples run in stretches without wrap-around that LLVM vectorises. The
    same arithmetic as the sample loop (`_tap`, `_store`), so the same numbers. Returns the write position."""
    n = start
    while n < stop:
        j = w - di
        if j < 0:
            j += size
        if frac > 0.0 and j == 0:  # the older tap wraps: one sample the long way
            delayed = buf[0] + frac * (buf[size - 1] - buf[0])
            xn = x[n]
            buf[w] = flush(xn + fb * delayed)
            out[n] = xn * (1.0 - m) + delayed * m
            w = 0 if w + 1 == size else w + 1
            n += 1
            continue
        run = min(stop - n, size - w, size - j)
        taps, older, stores = buf[j : j + run], buf[j - 1 : j - 1 + run], buf[w : w + run]
        xs, outs = x[n : n + run], out[n : n + run]
        if frac > 0.0:
            for k in range(run):
                delayed = taps[k]
                delayed += frac * (older[k] - delayed)
                stores[k] = flush(xs[k] + fb * delayed)
                outs[k] = xs[k] * (1.0 - m) + delayed * m
        else:
            for k in range(run):
                delayed = taps[k]
                stores[k] = flush(xs[k] + fb * delayed)
                outs[k] = xs[k] * (1.0 - m) + delayed * m
        w += run
        if w == size:
            w = 0
        n += run
    return w


@nb.njit(cache=True, inline="always")
def _line(st):
    """A delay's state row as (sr, buffer length, buffer view, write position)."""
    sr = st[0]
    size = int(DELAY_MAX_SECONDS * sr)
    return sr, size, st[DELAY_BUFFER : DELAY_BUFFER + size], int(st[DELAY_W])


@nb.njit(cache=True, nogil=True)
def delay(arena, wiring, state, start, stop):
    span = stop - start
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0], start:stop]
        x = arena[wiring[i, 1], start:stop]
        time = arena[wiring[i, 2], start:stop]
        feedback = arena[wiring[i, 3], start:stop]
        mix = arena[wiring[i, 4], start:stop]
        st = state[i]
        sr, size, buf, w = _line(st)
        if steady(time, 0, span) and steady(feedback, 0, span) and steady(mix, 0, span):
            di, frac = _samples(time[0], sr, size)
            if di >= span:
                fb = min(max(feedback[0], -FEEDBACK_LIMIT), FEEDBACK_LIMIT)
                m = min(max(mix[0], 0.0), 1.0)
                st[DELAY_W] = _held_block(buf, w, size, di, frac, fb, m, x, out, 0, span)
                continue
        for n in range(span):
            delayed = _tap(buf, w, size, time[n], sr)
            w = _store(buf, w, size, x[n], feedback[n], delayed)
            m = min(max(mix[n], 0.0), 1.0)
            out[n] = x[n] * (1.0 - m) + delayed * m
        st[DELAY_W] = w


# A delay that closes a feedback loop (mix 1, so out == delayed) runs in two phases per loop step: the taps
# first, from samples stored in earlier steps (the step is never longer than the delay), then the stores,
# once the rest of the loop has computed this step's input. Run back to back they equal `delay`.


@nb.njit(cache=True, nogil=True)
def delay_read(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        time = arena[wiring[i, 2]]
        sr, size, buf, w = _line(state[i])
        for n in range(start, stop):
            out[n] = _tap(buf, w, size, time[n], sr)
            w = 0 if w + 1 == size else w + 1


@nb.njit(cache=True, nogil=True)
def delay_write(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        x = arena[wiring[i, 1]]
        feedback = arena[wiring[i, 3]]
        st = state[i]
        sr, size, buf, w = _line(st)
        for n in range(start, stop):
            w = _store(buf, w, size, x[n], feedback[n], out[n])
        st[DELAY_W] = w


@nb.njit(cache=True, nogil=True)
def chorus(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        x = arena[wiring[i, 1]]
        rate = arena[wiring[i, 2]]
        depth = arena[wiring[i, 3]]
        mix = arena[wiring[i, 4]]
        st = state[i]
        sr = st[0]
        size = int(CHORUS_MAX_SECONDS * sr)
        buf = st[CHORUS_BUFFER : CHORUS_BUFFER + size]
        w = int(st[CHORUS_W])
        phase = st[CHORUS_PHASE]
        side = st[CHORUS_SIDE]
        inv_sr = 1.0 / sr
        base = 0.015 * sr
        swing = 0.010 * sr
        max_d = size - 3.0  # the Hermite taps reach floor(d) + 2
        for n in range(start, stop):
            v = x[n]
            buf[w] = flush(v)  # written first: the taps are >= 5 ms old
            dep = min(max(depth[n], 0.0), 1.0)
            d = base + side_lfo(phase, side) * dep * swing
            if not d >= 1.0:  # also catches NaN
                d = 1.0
            elif d > max_d:
                d = max_d
            wet = hermite_tap(buf, w, size, d)
            m = min(max(mix[n], 0.0), 1.0)
            out[n] = v * (1.0 - m) + wet * m
            w += 1
            if w == size:
                w = 0
            r = min(max(rate[n], _RATE_LO), _RATE_HI)
            phase += r * inv_sr
            phase -= math.floor(phase)
        st[CHORUS_W] = w
        st[CHORUS_PHASE] = phase


DELAY = define(
    Kind(
        "delay", ("input", "time", "feedback", "mix"),
        state=fields("w", buffer=lambda sr: int(DELAY_MAX_SECONDS * sr)), cost_ns=5.9,
        kernel=delay, phases={"read": delay_read, "write": delay_write},
        functions=(
            function("delay", "delay", INPUT, Param("time", None, 0.0, DELAY_MAX_SECONDS, "s"),
                     Param("feedback", 0.5, -FEEDBACK_LIMIT, FEEDBACK_LIMIT), MIX, doc="interpolated delay line, up to 2 s"),
        ),
        doc="up to 2 s, interpolated; out = dry (1-mix) + wet mix",
    )
)  # fmt: skip
_RATE = Param("rate", None, 0.1, 10.0, "Hz")
_RATE_LO, _RATE_HI = _RATE.lo, _RATE.hi
CHORUS = define(
    Kind(
        "chorus", ("input", "rate", "depth", "mix"), consts=("side",),
        state=fields("w", "phase", buffer=lambda sr: int(CHORUS_MAX_SECONDS * sr)), cost_ns=16.0, kernel=chorus,
        functions=(
            function("chorus", "chorus", INPUT, _RATE, Param("depth", None, 0.0, 1.0), Param("mix", 0.3, 0.0, 1.0),
                     sided=True, doc="modulated delay chorus, stereo (a mono input spreads)"),
        ),
        doc="modulated delay, stereo (the right side's LFO a quarter cycle ahead)",
    )
)  # fmt: skip
DELAY_W, DELAY_BUFFER = DELAY.columns("w", "buffer")
CHORUS_SIDE, CHORUS_W, CHORUS_PHASE, CHORUS_BUFFER = CHORUS.columns("side", "w", "phase", "buffer")
