"""Waveshaping and dynamics: `distortion`, `compressor`, `bitcrush`.

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

from graph.kinds import INPUT, MIX, Kind, Param, define, fields, function

_DB_TO_LN = math.log(10.0) / 20.0  # 10 ** (db / 20) == exp(db * _DB_TO_LN)


@nb.njit(cache=True, inline="always")
def distortion_step(sr, input, drive, mix):
    g = min(max(drive, _DRIVE_LO), _DRIVE_HI)
    m = min(max(mix, 0.0), 1.0)
    return input * (1.0 - m) + math.tanh(input * g) * m


@nb.njit(cache=True, nogil=True)
def compressor(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        x = arena[wiring[i, 1]]
        threshold = arena[wiring[i, 2]]
        ratio = arena[wiring[i, 3]]
        attack = arena[wiring[i, 4]]
        release = arena[wiring[i, 5]]
        makeup = arena[wiring[i, 6]]
        st = state[i]
        sr = st[0]
        env = st[ENV]
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
            level = abs(xn)
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
        st[ENV] = env


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
COMPRESSOR = define(
    Kind("compressor", ("input", *(p.name for p in _COMPRESSOR_PARAMS)), state=fields("env"), cost_ns=16.5,
         kernel=compressor,
         functions=tuple(function(n, "compressor", INPUT, *_COMPRESSOR_PARAMS, doc="peak compressor")
                         for n in ("compressor", "comp")),
         doc="peak compressor")
)  # fmt: skip
BITCRUSH = define(
    Kind("bitcrush", ("input", "bits", "rate"), state=fields("held", "countdown"), cost_ns=1.7, kernel=bitcrush,
         functions=(function("bitcrush", "bitcrush", INPUT, Param("bits", None, 1.0, 16.0),
                             Param("rate", None, 1.0, None, "hold each value this many samples"),
                             doc="quantise amplitude and hold samples"),),
         doc="quantise, hold each value `rate` samples")
)  # fmt: skip
(ENV,) = COMPRESSOR.columns("env")
HELD, COUNTDOWN = BITCRUSH.columns("held", "countdown")
