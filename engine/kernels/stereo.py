"""Stereo placement of any signal: `pan` and `width` (issue 12 part 5).

A stereo signal is two mono rows, so these are "sided" functions (graph/kinds.py `Function.sided`): the compiler
makes one node per side, with the const `side` (0 left, 1 right) and `stereo` (1 when the input was already
stereo), each reading its own channel of the input (`input`) and, for width, the other one (`other`).

pan, position 0..1 (Tidal's and Strudel's range, 0.5 the centre), angle theta = pos * pi / 2:
  a mono input is placed with the constant-power law: left cos(theta), right sin(theta). The centre gives
  0.7071 on each side and a hard pan 1.0 on one: the total power is the same everywhere and no side is ever
  louder than the input (a hard-panned full-scale signal does not clip);
  a stereo input is balanced: each side keeps its own signal, scaled by min(1, sqrt(2) cos(theta)) on the left
  and min(1, sqrt(2) sin(theta)) on the right, so the centre leaves it unchanged and a hard pan keeps one side.
width, amount >= 0 (mid/side): mid = (L + R) / 2, side = (L - R) / 2 * amount; L' = mid + side, R' = mid - side.
  1 leaves the image, 0 folds it to mono, above 1 widens it. A mono input has no side: it stays in the middle.
"""

from __future__ import annotations

import math

import numba as nb

from phonon.engine.kernels import clamp
from phonon.graph.kinds import INPUT, Function, Kind, Param, define

_HALF_PI = 0.5 * math.pi
_SQRT2 = math.sqrt(2.0)


@nb.njit(cache=True, inline="always")
def _quarter_sine(x: float) -> float:
    """sin(x pi/2) for x in 0..1, from whichever of sin and cos is exact at its end: sin(0) = 0, cos(0) = 1, and
    at x = 0.5 the correctly rounded cos(pi/4) (math.sin(pi/4) is one bit low)."""
    return math.sin(x * _HALF_PI) if x < 0.5 else math.cos((1.0 - x) * _HALF_PI)


@nb.njit(cache=True, inline="always")
def pan_gains(pos: float, stereo: bool) -> tuple[float, float]:
    """(left, right) gains at position pos (NaN: the centre), for the `pan` kind and every voice's `# pan`. Both
    sides are one `_quarter_sine`, so the centre is the same number on both sides and a hard pan leaves exactly 0."""
    if not pos >= 0.0:
        pos = 0.0 if pos < 0.0 else 0.5
    elif pos > 1.0:
        pos = 1.0
    left = _quarter_sine(1.0 - pos)
    right = _quarter_sine(pos)
    if stereo:
        left = min(1.0, _SQRT2 * left)
        right = min(1.0, _SQRT2 * right)
    return left, right


@nb.njit(cache=True, inline="always")
def pan_step(sr, side, stereo, input, pos):
    left, right = pan_gains(pos, stereo > 0.5)
    return input * (right if side > 0.5 else left)


@nb.njit(cache=True, inline="always")
def width_step(sr, side, input, other, amount):
    w = clamp(amount, 0.0, 16.0)
    return 0.5 * ((1.0 + w) * input + (1.0 - w) * other)


PAN = define(
    Kind("pan", ("input", "pos"), consts=("side", "stereo"), cost_ns=9.0, step=pan_step,
         functions=(Function("pan", "pan", (INPUT, Param("pos", 0.5, 0.0, 1.0, "0 left, 0.5 centre, 1 right")),
                             sided=True, doc="place a signal: constant power for mono, balance for stereo"),),
         doc="constant-power pan (mono), balance (stereo); position 0..1")
)  # fmt: skip
WIDTH = define(
    Kind("width", ("input", "other", "amount"), consts=("side",), cost_ns=1.0, step=width_step,
         functions=(Function("width", "width", (INPUT, Param("amount", 1.0, 0.0, 16.0, "0 mono, 1 as is")),
                             sided=True, doc="stereo width (mid/side)"),),
         doc="mid/side width: 0 mono, 1 unchanged, above 1 wider")
)  # fmt: skip
