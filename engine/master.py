"""The master mixer: output channels summed (with the program's `outmix` law) into a stereo master, mono
signals centred (the same on both sides), output gain, a hard peak ceiling, and containment of non-finite
samples (they become silence and are counted, never reaching the file or the speakers); and the guards the
parts run to contain what goes wrong before anything reads it (non-finite samples, runaway loops)."""

from __future__ import annotations

import math

import numba as nb
import numpy as np

OUTMIX_CODES = {"none": 0, "gain": 1, "sqrt": 2, "tanh": 3, "hard": 4}

# The level past which a feedback loop has run away. Full scale is 1, so this is 120 dB above any level a
# program plays at; and the largest numbers a loop may legitimately carry, control values such as a
# smoothed frequency, stay below it (half the highest sample rate is 192 kHz). Yet it is 300 orders of
# magnitude below overflow, so a loop that grows is caught long before its numbers turn into inf and NaN:
# `~x: ~x * 4 + 1` passes it within ten samples.
RUNAWAY_LEVEL = 1e6


@nb.njit(cache=True, inline="always")
def _finish(x, mode, gain, ceiling, counts):
    if mode == 3:
        x = math.tanh(x)
    elif mode == 4:
        x = min(max(x, -1.0), 1.0)
    x *= gain
    if not math.isfinite(x):
        counts[0] += 1
        return 0.0
    if x > ceiling:
        counts[1] += 1
        return ceiling
    if x < -ceiling:
        counts[1] += 1
        return -ceiling
    return x


@nb.njit(cache=True, nogil=True)
def mix_master(arena, out_rows, mode, gain, ceiling, dest, dest_offset, n, counts):
    """Mix the outputs (out_rows [outputs, 2]: arena rows of each output's left and right; samples [0, n))
    into dest[dest_offset:dest_offset+n, 0:2]. counts[0] += non-finite samples replaced by 0;
    counts[1] += samples clipped at the ceiling."""
    outputs = out_rows.shape[0]
    scale = 1.0
    if mode == 1 and outputs > 0:
        scale = 1.0 / outputs
    elif mode == 2 and outputs > 0:
        scale = 1.0 / math.sqrt(outputs)
    for s in range(n):
        left = 0.0
        right = 0.0
        for c in range(outputs):
            left += arena[out_rows[c, 0], s]
            right += arena[out_rows[c, 1], s]
        dest[dest_offset + s, 0] = _finish(left * scale, mode, gain, ceiling, counts)
        dest[dest_offset + s, 1] = _finish(right * scale, mode, gain, ceiling, counts)


@nb.njit(cache=True, nogil=True)
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


@nb.njit(cache=True, nogil=True)
def copy_rows(dst, dst_rows, dst_offset, src, src_rows, src_offset, n):
    """dst[dst_rows[i], dst_offset:][:n] = src[src_rows[i], src_offset:][:n]: the rows a part takes from the
    ring slots before a block and hands to them after it."""
    for i in range(dst_rows.shape[0]):
        d, s = dst[dst_rows[i]], src[src_rows[i]]
        for k in range(n):
            d[dst_offset + k] = s[src_offset + k]


def master_rows(output_rows: dict[int, tuple[int, int]]) -> np.ndarray:
    return np.array([output_rows[c] for c in sorted(output_rows)], dtype=np.int64).reshape(-1, 2)


@nb.njit(cache=True, nogil=True)
def silence_nonfinite(arena, wiring, state, start, stop):
    """A guard with the kernel signature: zero the non-finite samples of rows wiring[:, 0]."""
    for i in range(wiring.shape[0]):
        row = arena[wiring[i, 0]]
        for n in range(start, stop):
            if not math.isfinite(row[n]):
                row[n] = 0.0


@nb.njit(cache=True, nogil=True)
def mute_runaway(arena, wiring, state, count, start, stop):
    """A feedback loop's guard, with the kernel signature, run right after the loop. wiring[:, 0]: the loop's
    rows. As soon as one holds a finite sample beyond RUNAWAY_LEVEL the loop is muted: state[0] = [1, index
    in wiring of that row, the column of its first such sample], count[0] += 1 (count is shared by a part's
    loop guards, so one look tells whether any loop was muted), and the loop's rows read as silence from
    `start` (nothing has read them yet) in this call and in every later one. NaN and inf are left to the
    non-finite containment, which traces them to the node they came from (maybe outside the loop)."""
    if state[0, 0] == 0.0:
        first, which = stop, -1
        for i in range(wiring.shape[0]):
            row = arena[wiring[i, 0]]
            for n in range(start, first):
                x = abs(row[n])
                if x > RUNAWAY_LEVEL and x < math.inf:
                    first, which = n, i
                    break
        if which < 0:
            return
        state[0, 0], state[0, 1], state[0, 2] = 1.0, which, first
        count[0] += 1
    for i in range(wiring.shape[0]):
        row = arena[wiring[i, 0]]
        for n in range(start, stop):
            row[n] = 0.0
