"""Tone shaping: `ladder` (Moog-style 4-pole lowpass), `comb` and `allpass` (Schroeder delay-line filters),
`eq lowshelf highshelf` (the RBJ cookbook's peaking and shelving EQ) and `vowel` (a formant filter).

Every recursion state is flushed to 0 below 1e-30 at every sample (not once per block), so a decaying tail
never goes denormal and the numbers never depend on where a block ends (invariant 2). Coefficients depend on
parameter values only: each kernel keeps them in locals, recomputed when a parameter's value changes (and on
the first sample of a call), so a held parameter costs no `tan` per sample and the block size changes nothing.
Every parameter is clamped where its `Param` says; a clamp sends NaN to the low end.

ladder input cutoff [res]. State: s1..s4 (the four integrators).
  Zavalishin's zero-delay-feedback ladder ("The Art of VA Filter Design", ch. 5): four TPT one-pole lowpasses
  (g = tan(pi fc / sr), G = g / (1 + g); a stage is v = (u - s) G, y = v + s, s = y + v), the feedback
  solved exactly instead of delayed one sample:
      S = (G^3 s1 + G^2 s2 + G s3 + s4) / (1 + g)      (y4 = G^4 u + S)
      u = softclip((x - k S) / (1 + k G^4))             (u = x - k y4, solved; then saturated)
  so the cutoff and the resonance are where the analog ladder has them at every cutoff up to Nyquist (a
  one-sample feedback delay detunes both). k = 4.2 res, res 0..1: the linear loop self-oscillates at k = 4
  (each stage gives 1/sqrt 2 at -45 degrees), so from res 0.952 up the filter sings at the cutoff. The
  saturation is on the ladder's input u, after the solve: small signals see the exact linear ladder, and
  since |u| <= 1 and each stage is BIBO-stable, every state stays bounded for any res and input (the
  self-oscillation settles at about 0.11 at res 1, 0.05 at res 0.96). softclip is the (3,2) Pade
  approximant of tanh, x (27 + x^2) / (27 + 9 x^2), which reaches 1 with slope 0 at |x| = 3 and is held
  there: tanh's shape at the cost of a division.
  As in the Moog, the passband loses gain with resonance: 1 / (1 + k) at DC (-14 dB at res 0.95).

comb input [time] [feedback]. State: w (write position), then buffer[L], L = int(TONE_MAX_SECONDS * sr).
  Feedback comb: y[n] = x[n] + feedback * y[n - d], d = time * sr samples clamped to [1, L], read with
  linear interpolation (as `delay` does: a d within 1e-9 of an integer reads one stored sample), feedback
  clamped to +-0.999 (always stable). Peaks at multiples of 1/time (feedback > 0; < 0: odd multiples of
  1/(2 time)), peak gain 1 / (1 - |feedback|). Interpolation keeps a comb tuned between samples (Karplus-
  Strong pitches), at the price of a gentle lowpass inside the loop at fractional delays.

allpass input [time] [gain]. State: w, then buffer[L] of the inner signal v.
  Schroeder allpass, H(z) = (-g + z^-d) / (1 - g z^-d), as v[n] = x[n] + g v[n - d], y[n] = v[n - d] - g v[n]
  (one line of d samples). d = time * sr rounded to whole samples, clamped to [1, L]; g clamped to +-0.999.
  The delay is rounded rather than interpolated because interpolation inside the loop would make the
  magnitude dip towards Nyquist: rounded, the magnitude is exactly flat at every setting.

eq / lowshelf / highshelf input freq gain_db [q]. State: ic1, ic2 (a mode const picks the function).
  The RBJ cookbook's peaking EQ and shelves (Bristow-Johnson, "Cookbook formulae for audio EQ biquad filter
  coefficients"): the same transfer functions (their analog prototypes, bilinear-transformed with the
  prewarp at freq), realised as Simper's trapezoidal state-variable filter ("Linear Trapezoidal Integrated
  SVF", Cytomic 2013) instead of a direct-form biquad, so a moving freq or gain never makes it ring or blow
  up. With A = 10^(gain_db / 40) and out = m0 x + m1 band + m2 low:
      eq:        g = tan(pi f / sr),        k = 1 / (q A), m = (1, k (A^2 - 1), 0)       (gain_db at freq)
      lowshelf:  g = tan(pi f / sr) / sqrt A, k = 1 / q,   m = (1, k (A - 1), A^2 - 1)   (gain_db below freq)
      highshelf: g = tan(pi f / sr) sqrt A,   k = 1 / q,   m = (A^2, k (1 - A) A, 1 - A^2) (gain_db above)
  A shelf's corner freq is where it gives half its gain; q = 1/sqrt 2 (its default) is the steepest shelf
  without overshoot (the cookbook's S = 1).

vowel input vowel. State: ic (5 formants x 2 integrators).
  Five TPT bandpasses in parallel, one per formant, each with unit gain at its centre times the formant's
  amplitude: out = sum_i amp_i k_i band_i, k_i = bandwidth_i / freq_i. vowel 0..4 is a e i o u; between two
  integers the frequencies, bandwidths and amplitudes (in dB) are interpolated linearly. The table is the
  Csound manual's "Formant values" (Appendix), countertenor voice: the register SuperDirt's `vowel` uses (it
  builds its vowels with the Vowel quark, `Vowel(\\a, \\counterTenor)`, whose table is Csound's).
  Unit gain at the first formant means nothing gets louder, so a broadband source comes out quieter (a 110 Hz
  saw by about 15 dB). A vowel that moves every sample recomputes five formants (five tan and exp) per
  sample: a pattern of vowels, which steps, costs nothing extra.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numba as nb
import numpy as np

from phonon.engine.kernels import clamp, flush
from phonon.graph.kinds import INPUT, Function, Kind, Param, define, fields, function

TONE_MAX_SECONDS = 1.0  # the longest comb or allpass delay: a buffer of this many seconds per node
RECURSION_LIMIT = 0.999  # |feedback| of comb, |gain| of allpass: below 1, so always stable
LADDER_RES_GAIN = 4.2  # k at res 1: the linear ladder self-oscillates from k = 4 (res 0.952)
_CLIP_KNEE = 3.0  # the Pade soft clip reaches +-1 with zero slope here


@nb.njit(cache=True, inline="always")
def _soft_clip(x: float) -> float:
    """tanh-like saturation: the (3,2) Pade approximant of tanh, monotonic on [-3, 3], +-1 beyond."""
    if x >= _CLIP_KNEE:
        return 1.0
    if x <= -_CLIP_KNEE:
        return -1.0
    x2 = x * x
    return x * (27.0 + x2) / (27.0 + 9.0 * x2)


# ------------------------------------------------------------------------------------------------ ladder


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def ladder(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        x = arena[wiring[i, 1]]
        cutoff = arena[wiring[i, 2]]
        res = arena[wiring[i, 3]]
        st = state[i]
        sr = st[0]
        s1, s2, s3, s4 = st[LADDER_S1], st[LADDER_S2], st[LADDER_S3], st[LADDER_S4]
        last_fc = last_res = math.nan  # NaN never equals itself: the coefficients are set on sample 1
        g1 = g2 = g3 = g4 = beta = solve = f1 = f2 = f3 = f4 = 0.0
        for n in range(start, stop):
            fc = cutoff[n]
            r = res[n]
            if fc != last_fc or r != last_res:
                last_fc, last_res = fc, r
                g = math.tan(math.pi * clamp(fc, _LADDER_CUTOFF_LO, 0.49 * sr) / sr)
                beta = 1.0 / (1.0 + g)
                g1 = g * beta  # G, and its powers
                g2 = g1 * g1
                g3 = g2 * g1
                g4 = g3 * g1
                k = LADDER_RES_GAIN * clamp(r, 0.0, 1.0)
                solve = 1.0 / (1.0 + k * g4)
                f4 = -k * solve * beta  # u = solve x + f1 s1 + f2 s2 + f3 s3 + f4 s4, before the clip
                f3 = f4 * g1
                f2 = f3 * g1
                f1 = f2 * g1
            # Each stage output straight from u (y_i = G^i u + p_i, p_i from the states only), not stage by
            # stage: the sample's critical path is then u -> y_i -> s_i -> u, a third shorter.
            u = _soft_clip((f1 * s1 + solve * x[n] + f4 * s4) + (f3 * s3 + f2 * s2))
            b1, b2, b3, b4 = beta * s1, beta * s2, beta * s3, beta * s4
            p2 = g1 * b1 + b2
            p3 = g1 * p2 + b3
            p4 = g1 * p3 + b4
            y4 = g4 * u + p4
            s1 = flush(2.0 * (g1 * u + b1) - s1)
            s2 = flush(2.0 * (g2 * u + p2) - s2)
            s3 = flush(2.0 * (g3 * u + p3) - s3)
            s4 = flush(2.0 * y4 - s4)
            out[n] = y4
        st[LADDER_S1], st[LADDER_S2], st[LADDER_S3], st[LADDER_S4] = s1, s2, s3, s4


# ---------------------------------------------------------------------------------------- comb, allpass


@nb.njit(cache=True, inline="always")
def _line(st, w_column: int, buffer_column: int):
    """A delay line's (buffer length, buffer view, write position) in a state row."""
    size = int(TONE_MAX_SECONDS * st[0])
    return size, st[buffer_column : buffer_column + size], int(st[w_column])


