"""The master mixer: output channels summed (with the program's `outmix` law) into a stereo master, mono
signals centred (the same on both sides), output gain, a hard peak ceiling, and containment of non-finite
samples (they become silence and are counted, never reaching the file or the speakers)."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

OUTMIX_CODES = {"none": 0, "gain": 1, "sqrt": 2, "tanh": 3, "hard": 4}


@nb.njit(cache=True)
def mix_master(arena, out_rows, mode, gain, ceiling, dest, dest_offset, n, counts):
    """Mix arena rows `out_rows` (samples [0, n)) into dest[dest_offset:dest_offset+n, 0:2].
    counts[0] += non-finite samples replaced by 0; counts[1] += samples clipped at the ceiling."""
    channels = out_rows.shape[0]
    scale = 1.0
    if mode == 1 and channels > 0:
        scale = 1.0 / channels
    elif mode == 2 and channels > 0:
        scale = 1.0 / math.sqrt(channels)
    for s in range(n):
        x = 0.0
        for c in range(channels):
            x += arena[out_rows[c], s]
        x *= scale
        if mode == 3:
            x = math.tanh(x)
        elif mode == 4:
            x = min(max(x, -1.0), 1.0)
        x *= gain
        if not math.isfinite(x):
            counts[0] += 1
            x = 0.0
        elif x > ceiling:
            counts[1] += 1
            x = ceiling
        elif x < -ceiling:
            counts[1] += 1
            x = -ceiling
        dest[dest_offset + s, 0] = x
        dest[dest_offset + s, 1] = x


@nb.njit(cache=True)
def nonfinite_rows(arena, rows, n, found):
    """found[i] = 1 where arena row rows[i] holds a non-finite sample in [0, n); returns how many."""
    total = 0
    for i in range(rows.shape[0]):
        found[i] = 0
        r = arena[rows[i]]
        for s in range(n):
            if not math.isfinite(r[s]):
                found[i] = 1
                total += 1
                break
    return total


def master_rows(output_rows: dict[int, int]) -> np.ndarray:
    return np.array([output_rows[c] for c in sorted(output_rows)], dtype=np.int64)
