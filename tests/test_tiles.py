"""engine/kernels/tiles.py: the 4x4 register transposes between the effect lanes' lane-major rows and the
filters' time-major tiles copy exactly what a transpose copies, and nothing outside the block."""

import numba as nb
import numpy as np
import pytest

from phonon.engine.kernels.tiles import transpose_tile


@nb.njit(cache=True)
def _copy(src, src_at, src_row, dst, dst_at, dst_row, rows, columns):
    transpose_tile(src.reshape(src.size), src_at, src_row, dst.reshape(dst.size), dst_at, dst_row, rows, columns)


@pytest.mark.parametrize("rows, columns", [(4, 4), (8, 12), (16, 64)])
def test_a_block_lands_transposed_and_nothing_else_moves(rows, columns):
    rng = np.random.default_rng(rows * 100 + columns)
    src = rng.standard_normal((rows + 5, columns + 7))  # rows of a lane-major array, read from (2, 3) on
    dst = np.full((columns + 6, rows + 9), np.nan)  # a time-major tile, written from (1, 4) on
    _copy(src, 2 * src.shape[1] + 3, src.shape[1], dst, 1 * dst.shape[1] + 4, dst.shape[1], rows, columns)
    expected = np.full_like(dst, np.nan)
    expected[1 : 1 + columns, 4 : 4 + rows] = src[2 : 2 + rows, 3 : 3 + columns].T
    np.testing.assert_array_equal(dst, expected)
    back = np.zeros_like(src)  # and back again: the round trip is the identity
    _copy(dst, 1 * dst.shape[1] + 4, dst.shape[1], back, 2 * src.shape[1] + 3, src.shape[1], columns, rows)
    np.testing.assert_array_equal(back[2 : 2 + rows, 3 : 3 + columns], src[2 : 2 + rows, 3 : 3 + columns])
