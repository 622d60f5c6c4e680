"""The back reference that closes a loop with no delay of its own: a one-sample delay (z^-1).
State row: [sr, previous input]. In a loop it runs in two phases (see SPLIT_KERNELS); the loop is then
stepped one sample at a time, so "read" emits the previous sample and "write" stores the current one."""

from __future__ import annotations

import numba as nb

from engine.kernels import kernel, split_kernel


@kernel("feedback")
@nb.njit(cache=True, nogil=True)
def feedback(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        x = arena[wiring[i, 1]]
        last = state[i, 1]
        for n in range(start, stop):
            out[n] = last
            last = x[n]
        state[i, 1] = last


@split_kernel("feedback", "read")
@nb.njit(cache=True, nogil=True)
def feedback_read(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        for n in range(start, stop):
            out[n] = state[i, 1]


@split_kernel("feedback", "write")
@nb.njit(cache=True, nogil=True)
def feedback_write(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        if stop > start:
            v = arena[wiring[i, 1], stop - 1]
            state[i, 1] = v if abs(v) > 1e-30 else 0.0
