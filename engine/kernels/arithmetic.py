"""Arithmetic on signals. `mix` is the compiler's folded linear form: out = bias + sum(gain_j * x_j), so
`(a + b - c) * 0.5 + 1` is one node. A mix's consts are its bias and then one gain per input."""

from __future__ import annotations

import numba as nb

from graph.kinds import Kind, define


@nb.njit(cache=True, nogil=True)
def mix(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        bias = state[i, BIAS]
        for n in range(start, stop):
            out[n] = bias
        for j in range(1, wiring.shape[1]):
            row = wiring[i, j]
            if row < 0:
                break
            x = arena[row]
            g = state[i, BIAS + j]  # input j's gain follows the bias
            for n in range(start, stop):
                out[n] += g * x[n]


@nb.njit(cache=True, nogil=True)
def mul(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        a = arena[wiring[i, 1]]
        b = arena[wiring[i, 2]]
        for n in range(start, stop):
            out[n] = a[n] * b[n]


@nb.njit(cache=True, nogil=True)
def div(arena, wiring, state, start, stop):
    # Division by (nearly) zero gives 0, as in the original Phonon, so a silent divisor never makes inf.
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        a = arena[wiring[i, 1]]
        b = arena[wiring[i, 2]]
        for n in range(start, stop):
            d = b[n]
            out[n] = a[n] / d if abs(d) > 1e-10 else 0.0


# The compiler folds arithmetic into these (graph/compiler.py); no function of the language makes them directly.
MIX = define(Kind("mix", consts=("bias",), variadic=True, cost_ns=0.6, lane_cost_ns=0.2, kernel=mix))
MUL = define(Kind("mul", ("a", "b"), cost_ns=0.6, kernel=mul))
DIV = define(Kind("div", ("a", "b"), cost_ns=1.0, kernel=div))
(BIAS,) = MIX.columns("bias")
