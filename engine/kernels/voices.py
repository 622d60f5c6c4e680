"""Voice kernels: polyphonic sample playback (`s "bd sn"`) and polyphonic synth notes (`saw "c3 e3 g3"`).

The host calls each kernel once per block per voice node with the triggers (events) whose onset column lies in
[start, stop), sorted by offset. A kernel OVERWRITES out_l[start:stop] and out_r[start:stop] with the sum of
all voices sounding in that range (it starts from zero). Everything a voice needs lives in its pool row, so
nothing but the pool (and `stats`) carries state from one call to the next.

Block-size independence (exact, bit for bit): voices are rendered voice-outer, sample-inner over the segments
between consecutive trigger offsets, always in pool index order; every per-sample quantity is a function of
the voice's age (samples since its onset) or of state stored in float64 in the pool, and a voice is freed on
the sample where it ends, so slot allocation, stealing and summation order are the same however the host splits
the timeline into calls (tests/test_voice_kernels.py renders the same triggers with blocks of 4000, 64, 100
and 1 samples and compares with ==).

Arrays
------
out_l, out_r   float64 [>= stop]  output columns (absolute; `start`/`stop` index them, trigger offsets too)
pool           float64 [P, POOL_WIDTH] / [P, SYNTH_POOL_WIDTH]  from `new_pool(P)` / `new_synth_pool(P)`
               (all zeros = all slots free; the default P is 512, as in the reference)
triggers       float64 [capacity, TRIGGER_WIDTH] / [capacity, SYNTH_TRIGGER_WIDTH]; rows 0..n_triggers-1 used
stats          float64 or int64 [>= 2]: stats[0] += voices stolen; stats[1] = max(stats[1], active voices
               right after a voice starts), i.e. the most voices ever sounding at once. The host owns it.
data, offsets, lengths, channels   the `engine.samples.bank.SampleBank` arrays (float32 [frames, 2],
               C-contiguous, with mono duplicated into both columns and one zero guard frame before and after
               every sample; int64 [n]; int64 [n]; int64 [n], 1 where the sample is mono, i.e. its two columns
               are equal). `bank.data, bank.offsets, bank.lengths, bank.channels` as they are. A channel count
               of 1 is taken at its word: the voice reads the left column for both sides (the same numbers the
               right one would give), except at rate 1, where it reads both.
sr             float, the engine rate; start, stop: ints; wave: int (SINE, SAW, SQUARE, TRI).

Envelope timing convention (both kernels)
-----------------------------------------
Envelopes are continuous piecewise-linear curves of tau = age + 1 (in samples), i.e. each output sample takes
the curve's value at its END. A ramp of L samples that rises from 0 therefore gives 1/L, 2/L, ..., L/L = 1 on
ages 0..L-1: the onset sample is already audible (a hit is detectable at its exact column) and full level is
reached on the L-th sample. A release of R samples from level x gives x(R-1)/R, ..., x/R, 0: the first
released sample is at age `hold` (the gate length) and the level is 0 at age hold + R - 1, where the voice is
freed. All durations are rounded to whole samples (floor(seconds * sr + 0.5)).

Sample voices (`play_samples`)
------------------------------
- Slice: lo = floor(begin * length + 0.5), hi = floor(end * length + 0.5) frames (begin, end clamped to 0..1;
  skipped unless lo < hi). Chops that share a boundary therefore tile the sample exactly.
- Position (frames from the sample start) at age k: pos = p0 + rate * k, with p0 = lo for rate > 0 and
  p0 = hi - 1 (the last frame of the slice) for rate < 0. Linear interpolation between floor(pos) and the
  next frame (reading the guard frame or the frame just past the slice at the end, as the sample continues).
  The voice plays while lo <= pos < hi: N = number of ages with pos in the slice (rate 2 on 10 frames: 5).
  rate 0, NaN or inf: the trigger is skipped.
- Level: gain (clamped 0..10), then equal-power pan normalised to unity in the centre:
      theta = (pan + 1) * pi / 4,  gL = sqrt(2) cos(theta),  gR = sqrt(2) sin(theta)   (pan clamped -1..1)
  out_l = left frame * gL, out_r = right frame * gR. A mono sample (both columns equal) at pan 0 gives
  L = R = the sample; pan -1 gives L = sqrt(2) x, R = 0. A stereo sample keeps its channels.
- Envelope: min(attack ramp, release ramp, cut fade), with
      attack A = attack seconds (0 -> default 1 ms = 44 samples at 44.1 kHz; < 0 -> no attack ramp);
      release R = release seconds (0 -> default 3 ms = 132 samples at 44.1 kHz; < 0 -> hard stop);
      hold h (samples, rounded) >= 0: the release starts at age h (level 0 at age h + R - 1);
      hold < 0: play to the natural end of the slice, releasing over its last R samples (the last frame is
      at 1/R). A hold release never outlasts the slice: the natural-end release always applies too.
- Cut groups: a voice with cut group N > 0 starting at column t fades every earlier active voice of group N
  linearly over C = 10 ms (441 samples at 44.1 kHz): the earlier voice's envelope is capped at (C-1)/C at
  column t, (C-2)/C at t + 1, ..., 1/C, and it is freed (silent) from column t + C - 1. Other groups continue.
- Stealing: when all P slots are busy, the oldest voice (largest age, i.e. started earliest; ties: lowest
  index) is cut off and its slot reused; stats[0] counts it. A new voice takes the lowest free slot.
- Skipped (changing nothing, cutting nothing): unknown sample id, empty sample or slice, gain <= 0 or NaN,
  rate 0 / NaN / inf, or |rate| so small that the voice would last more than 2**40 samples. NaN pan -> centre,
  NaN attack -> no ramp, NaN release -> hard stop, NaN hold -> natural end. An offset below the current
  render point (out of order, or < start) starts at the current point; one >= stop is ignored (the host
  passes it in the call that contains it).
- Bounded by construction: counts and durations stay float64 and are clamped to 2**40 samples before any
  conversion to an integer (math.floor and math.ceil convert to int64 in numba, and a huge value would wrap
  to a negative count that slips past a guard); the slice count's rounding fix-up takes a bounded number of
  steps; every other loop runs over the pool or the block's samples.
- Speed: per voice and segment the kernel splits the samples into [attack | flat | release/cut] runs. The
  ramps go sample by sample (`_shaped_run`, the formula above). The flat run, where the envelope is exactly 1,
  goes in batches of 64 samples (`_flat_run`): frame numbers, then the frame reads, then interpolation and
  mixing, so that all but the reads vectorise; at rate 1 the frames lie in a row and one vectorised loop adds
  them (`_unit_rate_run`). A mono voice reads one column, the left, for both sides (not at rate 1, where
  reading both is as fast). Integer rates skip the interpolation. Every loop computes each output sample by
  the same floating-point operations in the same order, so the split never shows in the output
  (tests/test_voice_kernels.py holds mono and stereo voices at unit, integer and fractional rates, both ways,
  to a per-sample model with ==). Measured on the dev machine, a noisy 2-core Zen 4 VM
  (`python -m tests.test_voice_kernels`: 256 voices, 512-sample blocks; best of 5 runs interleaved with the
  previous kernel, whose figures are in parentheses): ns per voice-sample, mono / stereo, rate 1 0.3 / 0.3
  (0.3 / 0.3), rate 1.37 1.2 / 1.9 (3.7 / 3.7), mono rate -1 0.8 (1.85); a full 512-voice pool with 16
  triggers per block at rate 1 0.85 (1.1). `python -m benchmarks.drums` (kit samples, all mono, mostly at
  fractional rates), interleaved, median of 7: 39x real time (20x); about half of its render is this kernel.

Synth voices (`play_synth`)
---------------------------
wave: SINE 0, SAW 1 (PolyBLEP), SQUARE 2 (PolyBLEP), TRI 3. The phase starts at 0 and advances freq / sr per
sample (computed before the increment, as in `oscillators`): sine and triangle start at 0 rising (the
triangle is phase-aligned with the sine: 4p, 2 - 4p, 4p - 4), saw and square start at 0 because the PolyBLEP
correction sees the onset as their discontinuity. Sine uses a degree-11 odd polynomial on a folded phase
(error < 2e-11, half the cost of math.sin).
ADSR (curve of tau = age + 1, see above): attack A samples 0 -> 1 (A = 0: starts at 1), decay D samples
1 -> sustain S (clamped 0..1), sustain while the gate is open, gate closes after G = hold samples (hold < 0:
never), then release R samples from the level L the curve had at tau = G down to 0 (R = 0: hard stop).
A voice is freed when the release reaches 0, or when S == 0 and the decay has finished (whatever the gate).
A hold < 0 voice with S > 0 sounds until it is stolen. freq <= 0 or NaN, gain <= 0, or an envelope that is
silent from the start (A = D = 0 with S = 0; hold 0 with A > 0): skipped. NaN durations count as 0 and NaN
sustain as 0; durations are clamped to 1e6 s. A frequency above the sample rate is taken modulo it (the
sampled waveform is the same). Same pan law, stealing rule, stats and block-size independence as the sample
voices. Measured: sine 4.3, saw 2.8, square 3.3, tri 2.7 ns per voice-sample (256 voices).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from engine.kernels.envelopes import ads_level
from engine.kernels.oscillators import _blep

DEFAULT_VOICES = 512
MAX_VOICES = 4096  # the reference's hard cap; new_pool refuses more
DEFAULT_ATTACK = 0.001  # seconds, sample voices, used when a trigger's attack is 0
DEFAULT_RELEASE = 0.003  # seconds, sample voices, used when a trigger's release is 0
CUT_FADE = 0.010  # seconds, the fade of voices cut by a newer voice of their group

# ---- sample triggers: float64 [capacity, TRIGGER_WIDTH] ------------------------------------------------------
T_OFFSET = 0  # absolute column in out_l / out_r, start <= offset < stop (an integer value)
T_SAMPLE = 1  # sample id in the bank
T_GAIN = 2  # linear, clamped 0..10
T_PAN = 3  # -1 (left) .. 1 (right)
T_RATE = 4  # source frames per output sample (speed * 2 ** (note / 12)); < 0 plays the slice backwards; 0 skips
T_BEGIN = 5  # slice start, fraction 0..1 of the sample
T_END = 6  # slice end, fraction 0..1 (begin < end, else skipped)
T_CUT = 7  # cut group, 0 = none
T_ATTACK = 8  # seconds; 0 -> DEFAULT_ATTACK; < 0 -> none
T_RELEASE = 9  # seconds; 0 -> DEFAULT_RELEASE; < 0 -> hard stop
T_HOLD = 10  # samples until the release starts; < 0 -> play to the natural end of the slice
TRIGGER_WIDTH = 11

# ---- sample voice pool: float64 [P, POOL_WIDTH] (kernel-private layout, all-zero row = free slot) ------------
V_ACTIVE = 0  # 1.0 while sounding
V_AGE = 1  # samples rendered so far = age of the next output sample
V_END = 2  # ages 0..V_END-1 are output; freed when V_AGE reaches it
V_BASE = 3  # offsets[sample id]: row of the sample's first frame in `data`
V_POS0 = 4  # position (frames from the sample start) at age 0
V_RATE = 5
V_GL = 6  # gain * gL
V_GR = 7  # gain * gR
V_ATTACK = 8  # A, attack samples (>= 1)
V_REL_END = 9  # tau where the release ramp reaches 0
V_RELEASE = 10  # R, release samples (>= 1)
V_CUT_END = 11  # tau where the cut fade reaches 0 (huge when not cut)
V_CUT = 12  # cut group
V_SAMPLE = 13  # sample id (informational)
V_CUT_LEN = 14  # C, cut fade samples (1.0 before a cut: with V_CUT_END huge the fade term never applies)
V_MONO = 15  # 1.0 when the sample is mono (channels 1): the runs read only the left column (but at rate 1)
POOL_WIDTH = 16  # 128-byte rows

# ---- synth triggers: float64 [capacity, SYNTH_TRIGGER_WIDTH] -------------------------------------------------
S_OFFSET = 0  # absolute column, start <= offset < stop
S_FREQ = 1  # Hz (> 0)
S_GAIN = 2  # linear, clamped 0..10
S_PAN = 3  # -1 .. 1
S_ATTACK = 4  # seconds (>= 0; 0 = instant)
S_DECAY = 5  # seconds (>= 0; 0 = instant)
S_SUSTAIN = 6  # level 0..1
S_RELEASE = 7  # seconds (>= 0; 0 = hard stop at the gate)
S_HOLD = 8  # gate length in samples; < 0: the gate never closes
SYNTH_TRIGGER_WIDTH = 9

# waveforms of play_synth
SINE = 0
SAW = 1
SQUARE = 2
TRI = 3
WAVES = {"sine": SINE, "saw": SAW, "square": SQUARE, "tri": TRI, "triangle": TRI}

# ---- synth voice pool: float64 [P, SYNTH_POOL_WIDTH] (kernel-private layout) ----------------------------------
Y_ACTIVE = 0
Y_AGE = 1
Y_END = 2  # ages 0..Y_END-1 are output (inf: until stolen)
Y_PHASE = 3  # cycles, [0, 1)
Y_DT = 4  # freq / sr
Y_GL = 5
Y_GR = 6
Y_T1 = 7  # attack segment: tau in (0, T1], level tau / A (T1 = min(A, gate))
Y_INV_A = 8  # 1 / A
Y_T2 = 9  # decay segment: tau in (T1, T2], level 1 + DEC_SLOPE * (tau - A)
Y_A = 10  # A
Y_DEC_SLOPE = 11  # -(1 - S) / D
Y_T3 = 12  # sustain segment: tau in (T2, T3], level SUS; T3 = the gate G (huge: never closes)
Y_SUS = 13
Y_LEVEL = 14  # release segment: tau > T3, level LEVEL + REL_SLOPE * (tau - G); LEVEL = the curve at G
Y_REL_SLOPE = 15  # -LEVEL / R
SYNTH_POOL_WIDTH = 16

_NEVER = 1e300  # a tau no voice reaches
_MAX_FRAMES = 2.0**40  # longest sample voice, in output samples (~790 years at 44.1 kHz); float64 counts stay exact
_MAX_SECONDS = 1e6  # synth envelope segment durations are clamped to this
_QUARTER_PI = 0.25 * math.pi
_COS_QUARTER_PI = math.cos(_QUARTER_PI)


def new_pool(voices: int = DEFAULT_VOICES) -> np.ndarray:
    """An empty sample-voice pool (allocate once per voice node)."""
    return _alloc(voices, POOL_WIDTH)


def new_synth_pool(voices: int = DEFAULT_VOICES) -> np.ndarray:
    """An empty synth-voice pool (allocate once per voice node)."""
    return _alloc(voices, SYNTH_POOL_WIDTH)


def new_triggers(capacity: int, synth: bool = False) -> np.ndarray:
    """A trigger table for up to `capacity` triggers per call."""
    return np.zeros((max(int(capacity), 1), SYNTH_TRIGGER_WIDTH if synth else TRIGGER_WIDTH), dtype=np.float64)


def new_stats() -> np.ndarray:
    """[voices stolen, max simultaneous voices]."""
    return np.zeros(2, dtype=np.float64)


def _alloc(voices: int, width: int) -> np.ndarray:
    voices = int(voices)
    if not 1 <= voices <= MAX_VOICES:
        raise ValueError(f"voice pool size must be 1..{MAX_VOICES}, got {voices}")
    return np.zeros((voices, width), dtype=np.float64)


# ---------------------------------------------------------------------------------------------------- helpers


@nb.njit(cache=True, inline="always")
def _samples_of(seconds: float, sr: float) -> float:
    """Whole samples in `seconds` (>= 0, not NaN), at most _MAX_FRAMES. np.floor stays a float: math.floor
    converts to int64, where a huge duration wraps to a negative count."""
    return min(np.floor(seconds * sr + 0.5), _MAX_FRAMES)


@nb.njit(cache=True, inline="always")
def _whole_samples(samples: float) -> float:
    """A sample count (>= 0, not NaN) rounded to whole samples, at most _MAX_FRAMES; a float (see _samples_of)."""
    return np.floor(min(samples, _MAX_FRAMES) + 0.5)


@nb.njit(cache=True, inline="always")
def _pan_gains(pan: float) -> tuple[float, float]:
    if not pan >= -1.0:  # also NaN -> centre below
        pan = -1.0 if pan < -1.0 else 0.0
    elif pan > 1.0:
        pan = 1.0
    # gL = sqrt(2) cos(theta), gR = sqrt(2) sin(theta) with theta = (pan + 1) pi / 4, written as
    # cos((1 + pan) pi/4) / cos(pi/4) and cos((1 - pan) pi/4) / cos(pi/4): the centre is exactly 1.0 on both
    # sides (not 1 +- 2e-16) and the law is exactly mirror-symmetric (gL(pan) == gR(-pan)).
    return math.cos((1.0 + pan) * _QUARTER_PI) / _COS_QUARTER_PI, math.cos((1.0 - pan) * _QUARTER_PI) / _COS_QUARTER_PI


@nb.njit(cache=True, inline="always")
def _clamp_gain(gain: float) -> float:
    if not gain > 0.0:  # also NaN
        return 0.0
    return min(gain, 10.0)


@nb.njit(cache=True, nogil=True)
def _scan(pool, active_col):
    """(slots below this are the only ones that can be active, number active)."""
    hi = 0
    count = 0
    for i in range(pool.shape[0]):
        if pool[i, active_col] != 0.0:
            hi = i + 1
            count += 1
    return hi, count


@nb.njit(cache=True, nogil=True)
def _claim(pool, active_col, age_col, hi, count, stats):
    """Slot for a new voice: the lowest free one, else steal the oldest (largest age, ties lowest index).
    Returns (slot, hi, count) with hi/count already including the new voice."""
    cap = pool.shape[0]
    if count < cap:
        for i in range(cap):
            if pool[i, active_col] == 0.0:
                if i + 1 > hi:
                    hi = i + 1
                return i, hi, count + 1
    best = 0
    best_age = -1.0
    for i in range(cap):
        a = pool[i, age_col]
        if a > best_age:
            best_age = a
            best = i
    stats[0] += 1
    return best, hi, count


# --------------------------------------------------------------------------------------------- sample voices


# Offsets into `flat` from a frame's left value, and the values per frame, unsigned like the indices they meet
# (numba makes uint64 + int64 a float).
_RIGHT = np.uint64(1)
_NEXT_LEFT = np.uint64(2)
_NEXT_RIGHT = np.uint64(3)
_FRAME = np.uint64(2)
_CHUNK = 64  # samples per batch of `_flat_run` (its scratch stays in L1)


@nb.njit(cache=True, inline="always")
def _shaped_run(out_l, out_r, n0, cnt, flat, base, p0, rate, ag0, gl, gr, a_len, ia, rel_end, r_len, ir, cut_end,
                c_len, ic, interp, mono):
    """Add `cnt` samples of one voice from column n0 (age ag0), with the envelope: the formula of a sample, as
    the module doc gives it. `interp`: fractional positions (else integer rate: the frames themselves); `mono`:
    the sample's columns are equal, so the left value serves both sides (the right column would give the same
    number by the same operations). `_flat_run` and `_unit_rate_run` compute bit-identical values for the ages
    where the envelope is exactly 1, so how a segment is split into runs never shows in the output."""
    if cnt <= 0:  # most runs of a segment are empty: skip making the views
        return
    # Views indexed by k and an unsigned frame index: every index here is >= 0 (a voice's position stays in its
    # slice, so pos >= 0 and j = int(pos) = floor(pos) >= 0), and saying so spares numba's negative-index code.
    left, right = out_l[n0 : n0 + cnt], out_r[n0 : n0 + cnt]
    for k in range(cnt):
        ag = ag0 + k
        pos = p0 + rate * ag
        j = int(pos)
        at = np.uint64(2 * (base + j))  # frame j's left value in flat
        l = np.float64(flat[at])
        r = l if mono else np.float64(flat[at + _RIGHT])
        if interp:
            f = pos - j
            l += f * (np.float64(flat[at + _NEXT_LEFT]) - l)
            r = l if mono else r + f * (np.float64(flat[at + _NEXT_RIGHT]) - r)
        tau = ag + 1.0
        env = tau * ia if tau < a_len else 1.0
        rel = rel_end - tau
        if rel < r_len:
            env = min(env, rel * ir)
        cut = cut_end - tau
        if cut < c_len:
            env = min(env, cut * ic)
        left[k] += l * (env * gl)
        right[k] += r * (env * gr)


@nb.njit(cache=True, inline="always")
def _flat_run(out_l, out_r, n0, cnt, flat, base, p0, rate, ag0, gl, gr, scratch, interp, mono):
    """`_shaped_run` where the envelope is exactly 1, with the same values, in batches of _CHUNK samples: the
    frame numbers in one loop, the frame reads in a second, interpolation and mixing in a third (which works
    the position out again: cheaper than storing it). Only the reads depend on the data, so LLVM vectorises the
    first and the third loop, conversions included; the second is plain loads and stores. `scratch`: uint64
    [_CHUNK] frame numbers, float32 [4, _CHUNK] the left and right values of frames j and j + 1."""
    frame, taps = scratch
    src = flat[2 * base :]  # frame j of the sample at src[2j] (j >= 0, see _shaped_run)
    for c0 in range(0, cnt, _CHUNK):
        c = min(_CHUNK, cnt - c0)
        for q in range(c):
            pos = p0 + rate * (ag0 + (c0 + q))  # _shaped_run's pos for age ag0 + c0 + q
            frame[q] = np.uint64(np.floor(pos))  # pos >= 0: floor is int()
        for q in range(c):
            at = frame[q] * _FRAME
            taps[0, q] = src[at]
            if not mono:
                taps[2, q] = src[at + _RIGHT]
            if interp:
                taps[1, q] = src[at + _NEXT_LEFT]
                if not mono:
                    taps[3, q] = src[at + _NEXT_RIGHT]
        left, right = out_l[n0 + c0 : n0 + c0 + c], out_r[n0 + c0 : n0 + c0 + c]
        for q in range(c):
            l = np.float64(taps[0, q])
            r = l if mono else np.float64(taps[2, q])
            if interp:
                pos = p0 + rate * (ag0 + (c0 + q))
                f = pos - np.floor(pos)  # pos >= 0, so floor(pos) is float(int(pos)): _shaped_run's f
                l += f * (np.float64(taps[1, q]) - l)
                r = l if mono else r + f * (np.float64(taps[3, q]) - r)
            left[q] += l * gl
            right[q] += r * gr


@nb.njit(cache=True, inline="always")
def _unit_rate_run(out_l, out_r, n0, cnt, flat, first, gl, gr):
    """`_flat_run` at rate 1 from frame `first`: the frames lie in a row, so LLVM vectorises the one loop.
    The same arithmetic as `_shaped_run`'s integer-rate case, so the same values. Mono samples take it too:
    the loop is memory-bound and reading both columns vectorises better than skipping one."""
    src = flat[2 * first : 2 * (first + cnt)]
    left, right = out_l[n0 : n0 + cnt], out_r[n0 : n0 + cnt]
    for k in range(cnt):
        left[k] += np.float64(src[2 * k]) * gl
        right[k] += np.float64(src[2 * k + 1]) * gr


@nb.njit(cache=True, inline="always")
def _voice_runs(out_l, out_r, a, m, k0, k1, flat, base, p0, rate, age, gl, gr, a_len, ia, rel_end, r_len, ir,
                cut_end, c_len, ic, scratch, mono):
    """Add samples 0..m-1 of one voice from column a as three runs: [0, k0) shaped (attack), [k0, k1) flat
    (envelope exactly 1), [k1, m) shaped (release, cut), each with the loops its rate needs."""
    if rate != np.floor(rate):  # fractional; a float: math.floor of a huge rate would wrap
        _shaped_run(out_l, out_r, a, k0, flat, base, p0, rate, age, gl, gr, a_len, ia, rel_end, r_len, ir,
                    cut_end, c_len, ic, True, mono)
        _flat_run(out_l, out_r, a + k0, k1 - k0, flat, base, p0, rate, age + k0, gl, gr, scratch, True, mono)
        _shaped_run(out_l, out_r, a + k1, m - k1, flat, base, p0, rate, age + k1, gl, gr, a_len, ia, rel_end,
                    r_len, ir, cut_end, c_len, ic, True, mono)
    else:
        _shaped_run(out_l, out_r, a, k0, flat, base, p0, rate, age, gl, gr, a_len, ia, rel_end, r_len, ir,
                    cut_end, c_len, ic, False, mono)
        _flat_run(out_l, out_r, a + k0, k1 - k0, flat, base, p0, rate, age + k0, gl, gr, scratch, False, mono)
        _shaped_run(out_l, out_r, a + k1, m - k1, flat, base, p0, rate, age + k1, gl, gr, a_len, ia, rel_end,
                    r_len, ir, cut_end, c_len, ic, False, mono)


@nb.njit(cache=True, inline="always")
def _unit_rate_voice(out_l, out_r, a, m, k0, k1, flat, base, p0, age, gl, gr, a_len, ia, rel_end, r_len, ir,
                     cut_end, c_len, ic):
    """`_voice_runs` at rate 1 (frames in a row: int(p0 + age) is int(p0) + age), reading both columns whatever
    the sample (the same values for a mono one). It takes no scratch: every array handed down the inlined runs
    costs reference counting per voice and segment, which shows in the many short segments of a busy node."""
    _shaped_run(out_l, out_r, a, k0, flat, base, p0, 1.0, age, gl, gr, a_len, ia, rel_end, r_len, ir, cut_end,
                c_len, ic, False, False)
    _unit_rate_run(out_l, out_r, a + k0, k1 - k0, flat, base + int(p0) + int(age) + k0, gl, gr)
    _shaped_run(out_l, out_r, a + k1, m - k1, flat, base, p0, 1.0, age + k1, gl, gr, a_len, ia, rel_end, r_len,
                ir, cut_end, c_len, ic, False, False)


@nb.njit(cache=True, nogil=True)
def _render_samples(out_l, out_r, a, b, pool, hi, data):
    """Add every active voice's samples for columns [a, b) in pool index order; free the voices that end.
    Returns how many were freed."""
    if hi == 0:  # an idle node: skip the scratch allocation
        return 0
    flat = data.reshape(data.shape[0] * 2)  # a view: frame i is flat[2i], flat[2i + 1]
    # _flat_run's batch (two arrays: every array handed down the inlined runs costs reference counting per voice)
    scratch = (np.empty(_CHUNK, dtype=np.uint64), np.empty((4, _CHUNK), dtype=np.float32))
    freed = 0
    seg = b - a
    for i in range(hi):
        if pool[i, V_ACTIVE] == 0.0:
            continue
        age = pool[i, V_AGE]
        end = pool[i, V_END]
        left = end - age
        m = seg if left >= seg else int(left)
        base = int(pool[i, V_BASE])
        p0 = pool[i, V_POS0]
        rate = pool[i, V_RATE]
        gl = pool[i, V_GL]
        gr = pool[i, V_GR]
        a_len = pool[i, V_ATTACK]
        rel_end = pool[i, V_REL_END]
        r_len = pool[i, V_RELEASE]
        cut_end = pool[i, V_CUT_END]
        c_len = pool[i, V_CUT_LEN]
        ia = 1.0 / a_len
        ir = 1.0 / r_len
        ic = 1.0 / c_len
        # the envelope is exactly 1 for a_len <= tau <= min(rel_end - r_len, cut_end - c_len) (tau = age + 1)
        flat_lo = max(a_len - 1.0 - age, 0.0)  # first k of the flat run
        flat_hi = min(min(rel_end - r_len, cut_end - c_len) - age, float(m))  # one past its last k
        k0 = int(flat_lo) if flat_lo < m else m
        k1 = int(flat_hi) if flat_hi > k0 else k0
        if rate == 1.0 and p0 >= 0.0:
            _unit_rate_voice(out_l, out_r, a, m, k0, k1, flat, base, p0, age, gl, gr, a_len, ia, rel_end, r_len, ir,
                             cut_end, c_len, ic)
        elif pool[i, V_MONO] != 0.0:  # a literal at each call: each inlined copy of the loops is specialised
            _voice_runs(out_l, out_r, a, m, k0, k1, flat, base, p0, rate, age, gl, gr, a_len, ia, rel_end, r_len,
                        ir, cut_end, c_len, ic, scratch, True)
        else:
            _voice_runs(out_l, out_r, a, m, k0, k1, flat, base, p0, rate, age, gl, gr, a_len, ia, rel_end, r_len,
                        ir, cut_end, c_len, ic, scratch, False)
        age += m
        pool[i, V_AGE] = age
        if age >= end:
            pool[i, V_ACTIVE] = 0.0
            freed += 1
    return freed


_MAX_FIXUP = 64  # steps the slice count's rounding fix-up may take; rounding is off by one or two at most


@nb.njit(cache=True, nogil=True)
def _slice_count(p0, rate, lo, hi):
    """Number of ages k >= 0 with lo <= p0 + rate * k < hi (the same expression the render loop uses), for a
    p0 inside the slice and rate != 0. Returns 0 when the count would exceed _MAX_FRAMES (or is NaN), or when
    the fix-up of the estimate's rounding does not settle within _MAX_FIXUP steps (no float precision left).
    The estimate stays a float (np.ceil, np.floor): as an int64 a huge count (rate 1e-20) wraps negative."""
    if rate > 0.0:
        n = np.ceil((hi - p0) / rate)
    else:
        n = np.floor((p0 - lo) / -rate) + 1.0
    if not n <= _MAX_FRAMES:  # also NaN: the caller skips the trigger
        return 0.0
    if n < 1.0:
        n = 1.0
    for _ in range(_MAX_FIXUP):  # the smallest n whose position has left the slice
        if n > 1.0 and not _in_slice(p0 + rate * (n - 1.0), rate, lo, hi):
            n -= 1.0
        elif _in_slice(p0 + rate * n, rate, lo, hi):
            n += 1.0
        else:
            return n
    return 0.0


@nb.njit(cache=True, inline="always")
def _in_slice(pos, rate, lo, hi):
    """Whether a position moving at `rate` has not yet left the slice [lo, hi) (at its far end)."""
    return pos < hi if rate > 0.0 else pos >= lo


@nb.njit(cache=True, nogil=True)
def play_samples(out_l, out_r, start, stop, sr, pool, triggers, n_triggers, data, offsets, lengths, channels,
                 stats):
    """Render the sample voices of one node into out_l/out_r[start:stop] (overwritten); see the module doc."""
    for n in range(start, stop):
        out_l[n] = 0.0
        out_r[n] = 0.0
    hi, count = _scan(pool, V_ACTIVE)
    n_ids = offsets.shape[0]
    cut_len = max(_samples_of(CUT_FADE, sr), 1.0)
    cursor = start
    for t in range(n_triggers):
        trig = triggers[t]
        off = trig[T_OFFSET]
        if off >= stop:
            continue
        col = int(off) if off >= cursor else cursor
        # validate first: a skipped trigger changes nothing (no cut, no steal)
        sv = trig[T_SAMPLE]
        if not (sv >= 0.0 and sv < n_ids):
            continue
        sid = int(sv)
        length = lengths[sid]
        gain = _clamp_gain(trig[T_GAIN])
        rate = trig[T_RATE]
        if length <= 0 or gain == 0.0 or rate == 0.0 or not math.isfinite(rate):
            continue
        begin = trig[T_BEGIN]
        end = trig[T_END]
        if not (begin < end):  # also NaN
            continue
        begin = min(max(begin, 0.0), 1.0)
        end = min(max(end, 0.0), 1.0)
        lo = math.floor(begin * length + 0.5)
        hi_f = math.floor(end * length + 0.5)
        if not lo < hi_f:
            continue
        p0 = lo if rate > 0.0 else hi_f - 1.0
        n_frames = _slice_count(p0, rate, lo, hi_f)
        if n_frames < 1.0:  # |rate| so small the voice would outlast any render (or NaN): treat as rate 0
            continue
        att = trig[T_ATTACK]
        a_len = _samples_of(DEFAULT_ATTACK if att == 0.0 else att, sr) if att >= 0.0 else 1.0
        rel = trig[T_RELEASE]
        r_len = _samples_of(DEFAULT_RELEASE if rel == 0.0 else rel, sr) if rel >= 0.0 else 1.0
        a_len = max(a_len, 1.0)
        r_len = max(r_len, 1.0)
        rel_end = n_frames + 1.0  # natural end: the last frame at 1/R
        hold = trig[T_HOLD]
        if hold >= 0.0:
            rel_end = min(rel_end, _whole_samples(hold) + r_len)
        voice_end = rel_end - 1.0
        if voice_end < 1.0:  # hold 0 with a hard stop: nothing to play
            continue
        if col > cursor:
            count -= _render_samples(out_l, out_r, cursor, col, pool, hi, data)
            cursor = col
        # cut group: fade every earlier voice of the group over cut_len samples from this column
        group = trig[T_CUT]
        if group != 0.0 and group == group:
            for i in range(hi):
                if pool[i, V_ACTIVE] != 0.0 and pool[i, V_CUT] == group:
                    age = pool[i, V_AGE]
                    ce = age + cut_len
                    if ce < pool[i, V_CUT_END]:
                        pool[i, V_CUT_END] = ce
                        pool[i, V_CUT_LEN] = cut_len
                        if ce - 1.0 < pool[i, V_END]:
                            pool[i, V_END] = max(ce - 1.0, age)
                    if pool[i, V_END] <= age:  # cut_len == 1: silent from this column
                        pool[i, V_ACTIVE] = 0.0
                        count -= 1
        slot, hi, count = _claim(pool, V_ACTIVE, V_AGE, hi, count, stats)
        gl, gr = _pan_gains(trig[T_PAN])
        row = pool[slot]
        row[:] = 0.0
        row[V_ACTIVE] = 1.0
        row[V_AGE] = 0.0
        row[V_END] = voice_end
        row[V_BASE] = offsets[sid]
        row[V_POS0] = p0
        row[V_RATE] = rate
        row[V_GL] = gain * gl
        row[V_GR] = gain * gr
        row[V_ATTACK] = a_len
        row[V_REL_END] = rel_end
        row[V_RELEASE] = r_len
        row[V_CUT_END] = _NEVER
        row[V_CUT_LEN] = 1.0
        row[V_CUT] = group if group == group else 0.0
        row[V_SAMPLE] = sid
        row[V_MONO] = 1.0 if channels[sid] == 1 else 0.0
        if count > stats[1]:
            stats[1] = count
    if stop > cursor:
        _render_samples(out_l, out_r, cursor, stop, pool, hi, data)


# ---------------------------------------------------------------------------------------------- synth voices


@nb.njit(cache=True, inline="always")
def _sine(p: float) -> float:
    """sin(2 pi p) for p in [0, 1): fold to y in [-1/4, 1/4] with sin(2 pi p) = sin(2 pi y), then an odd
    degree-11 polynomial fitted (near-minimax) to sin(2 pi y) on that range: error < 2e-11, sin(0) = 0 exactly."""
    v = p if p < 0.75 else p - 1.0
    y = 0.25 - abs(v - 0.25)
    z = y * y
    c = 41.999989933827834 + z * -14.337025124851849
    c = -76.70366783659544 + z * c
    c = 81.60520943140152 + z * c
    c = -41.341701929777464 + z * c
    return y * (6.283185306487508 + z * c)


@nb.njit(cache=True, inline="always")
def _osc(wave: int, p: float, dt: float) -> float:
    if wave == SINE:
        return _sine(p)
    if wave == SAW:
        return 2.0 * p - 1.0 - _blep(p, dt)
    if wave == SQUARE:
        down = p - 0.5
        if down < 0.0:
            down += 1.0
        return (1.0 if p < 0.5 else -1.0) + _blep(p, dt) - _blep(down, dt)
    # triangle, phase-aligned with the sine
    if p < 0.25:
        return 4.0 * p
    if p < 0.75:
        return 2.0 - 4.0 * p
    return 4.0 * p - 4.0


@nb.njit(cache=True, inline="always")
def _seconds(x: float) -> float:
    """A duration in seconds clamped to 0.._MAX_SECONDS (NaN -> 0)."""
    if not x > 0.0:
        return 0.0
    return min(x, _MAX_SECONDS)


@nb.njit(cache=True, inline="always")
def _synth_run(out_l, out_r, n0, run, phase, dt, c0, c1, x0, gl, gr, wave):
    """Add `run` samples of one voice from column n0 with envelope c0 + c1 * (x0 + q) (x0 = tau - origin of the
    first sample, an exact integer); returns the phase after them."""
    for q in range(run):
        env = c0 + c1 * (x0 + q)
        x = _osc(wave, phase, dt) * env
        out_l[n0 + q] += x * gl
        out_r[n0 + q] += x * gr
        phase += dt
        if phase >= 1.0:
            phase -= 1.0
    return phase


@nb.njit(cache=True, nogil=True)
def _render_synth(out_l, out_r, a, b, pool, hi, wave):
    """Add every active synth voice's samples for columns [a, b) in pool index order; free the voices that
    end. Returns how many were freed."""
    freed = 0
    seg = b - a
    for i in range(hi):
        if pool[i, Y_ACTIVE] == 0.0:
            continue
        age = pool[i, Y_AGE]
        end = pool[i, Y_END]
        left = end - age
        m = seg if left >= seg else int(left)
        phase = pool[i, Y_PHASE]
        dt = pool[i, Y_DT]
        gl = pool[i, Y_GL]
        gr = pool[i, Y_GR]
        k = 0
        while k < m:
            tau = age + k + 1.0
            # the envelope segment tau falls in: level c0 + c1 * (tau - origin) for taus up to `last`
            if tau <= pool[i, Y_T1]:
                c0 = 0.0
                c1 = pool[i, Y_INV_A]
                origin = 0.0
                last = pool[i, Y_T1]
            elif tau <= pool[i, Y_T2]:
                c0 = 1.0
                c1 = pool[i, Y_DEC_SLOPE]
                origin = pool[i, Y_A]
                last = pool[i, Y_T2]
            elif tau <= pool[i, Y_T3]:
                c0 = pool[i, Y_SUS]
                c1 = 0.0
                origin = 0.0
                last = pool[i, Y_T3]
            else:
                c0 = pool[i, Y_LEVEL]
                c1 = pool[i, Y_REL_SLOPE]
                origin = pool[i, Y_T3]
                last = _NEVER
            span = last - tau + 1.0
            run = m - k if span >= m - k else int(span)
            if run < 1:  # tau lies in its segment, so span >= 1; this only guards the loop's progress
                run = 1
            n0 = a + k
            # one loop per waveform (the wave argument is a literal in each inlined copy)
            if wave == SINE:
                phase = _synth_run(out_l, out_r, n0, run, phase, dt, c0, c1, tau - origin, gl, gr, SINE)
            elif wave == SAW:
                phase = _synth_run(out_l, out_r, n0, run, phase, dt, c0, c1, tau - origin, gl, gr, SAW)
            elif wave == SQUARE:
                phase = _synth_run(out_l, out_r, n0, run, phase, dt, c0, c1, tau - origin, gl, gr, SQUARE)
            else:
                phase = _synth_run(out_l, out_r, n0, run, phase, dt, c0, c1, tau - origin, gl, gr, TRI)
            k += run
        age += m
        pool[i, Y_AGE] = age
        pool[i, Y_PHASE] = phase
        if age >= end:
            pool[i, Y_ACTIVE] = 0.0
            freed += 1
    return freed


@nb.njit(cache=True, nogil=True)
def play_synth(out_l, out_r, start, stop, sr, pool, triggers, n_triggers, wave, stats):
    """Render the synth voices of one node into out_l/out_r[start:stop] (overwritten); see the module doc."""
    for n in range(start, stop):
        out_l[n] = 0.0
        out_r[n] = 0.0
    if wave < SINE or wave > TRI:
        wave = SINE
    hi, count = _scan(pool, Y_ACTIVE)
    cursor = start
    for t in range(n_triggers):
        trig = triggers[t]
        off = trig[S_OFFSET]
        if off >= stop:
            continue
        col = int(off) if off >= cursor else cursor
        freq = trig[S_FREQ]
        gain = _clamp_gain(trig[S_GAIN])
        if not (freq > 0.0 and freq < 1e12) or gain == 0.0:
            continue
        a_len = _samples_of(_seconds(trig[S_ATTACK]), sr)
        d_len = _samples_of(_seconds(trig[S_DECAY]), sr)
        r_len = _samples_of(_seconds(trig[S_RELEASE]), sr)
        sus = trig[S_SUSTAIN]
        sus = min(max(sus, 0.0), 1.0) if sus == sus else 0.0
        hold = trig[S_HOLD]
        gate = _whole_samples(hold) if hold >= 0.0 else _NEVER
        # ages 0..end-1 are output: the release reaches 0 at tau = gate + R (age gate + R - 1)
        if gate >= _NEVER:
            end = _NEVER
        else:
            end = gate + r_len - 1.0 if r_len >= 1.0 else gate
        if sus == 0.0 and a_len + d_len <= gate:  # silent once the decay has reached 0
            end = min(end, a_len + d_len - 1.0 if d_len >= 1.0 else a_len)
        level = ads_level(gate, a_len, d_len, sus) if gate < _NEVER else sus
        if gate < _NEVER and level == 0.0:
            end = min(end, gate)
        if not end >= 1.0:
            continue
        if col > cursor:
            count -= _render_synth(out_l, out_r, cursor, col, pool, hi, wave)
            cursor = col
        slot, hi, count = _claim(pool, Y_ACTIVE, Y_AGE, hi, count, stats)
        gl, gr = _pan_gains(trig[S_PAN])
        row = pool[slot]
        row[:] = 0.0
        row[Y_ACTIVE] = 1.0
        row[Y_AGE] = 0.0
        row[Y_END] = end
        row[Y_PHASE] = 0.0
        dt = freq / sr
        row[Y_DT] = dt - math.floor(dt)  # above the sample rate the sampled waveform is the same mod 1 cycle
        row[Y_GL] = gain * gl
        row[Y_GR] = gain * gr
        t1 = min(a_len, gate)
        row[Y_T1] = t1
        row[Y_INV_A] = 1.0 / a_len if a_len > 0.0 else 0.0
        row[Y_T2] = max(t1, min(a_len + d_len, gate))  # == T1 (empty) when D == 0 or the gate closes first
        row[Y_A] = a_len
        row[Y_DEC_SLOPE] = -(1.0 - sus) / d_len if d_len > 0.0 else 0.0
        row[Y_T3] = max(row[Y_T2], gate)
        row[Y_SUS] = sus
        row[Y_LEVEL] = level
        row[Y_REL_SLOPE] = -level / r_len if r_len > 0.0 else 0.0
        if count > stats[1]:
            stats[1] = count
    if stop > cursor:
        _render_synth(out_l, out_r, cursor, stop, pool, hi, wave)
