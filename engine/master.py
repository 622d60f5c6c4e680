"""The master mixer: output channels summed (with the program's `outmix` law) into a stereo master, mono
signals centred (the same on both sides), output gain, an optional soft limiter, a hard peak ceiling, and
containment of non-finite samples (they become silence and are counted, never reaching the file or the
speakers); TPDF dither for 16-bit files; and the guards the parts run to contain what goes wrong before
anything reads it (non-finite samples, runaway loops)."""

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


# The soft limiter (`--limit`): a gain stage after the mix and the output gain, before the ceiling. Both sides
# share one gain (the image stays put), computed from a peak envelope of the louder side, |x| = max(|l|, |r|):
#     peak  = max |x| over the last LIMIT_HOLD seconds (a sliding maximum: a monotonic queue)
#     env   = max(peak, env * exp(-1 / (LIMIT_RELEASE * sr)))   (instant attack; a peak is held while it is
#             in the window, then released smoothly)
#     gain  = 1 while env <= knee (LIMIT_KNEE_DB below the ceiling): below the knee the master passes exactly;
#             above it gain = soft(env) / env, soft(e) = knee + w * tanh((e - knee) / w), w = top - knee,
#             top = the ceiling (the float32 at or below it) less 1e-12 of it, so that no rounding, not even a
#             float file's, takes the output past the ceiling
# soft(e) <= top and |x| <= env, so |x| * gain <= top: no sample reaches the ceiling, and the hard ceiling
# behind the limiter never engages. soft has slope 1 at the knee, so the gain leaves 1 smoothly. The window
# outlasts a 40 Hz period, so over a steady tone the envelope stays at its peak and the gain stays put: a loud
# tone comes out the same tone, quieter, not squared off as a waveshaper would make it; only a rising edge
# louder than anything in the window is shaped by soft() while it rises. Why no look-ahead: it would delay the
# master (latency for `play`, an offset to undo for `render`); the `limiter` node kind is the look-ahead
# limiter, for a bus. Why a knee: a gain that leaves 1 gradually, and exactness below it. The state is the
# envelope and the window, updated sample by sample in order: block-size independent, and the same for any
# worker count (the master runs after the mix).
LIMIT_KNEE_DB = -3.0
LIMIT_HOLD = 0.025  # seconds
LIMIT_RELEASE = 0.1  # seconds, time constant
_LIMIT_AIM = 1.0 - 1e-12
# the limiter's array: settings, state, then the window's queue (values, then the sample index of each)
_KNEE, _TOP, _HOLD, _COEF, _ENV, _HEAD, _COUNT, _T, _GAIN = range(9)
_QUEUE = 9


def limiter_state(ceiling: float, sr: int) -> np.ndarray:
    """The soft limiter's settings and state for mix_master (a fresh one per Renderer)."""
    below = np.float32(ceiling)  # a float file rounds to float32: aim below the ceiling's float32 too
    if below > ceiling:
        below = np.nextafter(below, np.float32(0.0))
    hold = max(1, round(LIMIT_HOLD * sr))
    state = np.zeros(_QUEUE + 2 * hold, dtype=np.float64)
    state[_KNEE] = ceiling * 10.0 ** (LIMIT_KNEE_DB / 20.0)
    state[_TOP] = min(ceiling, float(below)) * _LIMIT_AIM
    state[_HOLD] = hold
    state[_COEF] = math.exp(-1.0 / (LIMIT_RELEASE * sr))
    state[_GAIN] = 1.0  # the gain at the envelope in _ENV
    return state


@nb.njit(cache=True, inline="always")
def _contain(x, mode, gain, counts):
    if mode == 3:
        x = math.tanh(x)
    elif mode == 4:
        x = min(max(x, -1.0), 1.0)
    x *= gain
    if not math.isfinite(x):
        counts[0] += 1
        return 0.0
    return x


@nb.njit(cache=True, inline="always")
def _clip(x, ceiling, counts):
    if x > ceiling:
        counts[1] += 1
        return ceiling
    if x < -ceiling:
        counts[1] += 1
        return -ceiling
    return x


@nb.njit(cache=True, inline="always")
def _limit_gain(level, lim):
    """The soft limiter's gain for a sample whose louder side is `level` (updates the state in lim)."""
    size = int(lim[_HOLD])
    v, ts = _QUEUE, _QUEUE + size  # the queue: values at lim[v + i], their sample indexes at lim[ts + i]
    head, count, t = int(lim[_HEAD]), int(lim[_COUNT]), lim[_T]
    while count > 0:  # drop what is no longer the window's maximum
        back = head + count - 1
        if back >= size:
            back -= size
        if lim[v + back] > level:
            break
        count -= 1
    if count > 0 and lim[ts + head] <= t - size:  # left the window (at most one leaves per sample)
        head = head + 1 if head + 1 < size else 0
        count -= 1
    slot = head + count
    if slot >= size:
        slot -= size
    lim[v + slot] = level
    lim[ts + slot] = t
    lim[_HEAD], lim[_COUNT], lim[_T] = head, count + 1, t + 1.0
    env = max(lim[v + head], lim[_ENV] * lim[_COEF])
    if env < 1e-30:  # no denormals
        env = 0.0
    if env == lim[_ENV]:  # a held peak: the same gain
        return lim[_GAIN]
    lim[_ENV] = env
    knee = lim[_KNEE]
    gain = 1.0
    if env > knee:
        w = lim[_TOP] - knee
        gain = (knee + w * math.tanh((env - knee) / w)) / env
    lim[_GAIN] = gain
    return gain


