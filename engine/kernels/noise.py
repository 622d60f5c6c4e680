"""Noise sources: white (`noise`), pink and brown.

Generator. Each node draws from a counter-based SplitMix64 stream: sample k of a node is
`mix64(key + (k + 1) * 0x9E3779B97F4A7C15)`, where `key = mix64(seed)` and `mix64` is SplitMix64's finaliser.
This is exactly the SplitMix64 sequence started at `key` (it passes BigCrush), so the only mutable state is
the sample counter k, an integer-valued float64 that stays exact up to 2**53 samples (6000+ years at 48 kHz).
Storing the 64-bit generator state itself in a float slot could not be lossless; a counter can, and it makes
the output of sample k independent of how the samples before it were split into calls. The same seed always
gives the same sequence; different seeds give unrelated sequences. The top 53 bits give a uniform value in
[0, 1), mapped exactly to a multiple of 2**-52 in [-1, 1).

Denormals. The pink and brown filter states are driven by a fresh full-scale white sample every sample; a
nonzero white sample is at least 2**-52 in magnitude, so these states cannot decay into the denormal range
and need no flushing (a flush would cost more than the filter itself).

State rows (const `seed` first):
    noise: [sr, seed, k]
    pink:  [sr, seed, k, b0, b1, b2, b3, b4, b5, b6]   (Paul Kellet's refined pink filter)
    brown: [sr, seed, k, y]                            (leaky, reflected random walk)
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from phonon.graph.kinds import Kind, define, fields, function

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_SEED_SALT = np.uint64(0x5851F42D4C957F2D)
_SIGN = np.uint64(1)
_S11 = np.uint64(11)
_S27 = np.uint64(27)
_S30 = np.uint64(30)
_S31 = np.uint64(31)
_TWO_POW_M52 = 2.0**-52

# Pink: Kellet's "refined" filter has a peak gain of about 9 for uniform white input; this scale puts its
# typical peak (about 5 standard deviations) near 1, like white noise.
PINK_SCALE = 0.11
# Brown: a one-pole leaky integrator with its corner at BROWN_CORNER_HZ (-6 dB/octave above it), scaled so
# that its RMS is BROWN_RMS at every sample rate, and kept inside [-1, 1] by reflecting a step that would
# leave it (rare: the bound is 4 standard deviations away).
BROWN_CORNER_HZ = 5.0
BROWN_RMS = 0.25
_WHITE_RMS = 1.0 / math.sqrt(3.0)


@nb.njit(cache=True, inline="always")
def _mix64(z):
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@nb.njit(cache=True, inline="always")
def _key(seed: float):
    """The stream key of a seed const (any finite float; its integer part counts, negatives differ)."""
    if not (abs(seed) < 4.0e15):  # also catches NaN
        seed = 0.0
    s = math.floor(seed)
    mag = np.uint64(abs(s))
    u = mag + mag  # 2|s| (+1 for negatives): injective on the integers
    if s < 0.0:
        u = u + _SIGN
    return _mix64(u ^ _SEED_SALT)


@nb.njit(cache=True, inline="always")
def _white(key, k: float) -> float:
    """Sample k (k = 0, 1, ...) of the stream `key`: uniform in [-1, 1)."""
    z = _mix64(key + (np.uint64(k) + _SIGN) * _GOLDEN)
    return float(z >> _S11) * _TWO_POW_M52 - 1.0


@nb.njit(cache=True, nogil=True)
def noise(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        st = state[i]
        key = _key(st[SEED])
        k = st[K]
        for n in range(start, stop):
            out[n] = _white(key, k)
            k += 1.0
        st[K] = k


@nb.njit(cache=True, nogil=True)
def pink(arena, wiring, state, start, stop):
    # Paul Kellet's refined pink filter (music-dsp archive): accurate to +-0.05 dB above 9.2 Hz at 44.1 kHz.
    # The pole positions are fixed, so at other rates the -3 dB/octave band shifts with the rate.
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        st = state[i]
        key = _key(st[SEED])
        k = st[K]
        b0, b1, b2, b3, b4, b5, b6 = st[B], st[B + 1], st[B + 2], st[B + 3], st[B + 4], st[B + 5], st[B + 6]
        for n in range(start, stop):
            w = _white(key, k)
            k += 1.0
            b0 = 0.99886 * b0 + w * 0.0555179
            b1 = 0.99332 * b1 + w * 0.0750759
            b2 = 0.96900 * b2 + w * 0.1538520
            b3 = 0.86650 * b3 + w * 0.3104856
            b4 = 0.55000 * b4 + w * 0.5329522
            b5 = -0.7616 * b5 - w * 0.0168980
            out[n] = (b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362) * PINK_SCALE
            b6 = w * 0.115926
        st[K] = k
        st[B], st[B + 1], st[B + 2], st[B + 3], st[B + 4], st[B + 5], st[B + 6] = b0, b1, b2, b3, b4, b5, b6


@nb.njit(cache=True, nogil=True)
def brown(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        st = state[i]
        sr = st[0]
        key = _key(st[SEED])
        k = st[K]
        y = st[Y]
        leak = math.exp(-2.0 * math.pi * BROWN_CORNER_HZ / sr)
        step = BROWN_RMS * math.sqrt(1.0 - leak * leak) / _WHITE_RMS
        for n in range(start, stop):
            s = step * _white(key, k)
            k += 1.0
            held = leak * y
            y = held + s
            if y > 1.0 or y < -1.0:
                # Reflect the step. |held| <= leak < 1, and the step only overshoots when held is within
                # `step` of the bound it crosses, so held - s stays inside [-1, 1].
                y = held - s
            out[n] = y
        st[K] = k
        st[Y] = y


# The seed is a const the compiler gives each node (from its position in the program: deterministic).
NOISE = define(
    Kind("noise", consts=("seed",), state=fields("k"), cost_ns=1.7, kernel=noise,
         functions=tuple(function(n, "noise", doc="white noise") for n in ("noise", "white_noise")),
         doc="white noise; deterministic")
)  # fmt: skip
PINK = define(
    Kind("pink", consts=("seed",), state=fields("k", b=7), cost_ns=4.9, kernel=pink,
         functions=tuple(function(n, "pink", doc="pink noise (-3 dB/octave)") for n in ("pink", "pink_noise")),
         doc="-3 dB/oct; deterministic")
)  # fmt: skip
BROWN = define(
    Kind("brown", consts=("seed",), state=fields("k", "y"), cost_ns=3.5, kernel=brown,
         functions=tuple(function(n, "brown", doc="brown noise (-6 dB/octave)") for n in ("brown", "brown_noise")),
         doc="-6 dB/oct; deterministic")
)  # fmt: skip
SEED, K = NOISE.columns("seed", "k")  # the same columns in all three
assert PINK.columns("seed", "k") == BROWN.columns("seed", "k") == (SEED, K)
(B,) = PINK.columns("b")
(Y,) = BROWN.columns("y")
