"""Envelopes: `adsr` (cycle-locked) and `env` (free-running). They output the envelope itself; the compiler
multiplies the chained signal by it. attack, decay and release are seconds (clamped >= 0), sustain is a level
(clamped 0..1); all four are read per sample.

Gate shape, t seconds after the trigger:
    ads(t) = t / attack                                   for t < attack   (0 at the trigger, 1 at t = attack)
           = 1 - (1 - sustain) * (t - attack) / decay     for t < attack + decay
           = sustain                                      afterwards
A zero attack starts at 1; a zero decay jumps to sustain.

adsr. State: cps (a const), n (the absolute sample counter, an exact integer in a float).
  Sample n lies in cycle floor(n * cps / sr); a cycle starts at the first sample whose cycle number is greater
  than the previous sample's (sample 0 starts cycle 0). With s0 the start sample of n's cycle and s1 the
  start sample of the next cycle:
      out = ads((n - s0) / sr) * min(1, (s1 - n) / (release * sr))
  The release is a linear fade that ends exactly at s1, where the next cycle retriggers from 0: it begins
  `release` seconds before the end of the cycle (cycle_len - release), from whatever level the gate shape
  has there. When attack + decay end before it (the usual case) this is the classic release from the sustain
  level; when they overlap, the product still falls smoothly to 0 at the cycle end, and a release longer
  than the cycle gives an attack-release swell instead of silence. release 0 means no fade (a hard cut at the
  cycle end).

env. State: n. out = ads(n / sr): the gate is always on, so the release is never reached.
"""

from __future__ import annotations

import math

import numba as nb

from phonon.graph.kinds import Kind, Param, define, fields, function


@nb.njit(cache=True, inline="always")
def ads_level(t: float, a: float, d: float, s: float) -> float:
    """The attack-decay-sustain curve at time t (a zero attack starts at 1, a zero decay jumps to s)."""
    if t < a:
        return t / a
    t -= a
    if t < d:
        return 1.0 - (1.0 - s) * (t / d)
    return s


@nb.njit(cache=True, inline="always")
def _cycle_of(n: float, cps: float, sr: float) -> float:
    return math.floor(n * cps / sr)


@nb.njit(cache=True, nogil=True)
def _cycle_start(k: float, cps: float, sr: float) -> float:
    """The first sample n >= 0 with floor(n * cps / sr) >= k (n * cps / sr is monotonic in n)."""
    g = math.ceil(k * sr / cps)
    if g < 0.0:
        g = 0.0
    while g > 0.0 and _cycle_of(g - 1.0, cps, sr) >= k:
        g -= 1.0
    while _cycle_of(g, cps, sr) < k:
        g += 1.0
    return g


@nb.njit(cache=True, nogil=True)
def adsr(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        attack = arena[wiring[i, 1]]
        decay = arena[wiring[i, 2]]
        sustain = arena[wiring[i, 3]]
        release = arena[wiring[i, 4]]
        st = state[i]
        sr = st[0]
        cps = st[ADSR_CPS]
        if not cps >= 1e-9:  # also catches NaN
            cps = 1e-9
        cnt = st[ADSR_N]
        s0 = -1.0
        s1 = -1.0  # forces the cycle lookup on the first sample
        for n in range(start, stop):
            if cnt >= s1:
                k = _cycle_of(cnt, cps, sr)
                s0 = _cycle_start(k, cps, sr)
                s1 = _cycle_start(k + 1.0, cps, sr)
            a = max(attack[n], 0.0)
            d = max(decay[n], 0.0)
            s = min(max(sustain[n], 0.0), 1.0)
            r = max(release[n], 0.0) * sr  # in samples
            e = ads_level((cnt - s0) / sr, a, d, s)
            left = s1 - cnt
            if left < r:
                e *= left / r
            out[n] = e
            cnt += 1.0
        st[ADSR_N] = cnt


@nb.njit(cache=True, inline="always")
def env_step(sr, attack, decay, sustain, release, n):
    a = max(attack, 0.0)
    d = max(decay, 0.0)
    s = min(max(sustain, 0.0), 1.0)
    return ads_level(n / sr, a, d, s), n + 1.0


_ADSR_PARAMS = (
    Param("attack", None, 0.0, None, "s"),
    Param("decay", None, 0.0, None, "s"),
    Param("sustain", 0.7, 0.0, 1.0, "level"),
    Param("release", 0.2, 0.0, None, "s"),
)
_INPUTS = tuple(p.name for p in _ADSR_PARAMS)
ADSR = define(
    Kind("adsr", _INPUTS, consts=("cps",), state=fields("n"), cost_ns=2.2, kernel=adsr,
         functions=(function("adsr", "adsr", *_ADSR_PARAMS, chain="multiply", doc="envelope retriggered every cycle"),),
         doc="envelope retriggered every cycle; `x # adsr ...` multiplies")
)  # fmt: skip
ENV = define(
    Kind("env", _INPUTS, state=fields("n"), cost_ns=1.4, step=env_step,
         functions=(function("env", "env", *_ADSR_PARAMS, chain="multiply", doc="free-running envelope, gate always on"),),
         doc="free-running envelope with the gate always on (release unused); `x # env ...` multiplies")
)  # fmt: skip
ADSR_CPS, ADSR_N = ADSR.columns("cps", "n")