@nb.njit(cache=True, nogil=True)
def mix_master(arena, out_rows, mode, gain, ceiling, limit, lim, dest, dest_offset, n, counts):
    """Mix the outputs (out_rows [outputs, 2]: arena rows of each output's left and right; samples [0, n))
    into dest[dest_offset:dest_offset+n, 0:2]. counts[0] += non-finite samples replaced by 0;
    counts[1] += samples clipped at the ceiling. `limit`: run the soft limiter first (lim: limiter_state)."""
    outputs = out_rows.shape[0]
    scale = 1.0
    if mode == 1 and outputs > 0:
        scale = 1.0 / outputs
    elif mode == 2 and outputs > 0:
        scale = 1.0 / math.sqrt(outputs)
    # the sums output by output, each a contiguous row (a loop over the outputs per sample reads a column: one
    # load per row and sample, nothing vectorised); each sample's sum adds the outputs in the same order
    sums = np.zeros((2, n))
    for c in range(outputs):
        for side in range(2):
            acc, row = sums[side], arena[out_rows[c, side], :n]
            for s in range(n):
                acc[s] += row[s]
    for s in range(n):
        left = _contain(sums[0, s] * scale, mode, gain, counts)
        right = _contain(sums[1, s] * scale, mode, gain, counts)
        if limit:
            g = _limit_gain(max(abs(left), abs(right)), lim)
            if g != 1.0:
                left *= g
                right *= g
        dest[dest_offset + s, 0] = _clip(left, ceiling, counts)
        dest[dest_offset + s, 1] = _clip(right, ceiling, counts)


# 16-bit output. A sample x becomes round(x * 32768 + d) steps (rounded to nearest, halves to even), clamped
# to the ceiling's step, floor(ceiling * 32768), and to [-32768, 32767]: 32768 steps to full scale is the
# scale libsndfile reads 16-bit samples back with (and the one its own float conversion uses, which truncates
# instead of rounding; this one is ours so that the rounding is unbiased and the dither comes before it).
# d is TPDF dither: d = u1 - u2 steps, u1 and u2 uniform in [0, 1), triangular on (-1, 1), which makes the
# rounding error's mean and power independent of the signal (a fade to silence fades into steady noise, not
# into distortion and then nothing; a sine below one step survives, on average, at its level). u1 and u2 are
# the two halves of a 64-bit hash (splitmix64's finaliser) of the seed and the frame's place in the file: the
# same program gives the same bytes, however the frames are split into chunks or blocks. A frame's dither is
# the same on both channels, so a centred (mono) sound stays exactly centred, and `--mono` writes the left
# channel of the stereo file. A sample that is exactly 0 stays 0: digital silence (a silent program, the
# gaps and ends of a render) is not filled with noise. Without dither, d = 0.
PCM16_SCALE = 32768.0


@nb.njit(cache=True, inline="always")
def _splitmix(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@nb.njit(cache=True, nogil=True)
def quantise_pcm16(x, first, ceiling, dither, seed, out):
    """out[f, c] = x[f, c] in 16-bit steps (see above), x holding frames first, first + 1, ... of the file;
    `dither`: with TPDF dither from `seed` (a uint64)."""
    frames, channels = x.shape
    top = min(math.floor(ceiling * PCM16_SCALE), 32767)
    bottom = max(-math.floor(ceiling * PCM16_SCALE), -32768)
    golden = np.uint64(0x9E3779B97F4A7C15)
    mask = np.uint64(0xFFFFFFFF)
    d = 0.0
    for f in range(frames):
        if dither:
            h = _splitmix(seed + np.uint64(first + f + 1) * golden)
            d = (float(h >> np.uint64(32)) - float(h & mask)) * (1.0 / 4294967296.0)
        for c in range(channels):
            v = x[f, c]
            if v == 0.0:
                out[f, c] = 0
            else:
                q = np.rint(v * PCM16_SCALE + d)
                out[f, c] = int(min(max(q, bottom), top))


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
        # views from 0, so the copy is contiguous (engine/kernels/__init__.py)
        d, s = dst[dst_rows[i], dst_offset : dst_offset + n], src[src_rows[i], src_offset : src_offset + n]
        for k in range(n):
            d[k] = s[k]


def mix_stems(stems: "list[np.ndarray]", outmix: str = "none", gain: float = 1.0, ceiling: float = 1.0,
              limit: bool = False, sr: int = 44100) -> np.ndarray:
    """The master from stems (each [frames, 2], in the program's mix order: `phonon render --stems`), mixed
    as the renderer mixes its outputs (mix_master: the outmix law, gain, soft limit, ceiling). Fades, which
    the renderer applies to the master afterwards, are not part of it."""
    frames = len(stems[0]) if stems else 0
    arena = np.ascontiguousarray(np.concatenate([np.asarray(s, dtype=np.float64).T for s in stems]))
    out_rows = np.arange(2 * len(stems), dtype=np.int64).reshape(-1, 2)
    dest = np.zeros((frames, 2), dtype=np.float64)
    mix_master(arena, out_rows, OUTMIX_CODES[outmix], gain, ceiling, limit, limiter_state(ceiling, sr), dest, 0,
               frames, np.zeros(2, dtype=np.int64))
    return dest


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
        arena[wiring[i, 0], start:stop] = 0.0
