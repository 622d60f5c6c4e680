"""Sequentially consistent int64 atomics on raw addresses, generated with numba/LLVM (the fallback backend of
``workers.handoff`` when the ``atomics`` package is not installed; ``PHONON_ATOMICS=numba`` forces it).

``exchange(addr, value) -> old`` is an ``atomicrmw xchg seq_cst`` (also used as the seq_cst store);
``load(addr)`` is a ``load atomic seq_cst``. Defined at module level so numba can cache them on disk.
"""

from __future__ import annotations

from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

_I64 = ir.IntType(64)


@intrinsic
def _xchg(typingctx, addr, value):
    def codegen(context, builder, sig, args):
        ptr = builder.inttoptr(args[0], _I64.as_pointer())
        return builder.atomic_rmw("xchg", ptr, args[1], "seq_cst")

    return types.int64(types.int64, types.int64), codegen


@intrinsic
def _load(typingctx, addr):
    def codegen(context, builder, sig, args):
        ptr = builder.inttoptr(args[0], _I64.as_pointer())
        return builder.load_atomic(ptr, "seq_cst", 8)

    return types.int64(types.int64), codegen


@njit("int64(int64, int64)", nogil=True, cache=True)
def exchange(addr, value):
    return _xchg(addr, value)


@njit("int64(int64)", nogil=True, cache=True)
def load(addr):
    return _load(addr)


def store(addr: int, value: int) -> None:
    exchange(addr, value)
