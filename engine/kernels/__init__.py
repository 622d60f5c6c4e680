"""The node kinds' code: numba kernels, defined with their kinds (`graph.kinds.define`) one family per module.

Every kernel has the same signature and fills samples `[start, stop)` of a batch of nodes of its kind:

    kernel(arena, wiring, state, start, stop)

- `arena`: float64 [rows, block]; every signal, constant and pattern is one row.
- `wiring`: int64 [batch, 1 + inputs]; column 0 is the node's output row, then one row per input in the
  order of `Kind.inputs` (variadic kinds pad unused columns with -1).
- `state`: float64 [batch, width]; row i is `[sr, *consts, *state fields]` for node i, read by name through
  the kind's columns (`Kind.column`).

A kind defined by a per-sample `step` gets its kernel generated (engine/kernels/steps.py). Python calls a
kernel once per batch per block (invariant 1); all per-sample work is inside the kernel. Kernels are
stateful only through `state`, and compute sample n from samples < n, so splitting a block anywhere gives
the same result (invariant 2).

Kernels read and write rows through views indexed from 0 (`arena[row, start:stop]`, `out[a:b] = 0.0`), not
a whole row indexed from `start`: numba lets a negative index count from the end, so LLVM cannot take
`row[start + n]` for contiguous memory and writes such a loop as gathers and scatters (or leaves it scalar).
"""

from __future__ import annotations

import importlib
import sys
from typing import Callable

import numba as nb

from phonon.graph.kinds import KINDS

# The modules that define the built-in kinds (each calls graph.kinds.define at import).
MODULES = (
    "oscillators", "noise", "filters", "tone", "delays", "modulation", "reverb", "dynamics", "envelopes", "arithmetic",
    "feedback", "stereo",
)

KERNELS: dict[str, Callable] = {}
# Kinds that can close a feedback loop without latency run in two phases within a loop step: "read" (the
# output, from stored state only) before the loop's other nodes, "write" (consume the input) after them.
SPLIT_KERNELS: dict[str, dict[str, Callable]] = {}


FLUSH = 1e-30  # a state below this is 0 (NaN too: `abs(NaN) > FLUSH` is false)


@nb.njit(cache=True, inline="always")
def flush(x: float) -> float:
    """Denormals to 0: a decaying tail stored in state never slows the loop that reads it."""
    return x if abs(x) > FLUSH else 0.0


@nb.njit(cache=True, inline="always")
def clamp(x: float, lo: float, hi: float) -> float:
    """x within [lo, hi]; NaN goes to lo (a NaN parameter must not turn into NaN state)."""
    if not x >= lo:
        return lo
    return hi if x > hi else x


@nb.njit(cache=True, inline="always")
def steady(x, start: int, stop: int) -> bool:
    """x holds one value over [start, stop) (compared without an early exit, so the loop vectorises)."""
    run = x[start:stop]
    first = x[start]
    changes = 0
    for n in range(1, run.shape[0]):
        changes += run[n] != first
    return changes == 0


def load_definitions() -> None:
    """Import the modules that define the built-in kinds."""
    for name in MODULES:
        importlib.import_module(f"phonon.engine.kernels.{name}")


def load_all() -> dict[str, Callable]:
    """Every kind's kernel (a step kind's generated on first use), by kind name."""
    from phonon.engine.kernels.steps import step_kernel

    for kind in KINDS.values():
        if kind.host_filled or kind.name in KERNELS or (kind.kernel is None and kind.step is None):
            continue
        KERNELS[kind.name] = kind.kernel if kind.kernel is not None else step_kernel(kind)
        if kind.phases:
            SPLIT_KERNELS[kind.name] = dict(kind.phases)
    load_numba_registries()
    return KERNELS


def load_chains():
    """The lane kernels of chains (engine.kernels.chains), imported only by programs that have chains."""
    from phonon.engine.kernels import chains

    return chains


# numba checks at import of its numpy support whether scipy's BLAS can be loaded (for np.dot and np.linalg,
# which no kernel uses): 0.2 s of a 0.4 s load where scipy is installed; and it builds a cffi parser for
# cffi-typed functions (none here): 0.03-0.09 s. Hidden while it loads (an entry of None in sys.modules makes
# an import fail), and only if nothing imported them yet.
_UNUSED_BY_KERNELS = ("scipy.linalg.cython_blas", "scipy.linalg.cython_lapack", "cffi")


def load_numba_registries() -> None:
    """numba imports its numpy support when it loads the first compiled function: about 0.2 s. Do it here,
    before workers fork, so they inherit it instead of each paying it, and no render pays it after its first
    block started."""
    from numba.core.registry import cpu_target

    hidden = [name for name in _UNUSED_BY_KERNELS if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        cpu_target.target_context.refresh()
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
