"""Arithmetic on signals. `mix` is the compiler's folded linear form: out = bias + sum(gain_j * x_j), so
`(a + b - c) * 0.5 + 1` is one node. A mix's consts are its bias and then one gain per input."""

from __future__ import annotations

import numba as nb

from phonon.graph.kinds import Kind, define
from phonon.graph.values import safe_div


@nb.njit(cache=True, nogil=True)
def mix(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0], start:stop]
        out[:] = state[i, BIAS]
        for j in range(1, wiring.shape[1]):
            row = wiring[i, j]
            if row < 0:
                break
            x = arena[row, start:stop]
            g = state[i, BIAS + j]  # input j's gain follows the bias
            for n in range(out.shape[0]):
                out[n] += g * x[n]


@nb.njit(cache=True, inline="always")
def mul_step(sr, a, b):
    return a * b


_safe_div = nb.njit(cache=True, inline="always")(safe_div)


@nb.njit(cache=True, inline="always")
def div_step(sr, a, b):
    return _safe_div(a, b)


# The compiler folds arithmetic into these (graph/compiler.py); no function of the language makes them directly.
MIX = define(Kind("mix", consts=("bias",), variadic=True, cost_ns=0.6, lane_cost_ns=0.2, kernel=mix))
MUL = define(Kind("mul", ("a", "b"), cost_ns=0.6, step=mul_step))
DIV = define(Kind("div", ("a", "b"), cost_ns=1.0, step=div_step))
(BIAS,) = MIX.columns("bias")