@nb.njit(cache=True, inline="always")
def _comb_delay(seconds: float, sr: float, size: int) -> tuple:
    """A comb's delay as (whole samples, fraction), within [1, size]; a delay within 1e-9 of an integer is
    snapped to it, so it reads one stored sample with no interpolation smear (as `delay` does)."""
    d = clamp(seconds * sr, 1.0, float(size))
    r = math.floor(d + 0.5)
    if abs(d - r) < 1e-9:
        d = r
    di = int(d)
    return di, d - di


@nb.njit(cache=True, nogil=True)
def comb(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        x = arena[wiring[i, 1]]
        time = arena[wiring[i, 2]]
        feedback = arena[wiring[i, 3]]
        st = state[i]
        sr = st[0]
        size, buf, w = _line(st, COMB_W, COMB_BUFFER)
        last_time = math.nan
        di, frac = 1, 0.0
        for n in range(start, stop):
            if time[n] != last_time:  # the tap moves only when time changes
                last_time = time[n]
                di, frac = _comb_delay(last_time, sr, size)
            j = w - di
            if j < 0:
                j += size
            delayed = buf[j]
            if frac > 0.0:  # towards the next older sample (di < size here, so it exists)
                j = j - 1 if j > 0 else size - 1
                delayed += frac * (buf[j] - delayed)
            y = flush(x[n] + clamp(feedback[n], -RECURSION_LIMIT, RECURSION_LIMIT) * delayed)
            buf[w] = y
            out[n] = y
            w = w + 1 if w + 1 < size else 0
        st[COMB_W] = w


@nb.njit(cache=True, nogil=True)
def allpass(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        x = arena[wiring[i, 1]]
        time = arena[wiring[i, 2]]
        gain = arena[wiring[i, 3]]
        st = state[i]
        sr = st[0]
        size, buf, w = _line(st, ALLPASS_W, ALLPASS_BUFFER)
        last_time = math.nan
        di = 1
        for n in range(start, stop):
            if time[n] != last_time:
                last_time = time[n]
                di = int(clamp(last_time * sr + 0.5, 1.0, float(size)))  # rounded to whole samples
            j = w - di
            if j < 0:
                j += size
            delayed = buf[j]
            g = clamp(gain[n], -RECURSION_LIMIT, RECURSION_LIMIT)
            v = flush(x[n] + g * delayed)
            buf[w] = v
            out[n] = delayed - g * v
            w = w + 1 if w + 1 < size else 0
        st[ALLPASS_W] = w


# ------------------------------------------------------------------------------------------- eq, shelves

EQ_PEAK, EQ_LOWSHELF, EQ_HIGHSHELF = 0.0, 1.0, 2.0
_DB_TO_LN = math.log(10.0) / 20.0


@nb.njit(cache=True, inline="always")
def _eq_coefficients(mode: float, freq: float, gain_db: float, q: float, sr: float) -> tuple:
    """(a1, a2, a3, m0, m1, m2) of the trapezoidal SVF that has the cookbook's response for the mode."""
    a = math.exp(clamp(gain_db, _GAIN_LO, _GAIN_HI) * (0.5 * _DB_TO_LN))  # A = 10^(dB / 40)
    g = math.tan(math.pi * clamp(freq, _FREQ_LO, 0.49 * sr) / sr)
    k = 1.0 / clamp(q, _Q_LO, _Q_HI)
    m = int(mode)  # EQ_PEAK, EQ_LOWSHELF, EQ_HIGHSHELF
    if m == 1:  # low shelf
        g /= math.sqrt(a)
        m0, m1, m2 = 1.0, k * (a - 1.0), a * a - 1.0
    elif m == 2:  # high shelf
        g *= math.sqrt(a)
        m0, m1, m2 = a * a, k * (1.0 - a) * a, 1.0 - a * a
    else:  # peaking
        k /= a
        m0, m1, m2 = 1.0, k * (a * a - 1.0), 0.0
    a1 = 1.0 / (1.0 + g * (g + k))
    a2 = g * a1
    return a1, a2, g * a2, m0, m1, m2


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def eq(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        x = arena[wiring[i, 1]]
        freq = arena[wiring[i, 2]]
        gain = arena[wiring[i, 3]]
        q = arena[wiring[i, 4]]
        st = state[i]
        sr = st[0]
        mode = st[EQ_MODE]
        ic1, ic2 = st[EQ_IC1], st[EQ_IC2]
        last_f = last_g = last_q = math.nan
        a1 = a2 = a3 = m0 = m1 = m2 = 0.0
        for n in range(start, stop):
            f, gdb, qn = freq[n], gain[n], q[n]
            if f != last_f or gdb != last_g or qn != last_q:
                last_f, last_g, last_q = f, gdb, qn
                a1, a2, a3, m0, m1, m2 = _eq_coefficients(mode, f, gdb, qn, sr)
            v0 = x[n]
            v3 = v0 - ic2
            v1 = a1 * ic1 + a2 * v3
            v2 = ic2 + a2 * ic1 + a3 * v3
            ic1 = flush(2.0 * v1 - ic1)
            ic2 = flush(2.0 * v2 - ic2)
            out[n] = m0 * v0 + m1 * v1 + m2 * v2
        st[EQ_IC1], st[EQ_IC2] = ic1, ic2


# ------------------------------------------------------------------------------------------------ vowel

# Csound manual, Appendix "Formant values", countertenor: per vowel (a e i o u) five formants' centre
# frequency (Hz), amplitude (dB) and bandwidth (Hz).
VOWEL_FREQS = np.array([
    [660.0, 1120.0, 2750.0, 3000.0, 3350.0],
    [440.0, 1800.0, 2700.0, 3000.0, 3300.0],
    [270.0, 1850.0, 2900.0, 3350.0, 3590.0],
    [430.0, 820.0, 2700.0, 3000.0, 3300.0],
    [370.0, 630.0, 2750.0, 3000.0, 3400.0],
])  # fmt: skip
VOWEL_DB = np.array([
    [0.0, -6.0, -23.0, -24.0, -38.0],
    [0.0, -14.0, -18.0, -20.0, -20.0],
    [0.0, -24.0, -24.0, -36.0, -36.0],
    [0.0, -10.0, -26.0, -22.0, -34.0],
    [0.0, -20.0, -23.0, -30.0, -34.0],
])  # fmt: skip
VOWEL_BANDWIDTHS = np.array([
    [80.0, 90.0, 120.0, 130.0, 140.0],
    [70.0, 80.0, 100.0, 120.0, 120.0],
    [40.0, 90.0, 100.0, 120.0, 120.0],
    [40.0, 80.0, 100.0, 120.0, 120.0],
    [40.0, 60.0, 100.0, 120.0, 120.0],
])  # fmt: skip
VOWELS = "aeiou"
VOWEL_FORMANTS = VOWEL_FREQS.shape[1]


@nb.njit(cache=True, inline="always")
def _formant(vowel: float, j: int, sr: float) -> tuple:
    """(a1, a2, a3, band gain) of formant j at a (fractional) vowel."""
    v = clamp(vowel, 0.0, 4.0)
    lo = min(int(v), 3)
    t = v - lo
    f = VOWEL_FREQS[lo, j] + t * (VOWEL_FREQS[lo + 1, j] - VOWEL_FREQS[lo, j])
    bw = VOWEL_BANDWIDTHS[lo, j] + t * (VOWEL_BANDWIDTHS[lo + 1, j] - VOWEL_BANDWIDTHS[lo, j])
    db = VOWEL_DB[lo, j] + t * (VOWEL_DB[lo + 1, j] - VOWEL_DB[lo, j])
    fc = min(f, 0.49 * sr)  # only at sample rates below 7.3 kHz
    g = math.tan(math.pi * fc / sr)
    k = bw / fc
    a1 = 1.0 / (1.0 + g * (g + k))
    a2 = g * a1
    return a1, a2, g * a2, k * math.exp(db * _DB_TO_LN)


@nb.njit(cache=True, inline="always")
def _band(x: float, ic1: float, ic2: float, c: tuple) -> tuple:
    """One sample of one formant: (its output, ic1, ic2)."""
    a1, a2, a3, gain = c
    v3 = x - ic2
    v1 = a1 * ic1 + a2 * v3
    v2 = ic2 + a2 * ic1 + a3 * v3
    return gain * v1, flush(2.0 * v1 - ic1), flush(2.0 * v2 - ic2)


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def vowel(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        x = arena[wiring[i, 1]]
        which = arena[wiring[i, 2]]
        st = state[i]
        sr = st[0]
        ic = st[VOWEL_IC : VOWEL_IC + 10]
        p0, r0, p1, r1, p2, r2, p3, r3, p4, r4 = ic[0], ic[1], ic[2], ic[3], ic[4], ic[5], ic[6], ic[7], ic[8], ic[9]
        last = math.nan
        c0 = c1 = c2 = c3 = c4 = (0.0, 0.0, 0.0, 0.0)
        for n in range(start, stop):
            v = which[n]
            if v != last:
                last = v
                c0, c1, c2 = _formant(v, 0, sr), _formant(v, 1, sr), _formant(v, 2, sr)
                c3, c4 = _formant(v, 3, sr), _formant(v, 4, sr)
            xn = x[n]
            y0, p0, r0 = _band(xn, p0, r0, c0)
            y1, p1, r1 = _band(xn, p1, r1, c1)
            y2, p2, r2 = _band(xn, p2, r2, c2)
            y3, p3, r3 = _band(xn, p3, r3, c3)
            y4, p4, r4 = _band(xn, p4, r4, c4)
            out[n] = y0 + y1 + y2 + y3 + y4
        ic[0], ic[1], ic[2], ic[3], ic[4], ic[5], ic[6], ic[7], ic[8], ic[9] = p0, r0, p1, r1, p2, r2, p3, r3, p4, r4


# ------------------------------------------------------------------------------------------ definitions

# cost_ns: measured ns per sample of one node with held parameters (a timing loop over the kernel, 512-sample
# blocks, one node per batch; svf measured 4.5 the same way). A parameter that moves every sample recomputes
# coefficients: ladder 28, eq 20, vowel 105 (five tan and exp), comb 6.7, allpass 4.

_LADDER_CUTOFF = Param("cutoff", None, 20.0, None, "Hz, clamped to 20 .. 0.49 sr")
_LADDER_CUTOFF_LO = _LADDER_CUTOFF.lo
LADDER = define(
    Kind(
        "ladder", ("input", "cutoff", "res"), state=fields("s1", "s2", "s3", "s4"), cost_ns=14.0, kernel=ladder,
        functions=(
            function("ladder", "ladder", INPUT, _LADDER_CUTOFF,
                     Param("res", 0.0, 0.0, 1.0, "resonance; self-oscillates from about 0.95"),
                     doc="Moog-style 4-pole ladder lowpass"),
        ),
        doc="Moog-style 4-pole (24 dB/oct) zero-delay-feedback ladder lowpass, saturating; self-oscillates near res 1",
    )
)  # fmt: skip
_TIME_DOC = "s, up to 1 s"
COMB = define(
    Kind(
        "comb", ("input", "time", "feedback"),
        state=fields("w", buffer=lambda sr: int(TONE_MAX_SECONDS * sr)), cost_ns=4.0, kernel=comb,
        functions=(
            function("comb", "comb", INPUT, Param("time", 0.01, 0.0, TONE_MAX_SECONDS, _TIME_DOC),
                     Param("feedback", 0.7, -RECURSION_LIMIT, RECURSION_LIMIT), doc="feedback comb filter"),
        ),
        doc="feedback comb: peaks at multiples of 1/time, y = x + feedback * y(t - time)",
    )
)  # fmt: skip
ALLPASS = define(
    Kind(
        "allpass", ("input", "time", "gain"),
        state=fields("w", buffer=lambda sr: int(TONE_MAX_SECONDS * sr)), cost_ns=3.3, kernel=allpass,
        functions=(
            function("allpass", "allpass", INPUT,
                     Param("time", 0.005, 0.0, TONE_MAX_SECONDS, _TIME_DOC + ", whole samples"),
                     Param("gain", 0.5, -RECURSION_LIMIT, RECURSION_LIMIT), doc="Schroeder allpass"),
        ),
        doc="Schroeder allpass: flat magnitude, smeared phase (time rounded to whole samples)",
    )
)  # fmt: skip
_FREQ = Param("freq", None, 20.0, None, "Hz, clamped to 20 .. 0.49 sr")
_GAIN = Param("gain_db", None, -48.0, 24.0, "dB")
_FREQ_LO, _GAIN_LO, _GAIN_HI = _FREQ.lo, _GAIN.lo, _GAIN.hi
_Q = Param("q", 1.0, 0.1, 20.0)
_Q_LO, _Q_HI = _Q.lo, _Q.hi
EQ = define(
    Kind(
        "eq", ("input", "freq", "gain_db", "q"), consts=("mode",), state=fields("ic1", "ic2"), cost_ns=6.0, kernel=eq,
        functions=tuple(
            Function(name, "eq", (INPUT, _FREQ, _GAIN, replace(_Q, default=q)), fixed={"mode": mode}, doc=doc)
            for name, mode, q, doc in (
                ("eq", EQ_PEAK, 1.0, "peaking EQ: gain_db at freq"),
                ("lowshelf", EQ_LOWSHELF, 1 / math.sqrt(2), "low shelf: gain_db below freq"),
                ("highshelf", EQ_HIGHSHELF, 1 / math.sqrt(2), "high shelf: gain_db above freq"),
            )
        ),
        doc="RBJ cookbook peaking EQ and shelves (shelf q defaults to 0.707), as a modulation-safe SVF",
    )
)  # fmt: skip
VOWEL = define(
    Kind(
        "vowel", ("input", "vowel"), state=fields(ic=10), cost_ns=10.0, kernel=vowel,
        functions=(
            function("vowel", "vowel", INPUT, Param("vowel", None, 0.0, 4.0, "0 1 2 3 4 = a e i o u, fractions blend"),
                     doc="formant filter"),
        ),
        doc="formant filter: 5 parallel bandpasses at a vowel's formants (Csound countertenor table, as SuperDirt)",
    )
)  # fmt: skip
LADDER_S1, LADDER_S2, LADDER_S3, LADDER_S4 = LADDER.columns("s1", "s2", "s3", "s4")
COMB_W, COMB_BUFFER = COMB.columns("w", "buffer")
ALLPASS_W, ALLPASS_BUFFER = ALLPASS.columns("w", "buffer")
EQ_MODE, EQ_IC1, EQ_IC2 = EQ.columns("mode", "ic1", "ic2")
(VOWEL_IC,) = VOWEL.columns("ic")
