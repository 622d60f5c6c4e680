"""Waveshaping, dynamics and pitch: `distortion`, `compressor` (and its sidechain variant), `limiter`,
`bitcrush`, `pitchshift`.

distortion. No state. out = x * (1 - mix) + tanh(x * drive) * mix; drive clamped 1..100, mix 0..1.

compressor. State: env. Per sample, with the documented clamps (threshold -60..0 dB,
  ratio 1..20, attack 0.001..1 s, release 0.01..3 s, makeup 0..30 dB):
      level = |x|;  c = exp(-1 / (attack * sr)) if level > env else exp(-1 / (release * sr))
      env   = c * env + (1 - c) * level                       (peak follower, flushed below 1e-30)
      gain reduction (dB) = (20 log10 env - threshold) * (1 - 1 / ratio) when env is above the threshold
      out   = x * 10 ** ((makeup - gain reduction) / 20)      (makeup is applied at every level)
  A steady sine of peak A above the threshold therefore comes out (20 log10 A - thr)(1 - 1/ratio) dB quieter
  (plus makeup). The exp/log work is only redone when a parameter changes or the envelope is above the
  threshold (cached in locals, which depend on parameter values only: block-size independent).

sidechain_compressor. `compressor ... :sidechain ~bus` (the function's variant, graph.kinds.Function):
  the same arithmetic with level = |sidechain| instead of |x|, so the input is ducked while the sidechain
  is loud (`~pad # compressor -30 8 0.005 0.2 0 :sidechain ~kick`). Without `:sidechain`, or with the input
  itself, the compiler makes the plain `compressor` node: the same samples as before the sidechain existed.
  A stereo sidechain (or input) makes one node per channel, each channel detected on its own.

limiter. State: latency (samples; 0 until the first sample), w, count, head, queued, gain, sum, then
  lines[5 * (int(0.01 * sr) + 2)]. ceiling -60..0 dB (default -1), lookahead 0.001..0.01 s (default 5 ms),
  release 0.001..3 s (default 0.1). The output is the input delayed by L = round(lookahead * sr) samples
  (the latency, read once at the node's first sample and fixed from then on), times a gain:
      need[t]  = min(1, ceiling * (1 - 1e-12) / |x[t]|)     (what sample t needs to stay within the ceiling)
      held[t]  = min(need[t - L .. t])                       (a running minimum: a monotonic queue)
      gain[t]  = held[t] if held[t] < gain[t-1], else it rises toward held[t] by exp(-1 / (release * sr)),
                 never above it; rounded down to a multiple of 2**-40 (so the sum below is exact)
      out[t]   = x[t - L] * mean(gain[t - L .. t])
  Each gain in that mean had sample t - L in its window, so each is at most need[t - L]: the peak never
  exceeds the ceiling (the ceiling in force when the sample went in), and the gain is already down when
  the peak comes out (a linear ramp over the look-ahead; the mean is a box filter of L + 1 gains). A final
  clamp guards the ceiling; the gain alone keeps to it (tests count the samples the clamp would have
  caught: none). A signal within the ceiling passes exactly, delayed by L samples. Levels beyond 1e300 (and
  NaN) are silenced. Each channel of a stereo signal is limited on its own (no linked gain).

pitchshift. State: w, phase, then buffer[int(0.2 * sr) + 5]. semitones -24..24, window 0.01..0.2 s
  (default 0.05). ratio = 2 ** (semitones / 12). Two read taps, half a window apart, whose delays sweep
  through the window (d = 1 + phase * window * sr, phase += (1 - ratio) / (window * sr) per sample): a
  delay that shrinks by ratio - 1 samples per sample plays the input `ratio` times as fast (Doppler). Each
  tap is faded in and out with sin^2 / cos^2 of pi * phase (they sum to 1), so each tap's jump back through
  the window happens while it is silent. Taps are read by 4-point cubic Hermite interpolation. Latency
  (the mean delay) is about half a window; the crossfade adds a flutter at |ratio - 1| / window Hz.

bitcrush. State: held, countdown.
  Quantiser: q(x) = round(x * 2**(bits - 1)) / 2**(bits - 1), rounding half away from zero, bits clamped to
  1..16 (fractional bits allowed: the step 2**(1 - bits) glides). This is a `bits`-bit signed converter's
  step (2**bits steps across [-1, 1]); a full-scale [-1, 1] signal takes 2**bits + 1 values (the grid is
  symmetric, so the distortion is odd: no DC, no even harmonics). The reference's round(x * 2**bits) / 2**bits
  is the same grid with one more bit.
  Rate: the quantised input is sampled when the countdown reaches 0 and held while it runs: countdown += rate
  at each new sample, -1 per output sample. An integer rate R holds each value exactly R samples (sample 0,
  R, 2R, ... are taken); a fractional rate takes samples R apart on average. rate clamped to >= 1 (the
  reference's rate had no effect; Ambiguity 17).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from phonon.engine.kernels import flush
from phonon.engine.kernels.delays import hermite_tap, lfo_sin
from phonon.graph.kinds import INPUT, MIX, Kind, Param, define, fields, function

_DB_TO_LN = math.log(10.0) / 20.0  # 10 ** (db / 20) == exp(db * _DB_TO_LN)
_SAFETY = 1.0 - 1e-12  # the limiter aims this far below its ceiling: its rounding errors (1e-16) stay inside
_GRID = 2.0**40  # the limiter's gains are multiples of 1 / _GRID: a sum of up to 2**13 of them is exact
_INV_GRID = 1.0 / _GRID
_HUGE = 1e300  # beyond this a level needs no exact gain: it is silenced


@nb.njit(cache=True, inline="always")
def distortion_step(sr, input, drive, mix):
    g = min(max(drive, _DRIVE_LO), _DRIVE_HI)
    m = min(max(mix, 0.0), 1.0)
    return input * (1.0 - m) + math.tanh(input * g) * m


@nb.njit(cache=True, inline="always")
def _compress(out, x, detect, threshold, ratio, attack, release, makeup, sr, env, start, stop):
    """The compressor over [start, stop): the gain follows `detect` (x itself, or a sidechain) and is
    applied to x. Returns the envelope."""
    # Per-call caches of values derived from parameters (NaN never equals itself: computed on sample 1).
    last_att = math.nan
    last_rel = math.nan
    last_thr = math.nan
    last_mk = math.nan
    c_att = c_rel = thr_lin = mk_lin = 0.0
    for n in range(start, stop):
        att = min(max(attack[n], 0.001), 1.0)
        if att != last_att:
            last_att = att
            c_att = math.exp(-1.0 / (att * sr))
        rel = min(max(release[n], 0.01), 3.0)
        if rel != last_rel:
            last_rel = rel
            c_rel = math.exp(-1.0 / (rel * sr))
        thr = min(max(threshold[n], -60.0), 0.0)
        if thr != last_thr:
            last_thr = thr
            thr_lin = math.exp(thr * _DB_TO_LN)
        mk = min(max(makeup[n], 0.0), 30.0)
        if mk != last_mk:
            last_mk = mk
            mk_lin = math.exp(mk * _DB_TO_LN)
        xn = x[n]
        level = abs(detect[n])
        c = c_att if level > env else c_rel
        env = c * env + (1.0 - c) * level
        if env < 1e-30:
            env = 0.0
        if env > thr_lin:
            slope = 1.0 - 1.0 / min(max(ratio[n], 1.0), 20.0)
            # (env/thr)^(-slope) == 10^(-(env_dB - thr) * slope / 20)
            out[n] = xn * mk_lin * math.exp(-slope * math.log(env / thr_lin))
        else:
            out[n] = xn * mk_lin
    return env


@nb.njit(cache=True, nogil=True)
def compressor(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        x = arena[wiring[i, 1]]
        st = state[i]
        st[ENV] = _compress(
            arena[wiring[i, 0]], x, x, arena[wiring[i, 2]], arena[wiring[i, 3]], arena[wiring[i, 4]],
            arena[wiring[i, 5]], arena[wiring[i, 6]], st[0], st[ENV], start, stop,
        )


@nb.njit(cache=True, nogil=True)
def sidechain_compressor(arena, wiring, state, start, stop):
    """The compressor whose detector follows its last input (the sidechain) instead of the input."""
    for i in range(wiring.shape[0]):
        st = state[i]
        st[ENV] = _compress(
            arena[wiring[i, 0]], arena[wiring[i, 1]], arena[wiring[i, 7]], arena[wiring[i, 2]], arena[wiring[i, 3]],
            arena[wiring[i, 4]], arena[wiring[i, 5]], arena[wiring[i, 6]], st[0], st[ENV], start, stop,
        )


@nb.njit(cache=True, nogil=True)
def limiter(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        _limit(arena[wiring[i, 0]], arena[wiring[i, 1]], arena[wiring[i, 2]], arena[wiring[i, 3]],
               arena[wiring[i, 4]], state[i], start, stop, True)  # fmt: skip


@nb.njit(cache=True, inline="always")
def _limit(out, x, ceiling, lookahead, release, st, start, stop, guard):
    """The limiter over [start, stop). `guard` is the final clamp (tests run without it, to show that the
    gain alone keeps every sample within the ceiling). Returns how many samples exceeded the ceiling before
    the guard (clamped, with the guard)."""
    sr = st[0]
    cap = _limiter_capacity(sr)
    lines = st[LIMITER_LINES : LIMITER_LINES + 5 * cap]
    latency = int(st[LIMITER_LATENCY])
    if latency == 0:  # the node's first sample: the look-ahead (so the latency) is fixed from here on
        la = min(max(lookahead[start], _LOOKAHEAD_LO), _LOOKAHEAD_HI)
        if not la >= _LOOKAHEAD_LO:  # NaN
            la = _LOOKAHEAD_LO
        latency = min(max(int(math.floor(la * sr + 0.5)), 1), cap - 1)
        st[LIMITER_LATENCY] = latency
        st[LIMITER_GAIN] = 1.0
        st[LIMITER_SUM] = latency + 1.0
        lines[2 * cap : 2 * cap + latency + 1] = 1.0  # the gains of the (silent) samples before the first
    m = latency + 1  # window: the sample that comes out now and the `latency` samples after it
    xs = lines[0:m]  # the input, delayed
    cs = lines[cap : cap + m]  # the ceiling each sample entered with (the guard's)
    gs = lines[2 * cap : 2 * cap + m]  # the smoothed gains of the window, summed in `total`
    dv = lines[3 * cap : 3 * cap + m]  # the window's running minimum: a monotonic queue of required gains
    di = lines[4 * cap : 4 * cap + m]  # ... and the sample counts they were required at
    w = int(st[LIMITER_W])
    count = st[LIMITER_COUNT]
    head = int(st[LIMITER_HEAD])
    queued = int(st[LIMITER_QUEUED])
    gain = st[LIMITER_GAIN]
    total = st[LIMITER_SUM]
    last_ceiling = last_release = math.nan
    c_lin = c_safe = c_rel = 0.0
    clamped = 0
    for n in range(start, stop):
        c = min(max(ceiling[n], _CEILING_LO), _CEILING_HI)
        if c != last_ceiling:
            last_ceiling = c
            c_lin = math.exp(c * _DB_TO_LN)
            c_safe = c_lin * _SAFETY
        rel = min(max(release[n], _LIMIT_RELEASE_LO), _LIMIT_RELEASE_HI)
        if rel != last_release:
            last_release = rel
            c_rel = math.exp(-1.0 / (rel * sr))
        xn = flush(x[n])
        # the gain this sample needs to stay within the ceiling (0 for what no gain can bring down)
        level = abs(xn)
        need = 1.0
        if level > c_safe:
            need = c_safe / level if level <= _HUGE else 0.0
            if need < 1e-30:
                need = 0.0
        elif not level <= c_safe:  # NaN
            need = 0.0
        # the minimum of the needs over the window [count - latency, count]
        if queued > 0 and di[head] <= count - m:
            head = head + 1 if head + 1 < m else 0
            queued -= 1
        while queued > 0:
            j = head + queued - 1
            if dv[j - m if j >= m else j] < need:
                break
            queued -= 1
        j = head + queued
        if j >= m:
            j -= m
        dv[j] = need
        di[j] = count
        queued += 1
        held = dv[head]
        # release: down at once to the held minimum, back up exponentially, never above it
        if held < gain:
            gain = held
        else:
            gain = min(held - c_rel * (held - gain), held)
        # on a 2**-40 grid, rounded down: the window's sum is exact (no drift) and never above the true gain
        g = math.floor(gain * _GRID) * _INV_GRID
        total += g - gs[w]
        gs[w] = g
        xs[w] = xn
        cs[w] = c_lin
        # the oldest sample of the window comes out, times the window's mean gain: every gain in the window
        # is at most that sample's need (it was in each one's window), so the product is within the ceiling
        r = w + 1 if w + 1 < m else 0
        y = xs[r] * (total / m)
        top = cs[r]
        if abs(y) > top:  # never, by the argument above: a guard against what it did not foresee
            clamped += 1
            if guard:
                y = top if y > 0.0 else -top
        out[n] = y
        w = r
        count += 1.0
    st[LIMITER_W] = w
    st[LIMITER_COUNT] = count
    st[LIMITER_HEAD] = head
    st[LIMITER_QUEUED] = queued
    st[LIMITER_GAIN] = gain
    st[LIMITER_SUM] = total
    return clamped


@nb.njit(cache=True, nogil=True)
def limit_unguarded(out, x, ceiling, lookahead, release, st, start, stop):
    """The limiter without its final clamp (for the tests): returns how many samples the clamp would have
    caught, with `out` the unclamped output."""
    return _limit(out, x, ceiling, lookahead, release, st, start, stop, False)


@nb.njit(cache=True, inline="always")
def _limiter_capacity(sr):
    return int(_LOOKAHEAD_HI * sr) + 2


@nb.njit(cache=True, nogil=True)
def pitchshift(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        x = arena[wiring[i, 1]]
        semitones = arena[wiring[i, 2]]
        window = arena[wiring[i, 3]]
        st = state[i]
        sr = st[0]
        size = _pitch_size(sr)
        buf = st[PITCH_BUFFER : PITCH_BUFFER + size]
        w = int(st[PITCH_W])
        phase = st[PITCH_PHASE]
        last_semi = math.nan
        ratio = 1.0
        for n in range(start, stop):
            buf[w] = flush(x[n])  # written first: the taps are at least 1 sample old
            span = min(max(window[n], _WINDOW_LO), _WINDOW_HI) * sr
            if not span >= 1.0:  # NaN
                span = 1.0
            # two taps half a window apart, each delay sweeping the window at the rate that plays it back
            # `ratio` times as fast, each faded out (sin^2) where its sweep jumps back
            d = 1.0 + phase * span
            p2 = phase + 0.5
            if p2 >= 1.0:
                p2 -= 1.0
            s = lfo_sin(0.5 * phase)  # sin(pi phase)
            a = hermite_tap(buf, w, size, d)
            b = hermite_tap(buf, w, size, 1.0 + p2 * span)
            out[n] = b + (a - b) * (s * s)
            w += 1
            if w == size:
                w = 0
            semi = min(max(semitones[n], _SEMITONES_LO), _SEMITONES_HI)
            if semi != last_semi:
                last_semi = semi
                ratio = 2.0 ** (semi / 12.0)
            phase += (1.0 - ratio) / span
            phase -= math.floor(phase)
            if not 0.0 <= phase < 1.0:  # NaN, or a rounding to 1.0
                phase = 0.0
        st[PITCH_W] = w
        st[PITCH_PHASE] = phase


@nb.njit(cache=True, inline="always")
def _pitch_size(sr):
    return int(_WINDOW_HI * sr) + 5  # the window's sweep, and the Hermite taps around it


@nb.njit(cache=True, nogil=True)
def bitcrush(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        x = arena[wiring[i, 1]]
        bits = arena[wiring[i, 2]]
        rate = arena[wiring[i, 3]]
        st = state[i]
        held = st[HELD]
        countdown = st[COUNTDOWN]
        last_bits = math.nan
        scale = 1.0
        for n in range(start, stop):
            if countdown <= 0.0:
                b = min(max(bits[n], 1.0), 16.0)
                if b != last_bits:
                    last_bits = b
                    scale = 2.0 ** (b - 1.0)
                v = x[n] * scale
                q = np.floor(abs(v) + 0.5)  # a float: NaN stays NaN (math.floor would wrap it)
                held = (q if v >= 0.0 else -q) / scale
                r = rate[n]
                if not r >= 1.0:  # also catches NaN
                    r = 1.0
                countdown += r
            out[n] = held
            countdown -= 1.0
        st[HELD] = held
        st[COUNTDOWN] = countdown


_DRIVE = Param("drive", None, 1.0, 100.0)
_DRIVE_LO, _DRIVE_HI = _DRIVE.lo, _DRIVE.hi
DISTORTION = define(
    Kind("distortion", ("input", "drive", "mix"), cost_ns=12.6, step=distortion_step,
         functions=tuple(function(n, "distortion", INPUT, _DRIVE, MIX, doc="tanh waveshaper")
                         for n in ("distortion", "dist", "distort")),
         doc="tanh waveshaper")
)  # fmt: skip
_COMPRESSOR_PARAMS = (
    Param("threshold", None, -60.0, 0.0, "dB"),
    Param("ratio", None, 1.0, 20.0),
    Param("attack", None, 0.001, 1.0, "s"),
    Param("release", None, 0.01, 3.0, "s"),
    Param("makeup", None, 0.0, 30.0, "dB"),
)
_SIDECHAIN = Param("sidechain", doc="the signal the detector follows (default: the input itself)", same_as="input")
COMPRESSOR = define(
    Kind("compressor", ("input", *(p.name for p in _COMPRESSOR_PARAMS)), state=fields("env"), cost_ns=16.5,
         kernel=compressor,
         functions=tuple(function(n, "compressor", INPUT, *_COMPRESSOR_PARAMS, _SIDECHAIN, doc="peak compressor",
                                  variants={"sidechain": "sidechain_compressor"})
                         for n in ("compressor", "comp")),
         doc="peak compressor; `:sidechain ~bus` ducks by another signal")
)  # fmt: skip
# made by `compressor ... :sidechain ~bus` (a function's variant, so it has no function of its own)
SIDECHAIN_COMPRESSOR = define(
    Kind("sidechain_compressor", (*COMPRESSOR.inputs, "sidechain"), state=fields("env"), cost_ns=16.5,
         kernel=sidechain_compressor, doc="peak compressor whose detector follows the sidechain")
)  # fmt: skip
_CEILING = Param("ceiling", -1.0, -60.0, 0.0, "dB, the output's peak never exceeds it")
_LOOKAHEAD = Param("lookahead", 0.005, 0.001, 0.01, "s, also the latency; fixed at the node's first sample")
_LIMIT_RELEASE = Param("release", 0.1, 0.001, 3.0, "s")
_CEILING_LO, _CEILING_HI = _CEILING.lo, _CEILING.hi
_LOOKAHEAD_LO, _LOOKAHEAD_HI = _LOOKAHEAD.lo, _LOOKAHEAD.hi
_LIMIT_RELEASE_LO, _LIMIT_RELEASE_HI = _LIMIT_RELEASE.lo, _LIMIT_RELEASE.hi
LIMITER = define(
    Kind("limiter", ("input", "ceiling", "lookahead", "release"),
         state=fields("latency", "w", "count", "head", "queued", "gain", "sum",
                      lines=lambda sr: 5 * _limiter_capacity(sr)),
         cost_ns=12.0, kernel=limiter,
         functions=(function("limiter", "limiter", INPUT, _CEILING, _LOOKAHEAD, _LIMIT_RELEASE,
                             doc="look-ahead peak limiter"),),
         doc="look-ahead peak limiter: peaks never exceed `ceiling`; delays by `lookahead`")
)  # fmt: skip
_SEMITONES = Param("semitones", None, -24.0, 24.0)
_WINDOW = Param("window", 0.05, 0.01, 0.2, "s")
_SEMITONES_LO, _SEMITONES_HI = _SEMITONES.lo, _SEMITONES.hi
_WINDOW_LO, _WINDOW_HI = _WINDOW.lo, _WINDOW.hi
PITCHSHIFT = define(
    Kind("pitchshift", ("input", "semitones", "window"), state=fields("w", "phase", buffer=_pitch_size),
         cost_ns=20.0, kernel=pitchshift,
         functions=(function("pitchshift", "pitchshift", INPUT, _SEMITONES, _WINDOW,
                             doc="delay-line pitch shifter"),),
         doc="two crossfaded delay taps sweeping a `window` (Doppler); latency about window / 2")
)  # fmt: skip
BITCRUSH = define(
    Kind("bitcrush", ("input", "bits", "rate"), state=fields("held", "countdown"), cost_ns=1.7, kernel=bitcrush,
         functions=(function("bitcrush", "bitcrush", INPUT, Param("bits", None, 1.0, 16.0),
                             Param("rate", None, 1.0, None, "hold each value this many samples"),
                             doc="quantise amplitude and hold samples"),),
         doc="quantise, hold each value `rate` samples")
)  # fmt: skip
(ENV,) = COMPRESSOR.columns("env")
assert SIDECHAIN_COMPRESSOR.columns("env") == (ENV,)
LIMITER_LATENCY, LIMITER_W, LIMITER_COUNT, LIMITER_HEAD, LIMITER_QUEUED, LIMITER_GAIN, LIMITER_SUM, LIMITER_LINES = (
    LIMITER.columns("latency", "w", "count", "head", "queued", "gain", "sum", "lines")
)
PITCH_W, PITCH_PHASE, PITCH_BUFFER = PITCHSHIFT.columns("w", "phase", "buffer")
HELD, COUNTDOWN = BITCRUSH.columns("held", "countdown")
