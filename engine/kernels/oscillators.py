"""Oscillators. State: the phase, in cycles, in [0, 1); frequency is read per sample, so any signal can
modulate it (audio-rate FM). Saw, square and pulse are band-limited with PolyBLEP."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from phonon.graph.kinds import FREQ, Kind, Param, define, fields, function

_TWO_PI = 2.0 * math.pi


@nb.njit(cache=True, inline="always")
def advance_phase(phase: float, dt: float) -> float:
    phase += dt
    if phase >= 1.0:  # a predictable branch is cheaper than floor on every sample
        phase -= 1.0
        if phase >= 1.0:
            phase -= np.floor(phase)  # a float: math.floor goes through int64 and wraps for huge phases
    elif phase < 0.0:
        phase -= np.floor(phase)
    return phase


@nb.njit(cache=True, inline="always")
def _blep(t: float, dt: float) -> float:
    """PolyBLEP residual for a unit step at phase 0, for phase t in [0, 1) and increment dt >= 0 (cycles).
    With dt == 0 neither branch is taken, so there is no division by zero."""
    if t < dt:
        x = t / dt
        return x + x - x * x - 1.0
    if t > 1.0 - dt:
        x = (t - 1.0) / dt
        return x * x + x + x + 1.0
    return 0.0


@nb.njit(cache=True, inline="always")
def _pulse_sample(phase: float, dt: float, width: float) -> float:
    value = 1.0 if phase < width else -1.0
    down = phase - width
    if down < 0.0:
        down += 1.0
    return value + _blep(phase, dt) - _blep(down, dt)


@nb.njit(cache=True, inline="always")
def sine_step(sr, freq, phase):
    return math.sin(_TWO_PI * phase), advance_phase(phase, freq * (1.0 / sr))


@nb.njit(cache=True, inline="always")
def saw_step(sr, freq, phase):
    dt = freq * (1.0 / sr)
    return 2.0 * phase - 1.0 - _blep(phase, abs(dt)), advance_phase(phase, dt)


@nb.njit(cache=True, inline="always")
def square_step(sr, freq, phase):
    inv_sr = 1.0 / sr
    return _pulse_sample(phase, abs(freq) * inv_sr, 0.5), advance_phase(phase, freq * inv_sr)


@nb.njit(cache=True, inline="always")
def pulse_step(sr, freq, width, phase):
    inv_sr = 1.0 / sr
    w = min(max(width, _WIDTH_LO), _WIDTH_HI)
    return _pulse_sample(phase, abs(freq) * inv_sr, w), advance_phase(phase, freq * inv_sr)


@nb.njit(cache=True, inline="always")
def tri_step(sr, freq, phase):
    # Naive triangle: its harmonics fall as 1/n^2, so aliasing is already far below a naive saw's.
    return 4.0 * phase - 1.0 if phase < 0.5 else 3.0 - 4.0 * phase, advance_phase(phase, freq * (1.0 / sr))


@nb.njit(cache=True, inline="always")
def impulse_step(sr, freq, phase, started):
    # An impulse on the first sample, then one each time the phase wraps.
    if started == 0.0:
        out = 1.0
        started = 1.0
    elif phase >= 1.0:
        out = 1.0
        phase -= np.floor(phase)
    else:
        out = 0.0
    return out, phase + max(freq, 0.0) * (1.0 / sr), started


PULSE_WIDTH = Param("width", 0.5, 0.01, 0.99)
_WIDTH_LO, _WIDTH_HI = PULSE_WIDTH.lo, PULSE_WIDTH.hi
OSCILLATOR_DOC = "freq may be audio-rate (FM)"

SINE = define(
    Kind("sine", ("freq",), state=fields("phase"), cost_ns=9.0, step=sine_step,
         functions=(function("sine", "sine", FREQ, doc="sine oscillator"),), doc="sine; " + OSCILLATOR_DOC)
)  # fmt: skip
SAW = define(
    Kind("saw", ("freq",), state=fields("phase"), cost_ns=2.0, lane_cost_ns=0.7, step=saw_step,
         functions=(function("saw", "saw", FREQ, doc="band-limited (PolyBLEP) sawtooth"),),
         doc="band-limited (PolyBLEP) sawtooth; " + OSCILLATOR_DOC)
)  # fmt: skip
SQUARE = define(
    Kind("square", ("freq",), state=fields("phase"), cost_ns=3.5, lane_cost_ns=2.4, step=square_step,
         functions=(function("square", "square", FREQ, doc="band-limited (PolyBLEP) square"),),
         doc="band-limited (PolyBLEP) square; " + OSCILLATOR_DOC)
)  # fmt: skip
TRI = define(
    Kind("tri", ("freq",), state=fields("phase"), cost_ns=2.5, lane_cost_ns=0.8, step=tri_step,
         functions=tuple(function(n, "tri", FREQ, doc="triangle") for n in ("tri", "triangle")),
         doc="triangle; " + OSCILLATOR_DOC)
)  # fmt: skip
PULSE = define(
    Kind("pulse", ("freq", "width"), state=fields("phase"), cost_ns=4.0, step=pulse_step,
         functions=(function("pulse", "pulse", FREQ, PULSE_WIDTH, doc="band-limited pulse (PWM)"),),
         doc="band-limited pulse (PWM); " + OSCILLATOR_DOC)
)  # fmt: skip
IMPULSE = define(
    Kind("impulse", ("freq",), state=fields("phase", "started"), cost_ns=1.5, step=impulse_step,
         functions=(function("impulse", "impulse", Param("freq", 0.0, 0.0, None, "Hz; 0 gives one impulse at the start"),
                             doc="single-sample impulses of 1.0, the first on the first sample"),),
         doc="single-sample clicks of 1.0, the first on the first sample (freq 0: one impulse)")
)  # fmt: skip
(PHASE,) = SAW.columns("phase")  # the same column in every oscillator
