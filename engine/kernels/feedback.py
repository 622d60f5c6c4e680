"""The back reference that closes a loop with no delay of its own: a one-sample delay (z^-1).
State: the previous input. In a loop it runs in two phases (see SPLIT_KERNELS); the loop is then
stepped one sample at a time, so "read" emits the previous sample and "write" stores the current one."""

from __future__ import annotations

import numba as nb

from phonon.engine.kernels import flush
from phonon.graph.kinds import Kind, define, fields


@nb.njit(cache=True, inline="always")
def feedback_step(sr, input, last):
    return last, input


@nb.njit(cache=True, nogil=True)
def feedback_read(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        for n in range(start, stop):
            out[n] = state[i, LAST]


@nb.njit(cache=True, nogil=True)
def feedback_write(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        if stop > start:
            v = arena[wiring[i, 1], stop - 1]
            state[i, LAST] = flush(v)


# A bus reference that closes a feedback loop: the engine either reads the bus directly (the loop has a delay
# to step by) or makes it this one-sample delay (a loop with no delay of its own).
FEEDBACK = define(
    Kind("feedback", ("input",), state=fields("last"), step=feedback_step,
         phases={"read": feedback_read, "write": feedback_write})
)  # fmt: skip
(LAST,) = FEEDBACK.columns("last")
