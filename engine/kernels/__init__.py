"""Numba kernels, one per node kind (see `graph.kinds`).

Every kernel has the same signature and fills samples `[start, stop)` of a batch of nodes of its kind:

    kernel(arena, wiring, state, start, stop)

- `arena`: float64 [rows, block]; every signal, constant and pattern is one row.
- `wiring`: int64 [batch, 1 + inputs]; column 0 is the node's output row, then one row per input in the
  order of `Kind.inputs` (variadic kinds pad unused columns with -1).
- `state`: float64 [batch, width]; row i is `[sr, *consts, *mutable state]` for node i (see `graph.kinds`).

Python calls a kernel once per batch per block (invariant 1); all per-sample work is inside the kernel.
Kernels are stateful only through `state`, and compute sample n from samples < n, so splitting a block
anywhere gives the same result (invariant 2).
"""

from __future__ import annotations

from typing import Callable

KERNELS: dict[str, Callable] = {}


def kernel(kind: str) -> Callable[[Callable], Callable]:
    """Register a jitted function as the kernel of node kind `kind`."""

    def register(fn: Callable) -> Callable:
        if kind in KERNELS:
            raise ValueError(f"kernel for {kind!r} registered twice")
        KERNELS[kind] = fn
        return fn

    return register


def load_all() -> dict[str, Callable]:
    """Import every kernel module (registration happens at import) and return the registry."""
    from engine.kernels import arithmetic, delays, dynamics, envelopes, filters, noise, oscillators, reverb  # noqa: F401

    return KERNELS
