"""Oscillators. State row: [sr, phase]. Phase is in cycles, in [0, 1); frequency is read per sample, so
any signal can modulate it (audio-rate FM). Saw, square and pulse are band-limited with PolyBLEP."""

from __future__ import annotations

import math

import numba as nb

from engine.kernels import kernel

_TWO_PI = 2.0 * math.pi


@nb.njit(cache=True, inline="always")
def _advance(phase: float, dt: float) -> float:
    phase += dt
    if phase >= 1.0:  # a predictable branch is cheaper than floor on every sample
        phase -= 1.0
        if phase >= 1.0:
            phase -= math.floor(phase)
    elif phase < 0.0:
        phase -= math.floor(phase)
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


@kernel("sine")
@nb.njit(cache=True, nogil=True)
def sine(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        freq = arena[wiring[i, 1]]
        inv_sr = 1.0 / state[i, 0]
        phase = state[i, 1]
        for n in range(start, stop):
            out[n] = math.sin(_TWO_PI * phase)
            phase = _advance(phase, freq[n] * inv_sr)
        state[i, 1] = phase


@kernel("saw")
@nb.njit(cache=True, nogil=True)
def saw(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        freq = arena[wiring[i, 1]]
        inv_sr = 1.0 / state[i, 0]
        phase = state[i, 1]
        for n in range(start, stop):
            dt = freq[n] * inv_sr
            out[n] = 2.0 * phase - 1.0 - _blep(phase, abs(dt))
            phase = _advance(phase, dt)
        state[i, 1] = phase


@nb.njit(cache=True, inline="always")
def _pulse_sample(phase: float, dt: float, width: float) -> float:
    value = 1.0 if phase < width else -1.0
    down = phase - width
    if down < 0.0:
        down += 1.0
    return value + _blep(phase, dt) - _blep(down, dt)


@kernel("square")
@nb.njit(cache=True, nogil=True)
def square(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        freq = arena[wiring[i, 1]]
        inv_sr = 1.0 / state[i, 0]
        phase = state[i, 1]
        for n in range(start, stop):
            out[n] = _pulse_sample(phase, abs(freq[n]) * inv_sr, 0.5)
            phase = _advance(phase, freq[n] * inv_sr)
        state[i, 1] = phase


@kernel("pulse")
@nb.njit(cache=True, nogil=True)
def pulse(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        freq = arena[wiring[i, 1]]
        width = arena[wiring[i, 2]]
        inv_sr = 1.0 / state[i, 0]
        phase = state[i, 1]
        for n in range(start, stop):
            w = min(max(width[n], 0.01), 0.99)
            out[n] = _pulse_sample(phase, abs(freq[n]) * inv_sr, w)
            phase = _advance(phase, freq[n] * inv_sr)
        state[i, 1] = phase


@kernel("tri")
@nb.njit(cache=True, nogil=True)
def tri(arena, wiring, state, start, stop):
    # Naive triangle: its harmonics fall as 1/n^2, so aliasing is already far below a naive saw's.
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        freq = arena[wiring[i, 1]]
        inv_sr = 1.0 / state[i, 0]
        phase = state[i, 1]
        for n in range(start, stop):
            out[n] = 4.0 * phase - 1.0 if phase < 0.5 else 3.0 - 4.0 * phase
            phase = _advance(phase, freq[n] * inv_sr)
        state[i, 1] = phase


@kernel("impulse")
@nb.njit(cache=True, nogil=True)
def impulse(arena, wiring, state, start, stop):
    # State row: [sr, phase, started]. An impulse on the first sample, then one each time the phase wraps.
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        freq = arena[wiring[i, 1]]
        inv_sr = 1.0 / state[i, 0]
        phase = state[i, 1]
        started = state[i, 2]
        for n in range(start, stop):
            if started == 0.0:
                out[n] = 1.0
                started = 1.0
            elif phase >= 1.0:
                out[n] = 1.0
                phase -= math.floor(phase)
            else:
                out[n] = 0.0
            phase += max(freq[n], 0.0) * inv_sr
        state[i, 1] = phase
        state[i, 2] = started
