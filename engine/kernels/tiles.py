"""4x4 blocks of doubles transposed in registers: the voices' effect lanes are written lane-major (one row per
lane, so that each voice's samples are contiguous) and filtered time-major (one row per sample, so that the lane
loop is vectorised), and a scalar copy between the two layouts costs a load and a strided store per sample. A
4x4 block is four vector loads, eight shuffles and four vector stores instead; LLVM does not find that
transpose in a scalar loop, so it is written here in LLVM IR (numba's `intrinsic`)."""

from __future__ import annotations

import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.core.extending import intrinsic

_LOW_PAIRS = (0, 4, 2, 6)  # (a0 b0 a2 b2) from rows a and b
_HIGH_PAIRS = (1, 5, 3, 7)  # (a1 b1 a3 b3)
_FIRST_HALVES = (0, 1, 4, 5)  # (p0 p1 q0 q1) from two pair vectors
_SECOND_HALVES = (2, 3, 6, 7)


def _mask(lanes: tuple) -> ir.Constant:
    return ir.Constant(ir.VectorType(ir.IntType(32), 4), [ir.Constant(ir.IntType(32), k) for k in lanes])


@intrinsic
def _transpose4(typingctx, src, src_at, src_row, dst, dst_at, dst_row):
    """dst[dst_at + i dst_row + j] = src[src_at + j src_row + i] for i, j < 4 (flat float64 arrays; the caller
    keeps every index in bounds)."""
    if not (isinstance(src, types.Array) and isinstance(dst, types.Array) and src.dtype == types.float64
            and dst.dtype == types.float64):
        return None
    sig = types.void(src, types.uint64, types.uint64, dst, types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        src_v, src_at_v, src_row_v, dst_v, dst_at_v, dst_row_v = args
        src_data = context.make_array(signature.args[0])(context, builder, src_v).data
        dst_data = context.make_array(signature.args[3])(context, builder, dst_v).data
        vector = ir.VectorType(ir.DoubleType(), 4)

        def row_pointer(data, at, row, i):
            offset = builder.add(at, builder.mul(row, ir.Constant(ir.IntType(64), i)))
            return builder.bitcast(builder.gep(data, [offset]), vector.as_pointer())

        a, b, c, d = (builder.load(row_pointer(src_data, src_at_v, src_row_v, i), align=8) for i in range(4))
        ab_low, ab_high = builder.shuffle_vector(a, b, _mask(_LOW_PAIRS)), builder.shuffle_vector(a, b, _mask(_HIGH_PAIRS))
        cd_low, cd_high = builder.shuffle_vector(c, d, _mask(_LOW_PAIRS)), builder.shuffle_vector(c, d, _mask(_HIGH_PAIRS))
        columns = (
            builder.shuffle_vector(ab_low, cd_low, _mask(_FIRST_HALVES)),  # a0 b0 c0 d0
            builder.shuffle_vector(ab_high, cd_high, _mask(_FIRST_HALVES)),  # a1 b1 c1 d1
            builder.shuffle_vector(ab_low, cd_low, _mask(_SECOND_HALVES)),  # a2 b2 c2 d2
            builder.shuffle_vector(ab_high, cd_high, _mask(_SECOND_HALVES)),  # a3 b3 c3 d3
        )
        for i, column in enumerate(columns):
            builder.store(column, row_pointer(dst_data, dst_at_v, dst_row_v, i), align=8)
        return context.get_dummy_value()

    return sig, codegen


@nb.njit(cache=True, inline="always")
def transpose_tile(src, src_at, src_row, dst, dst_at, dst_row, rows: int, columns: int) -> None:
    """dst[dst_at + j dst_row + i] = src[src_at + i src_row + j] for i < rows, j < columns, both multiples of 4
    (flat float64 arrays; every index in bounds)."""
    for i in range(0, rows, 4):
        for j in range(0, columns, 4):
            _transpose4(src, np.uint64(src_at + i * src_row + j), np.uint64(src_row), dst,
                        np.uint64(dst_at + j * dst_row + i), np.uint64(dst_row))
