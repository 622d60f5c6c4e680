"""Voice kernels: polyphonic sample playback (`s "bd sn"`) and polyphonic synth notes (`saw "c3 e3 g3"`), each
voice with its own controls (SuperDirt's names and ranges: graph/values.py VOICE_CONTROLS is the one definition,
and the README's table of voice controls is made from it) and its own effects.

The host calls each kernel once per block per voice node with the triggers (events) whose onset column lies in
[start, stop), sorted by offset. A kernel OVERWRITES out_l[start:stop] and out_r[start:stop] with the sum of
all voices sounding in that range (it starts from zero). Everything a voice needs lives in its pool row, so
nothing but the pool (and `stats`) carries state from one call to the next.

Block-size independence (exact, bit for bit): voices are rendered over the segments between consecutive trigger
offsets, each output sample summing the voices in pool index order; every per-sample quantity is a function of
the voice's age (samples since its onset) or of state stored in float64 in the pool (filter integrators, the
held value of `coarse`, the oscillator phase), and a voice is freed on the sample where it ends, so slot
allocation, stealing and summation order are the same however the host splits the timeline into calls
(tests/test_voice_kernels.py renders the same triggers with blocks of 4000, 64, 100 and 1 samples and compares
with ==; tests/test_voice_controls.py does the same for every effect).

Arrays
------
out_l, out_r   float64 [>= stop]  output columns (absolute; `start`/`stop` index them, trigger offsets too)
pool           float64 [P, POOL_WIDTH] / [P, SYNTH_POOL_WIDTH]  from `new_pool(P)` / `new_synth_pool(P)`
               (all zeros = all slots free; the default P is 512, as in the reference)
triggers       float64 [capacity, TRIGGER_WIDTH] (one layout for both kernels) from `new_triggers`, rows
               0..n_triggers-1 used. A row holds the event's raw controls: the columns T_OFFSET T_SAMPLE T_FREQ
               T_LENGTH T_CPS, then one per voice control of graph/values.py (T_GAIN, T_CUTOFF, ...). NaN in a
               control's column means "not given" (DEFAULT_TRIGGER holds every column's value when nothing gives
               it), and the kernels turn the row into the voice's parameters by the formulas below.
stats          float64 or int64 [>= 2]: stats[0] += voices stolen; stats[1] = max(stats[1], active voices
               right after a voice starts), i.e. the most voices ever sounding at once. The host owns it.
data, offsets, lengths, channels   the `engine.samples.bank.SampleBank` arrays (float32 [frames, 2],
               C-contiguous, with mono duplicated into both columns and one zero guard frame before and after
               every sample; int64 [n]; int64 [n]; int64 [n], 1 where the sample is mono, i.e. its two columns
               are equal). `bank.data, bank.offsets, bank.lengths, bank.channels` as they are. A channel count
               of 1 is taken at its word: the voice reads the left column for both sides (the same numbers the
               right one would give), except at rate 1 without effects, where it reads both.
sr             float, the engine rate; start, stop: ints; wave: int (SINE ... PLUCK, or -1: only the triggers that
               name their waveform in T_WAVE).
lines          float64 [P, L] (`play_notes`): pluck's delay lines from `new_lines`, or [1, 1] when no pluck comes.

Level and pan (both kernels)
----------------------------
level = amp * velocity * (min(gain, 2) + overgain)^4, SuperDirt's DirtEvent formula (its orbit's default amp is
0.4; here T_AMP defaults to 1, so gain 1 plays a sample at its own level) with Strudel's velocity multiplied in;
clamped to MAX_LEVEL. A base min(gain, 2) + overgain <= 0 or NaN, or a level <= 0 or NaN: the trigger is skipped.
pan 0..1 (clamped; NaN -> 0.5), theta = pan * pi / 2, as the `pan` function of any signal (engine/kernels/
stereo.py, one `pan_gains`): a mono voice (synth notes, mono samples) takes left cos(theta), right sin(theta) (computed so
that the centre is the same number on both sides and a hard pan leaves exactly 0) -- constant power, 0.7071 on each side at the
centre, 1.0 on one side at a hard pan, never louder than the input; a stereo sample is balanced: left column *
min(1, sqrt(2) cos(theta)), right column * min(1, sqrt(2) sin(theta)) (the centre leaves it as it is).

Envelope timing convention (both kernels)
-----------------------------------------
Envelopes are continuous piecewise-linear curves of tau = age + 1 (in samples), i.e. each output sample takes
the curve's value at its END. A ramp of L samples that rises from 0 therefore gives 1/L, 2/L, ..., L/L = 1 on
ages 0..L-1: the onset sample is already audible (a hit is detectable at its exact column) and full level is
reached on the L-th sample. A release of R samples from level x gives x(R-1)/R, ..., x/R, 0: the first
released sample is at age `gate` and the level is 0 at age gate + R - 1, where the voice is freed. All
durations are rounded to whole samples (floor(seconds * sr + 0.5)).

The gate (where the release starts), in samples from the onset: the smaller of legato * T_LENGTH (the event's
length in samples; legato not given: synth notes 1, samples none) and attack + hold (hold given); nothing given:
synth notes never close (T_LENGTH < 0), samples close at the event's end when a release is given and otherwise
play to the natural end of the slice. sustain not given: 1, or 0 when decay is given (Strudel's rule).

Sample voices (`play_samples`)
------------------------------
- Rate: speed * 2^(note / 12) (note clamped to +-12000 semitones), times cps * length / sr with unit c (T_UNIT 1:
  speed counts cycles per sample length, SuperDirt's unit "c"). end < begin swaps them and negates the rate
  (SuperDirt: the slice plays backwards).
- Slice: lo = floor(begin * length + 0.5), hi = floor(end * length + 0.5) frames (begin, end clamped to 0..1;
  skipped unless lo < hi). Chops that share a boundary therefore tile the sample exactly.
- Position (frames from the sample start) at age k: pos = p0 + rate * k, with p0 = lo for rate > 0 and
  p0 = hi - 1 (the last frame of the slice) for rate < 0. Linear interpolation between floor(pos) and the
  next frame (reading the guard frame or the frame just past the slice at the end, as the sample continues).
  The voice plays while lo <= pos < hi: N = number of ages with pos in the slice (rate 2 on 10 frames: 5).
  rate 0, NaN or inf: the trigger is skipped.
- loop L (> 0, not 1) or accelerate a (not 0): with S = hi - lo, r0 = rate, r1 = rate * (1 + a), the voice lasts
  N = ceil(L * S / ((|r0| + |r1|) / 2)) samples (SuperDirt: the rate ramps from speed to speed * (1 + a) over
  the voice, whose length is the slice's at the mean rate, times loop), and pos = lo + wrap(p0 - lo + r0 k +
  (r1 - r0) k^2 / (2 N)), wrapped into [0, S): the slice repeats.
- Envelope: min(attack ramp, decay curve, L * release ramp, cut fade), with
      attack A = attack seconds (not given or 0 -> default 1 ms = 44 samples at 44.1 kHz; < 0 -> no ramp);
      decay curve: 1 up to tau = A, then 1 - (1 - S) (tau - A) / D down to the sustain level S (D = 0: S at once);
      release R = release seconds (not given or 0 -> default 3 ms = 132 samples at 44.1 kHz; < 0 -> hard stop),
      its ramp (rel_end - tau) / R with rel_end = min(N + 1, gate + R) (the slice's natural end fades too: its
      last frame plays at 1/R), scaled by L = the decay curve where the ramp starts;
      a voice whose sustain is 0 ends when its decay does.
- Cut groups: a voice with cut group N > 0 starting at column t fades every earlier active voice of group N
  linearly over C = 10 ms (441 samples at 44.1 kHz): the earlier voice's envelope is capped at (C-1)/C at
  column t, (C-2)/C at t + 1, ..., 1/C, and it is freed (silent) from column t + C - 1. Other groups continue.
- Stealing: when all P slots are busy, the oldest voice (largest age, i.e. started earliest; ties: lowest
  index) is cut off and its slot reused; stats[0] counts it. A new voice takes the lowest free slot.
- Skipped (changing nothing, cutting nothing): unknown sample id, empty sample or slice, a level of 0 (above),
  speed or note NaN, rate 0 / NaN / inf, or |rate| so small that the voice would last more than 2**40 samples.
  NaN pan -> centre. An offset below the current render point (out of order, or < start) starts at the current
  point; one >= stop is ignored (the host passes it in the call that contains it).
- Bounded by construction: counts and durations stay float64 and are clamped to 2**40 samples before any
  conversion to an integer (math.floor and math.ceil convert to int64 in numba, and a huge value would wrap
  to a negative count that slips past a guard); the slice count's rounding fix-up takes a bounded number of
  steps; every other loop runs over the pool or the block's samples.
- Speed of a voice without effects (V_ACTIVE 1, a "plain" voice: no effect, sustain 1, loop 1, accelerate 0):
  per voice and segment the kernel splits the samples into [attack | flat | release/cut] runs. The
  ramps go sample by sample (`_shaped_run`, the formula above). The flat run, where the envelope is exactly 1,
  goes in batches of 64 samples (`_flat_run`): frame numbers, then the frame reads, then interpolation and
  mixing, so that all but the reads vectorise; at rate 1 the frames lie in a row and one vectorised loop adds
  them (`_unit_rate_run`). A mono voice reads one column, the left, for both sides (not at rate 1, where
  reading both is as fast). Integer rates skip the interpolation. Every loop computes each output sample by
  the same floating-point operations in the same order, so the split never shows in the output
  (tests/test_voice_kernels.py holds mono and stereo voices at unit, integer and fractional rates, both ways,
  to a per-sample model with ==). Measured figures: tests/test_voice_kernels.py's micro benchmark and
  `python -m benchmarks.drums` (see the README).

Per-voice effects (both kernels)
--------------------------------
A voice with any effect, a sustain below 1, a loop or an accelerate is an "effect" voice (V_ACTIVE 2). Its raw
signal (the interpolated sample frames, one lane per channel, or the synth's oscillator) goes through its
effects in SuperDirt's module order, then the envelope, the level and the pan:

    vowel -> shape -> hpf (hcutoff) -> bpf (bandf) -> crush -> coarse -> lpf (cutoff, its envelope) -> distort

- vowel v (a e i o u = 0..4, fractions blend): the `vowel` function's formant filter (engine/kernels/tone.py:
  five TPT bandpasses at the Csound countertenor formants, unit gain at the first), per lane.
- shape s (0..1): SuperDirt's: s' = min(s, 1 - 4e-10), k = 2 s' / (1 - s'), y = (1 + k) x / (1 + k |x|).
- hcutoff / cutoff f (Hz; |f|, clamped 20 Hz .. 0.49 sr): TPT state-variable high / low pass (svf_step and
  svf_coefficients of engine/kernels/filters.py) with q = 10^(hpq / 20) (lpq), Strudel's q read as Web Audio
  reads a lowpass's q (the peak in dB), when given, else q = 1000^clamp(resonance, 0, 1) (SuperDirt's RLPF/RHPF:
  rq = 0.001^resonance); q clamped to Q_RANGE.
- bandf f (clamped >= 20 Hz): bandpass with q = max(bandq, 1) (10 when not given), its output times q
  (SuperDirt's dirt_bpf).
- crush c (clamped 1..16): SuperDirt's x.round(0.5^(c - 1)): y = floor(x / q + 0.5) * q with q = 0.5^(c - 1).
- coarse c (> 1): SuperDirt's Latch at SampleRate / c: the lane takes a new value at ages k where floor(k / c)
  changes (k = 0, c, 2c, ... for whole c) and holds it in between.
- lpenv e, lpattack, lpdecay, lpsustain, lprelease (any given, with a cutoff): Strudel's filter envelope. The
  cutoff moves exponentially, i.e. linearly in octaves o above the cutoff: from o0 = 0 to o1 = e (e < 0: from
  |e| down to 0) over the attack, to os = log2(2^o0 + s (2^o1 - 2^o0)) over the decay, holds, and returns to o0
  over the release from the gate (none given: 0.005 0.14 0 0.1 s; otherwise Strudel's rule: sustain 1 when no
  decay is given, else 0.001, and attack and decay at least 0.001 s, release 0.01 s; e not given: 1). The
  coefficients change every FILTER_ENV_STEP samples of age, from the octave at the step's first age; the cutoff
  is clamped to 20 kHz (Strudel's) and to 0.49 sr.
- distort d (> 0): Strudel's: k = e^d - 1, y = (1 + k) x / (1 + k |x|).
Filter integrators are flushed to 0 below 1e-30 on every sample (so the flush never depends on the block).

How it runs: while a node has effect voices, a segment is rendered in chunks of FX_CHUNK columns. For each
chunk, the effect voices' raw lanes are written into a [lanes, chunk] array (`_sample_raw`, `_synth_raw`);
the filters run over all lanes at once, 16 lanes to a pass with each lane's state in registers and 4 samples of
4 lanes transposed in registers on the way in and out (engine/kernels/lane_filters.py: the "voices in SIMD lanes"
of DESIGN.md; `_filter_stage`, and `_vowel_stage` for the formants), the other effects lane by lane
(`_lane_stage`); then every voice is added to the output in pool index order, the plain
ones by their runs for the chunk's columns (`_mix_samples`, `_mix_synth`). Each lane's arithmetic is its own,
so how lanes are grouped or chunked never shows; a node with no effect voice renders as before (one check of
V_ACTIVE per voice and segment). `orbit` is recorded in the pool row (F_ORBIT).
Measured (`python -m benchmarks.voice_controls` on the 2-core dev VM: 48 mono voices at rate 1.37, best of 5 in
CPU time), ns per voice-sample: a plain voice 1.25; a lowpass, highpass or bandpass +0.5-0.75 (+1.0-1.2 while
the lanes ran innermost with the state in memory and a tile copied time-major and back, in the same sitting),
shape or distort +1.3, crush +0.4, coarse +1.4, a decay to a sustain +0.15, loop +0.45; the filter envelope
+2.6 (over the lanes as well, its coefficients read sample by sample from a table; +7.4 lane by lane. Most of
it is a new cutoff's coefficients every FILTER_ENV_STEP samples, 2^octave and a tangent, about 30 ns each
time), vowel +5.2 (five bandpasses, each over the lanes that have a vowel; +11.5 lane by lane). The drum
workload (`python -m benchmarks.drums`, one worker, 10 s, median of 3 in wall time): 46-49x real time plain,
25x with a cutoff on every voice where the session's starting code ran at 18.6-19.2x (interleaved; 17-21x
in slower sittings). In its kernel time (perf) the filters are 36 %, the raw lanes 35 (reading the samples:
the interpolation's taps are loads one by one), the mix 19.

Sends (both kernels; README: Orbits, graph/orbits.py)
-----------------------------------------------------
sends   float64 [2k, >= stop]: the node's send rows, a left and a right row per (orbit, effect) bus it can send to,
        OVERWRITTEN over [start, stop) like the output (none by default: a node without sends).
routes  int64 [MAX_ORBITS, 2]: for each orbit, the left row in `sends` of its reverb (column 0) and its delay
        (column 1) bus; -1 where the compiler made none (no probed event of the node sends there).
A voice whose trigger gives room > 0 (delay > 0) and whose orbit (T_ORBIT, a whole number below MAX_ORBITS) has
that bus sends to it: its samples, panned and at its level, are added to its wet rows (cleared first), then from
there to the output (the same numbers as a voice that does not send: 0 + x is x) and, times room (delay), to the
send rows. NaN, 0 or a negative level, or no bus, sends nothing. A voice that does not send costs one check per
segment. Measured (`python -m benchmarks.voice_controls`, 48 plain mono voices, the shared 2-core VM, two runs):
a send adds 1.6-2.6 ns per voice-sample (the wet rows' clearing and the two extra passes over them), both sends
about as much; the drum workload with `# room 0.3` on every voice renders at 16x real time against 29x without.

Synth voices (`play_synth`)
---------------------------
wave: SINE 0, SAW 1 (PolyBLEP), SQUARE 2 (PolyBLEP), TRI 3. Frequency T_FREQ * 2^(note / 12). The phase starts
at 0 and advances freq / sr per sample (computed before the increment, as in `oscillators`): sine and triangle
start at 0 rising (the triangle is phase-aligned with the sine: 4p, 2 - 4p, 4p - 4), saw and square start at 0
because the PolyBLEP correction sees the onset as their discontinuity. Sine uses a degree-11 odd polynomial on a
folded phase (error < 2e-11, half the cost of math.sin).
ADSR (curve of tau = age + 1, see above): attack A samples 0 -> 1 (A = 0: starts at 1), decay D samples
1 -> sustain S (clamped 0..1), sustain while the gate is open, then release R samples from the level L the curve
had at tau = G down to 0 (R = 0: hard stop). None of attack decay sustain release given: SYNTH_DEFAULTS
(Strudel's 0.001 0.05 0.6 0.01); some given: attack 0.001, decay 0, release 0.01 for the others and sustain by
the rule above. The gate: above (legato 1 when not given: a note lasts its event, and legato or release lengthen
it). A voice is freed when the release reaches 0, or when S == 0 and the decay has finished (whatever the gate).
A voice whose gate never closes (T_LENGTH < 0) with S > 0 sounds until it is stolen. freq <= 0 or NaN, a level
of 0, or an envelope that is silent from the start (A = D = 0 with S = 0; gate 0 with A > 0): skipped. NaN
durations count as not given; durations are clamped to 1e6 s. A frequency above the sample rate is taken modulo
it (the sampled waveform is the same). Same pan law (mono), effects, stealing rule, stats and block-size
independence as the sample voices.

A trigger's waveform is its T_WAVE column (the names under `s`, graph/kinds.py SYNTH_SOUNDS), else the kernel's
`wave` argument (the oscillator functions: `saw "c3 e3"`); with neither (a sample's row, when `play_notes` runs
beside `play_samples` on one trigger table) it is skipped. The waveforms past TRI are voices of several
oscillators or a delay line: they always render by lanes (`_synth_raw`, as an effect voice does), so the effects
and the envelope apply to them as to any voice.
- SUPERSAW (Strudel's): `unison` N saws (clamped 1..MAX_SUBS), saw k at freq * 2^(detune (k / (N - 1) - 1/2) / 12),
  phase frac(0.618 k) at the onset (Strudel's are random), each 1 / sqrt(N); with s = spread * 0.5 + 0.5 the even
  saws go left * sqrt(1 - s), right * sqrt(s), the odd ones the other way round (spread 0 when N is 1). A stereo
  voice (two lanes, Y_LANES 2), balanced by pan as a stereo sample.
- PIANO: partial k (1..PIANO_PARTIALS, below 0.45 sr) at k freq sqrt(1 + B k^2), amplitude (1 / k) / sum(1 / j),
  falling by 60 dB in T60 / (1 + (k - 1) / 2) seconds, T60 = 3 (261.63 / freq)^0.6 clamped 0.3 .. 20: a product
  per sample carried in the pool (flushed to 0 below 1e-30, per sample), so every split gives the same numbers.
- PLUCK: Karplus-Strong, `_pluck_raw`: a burst of one period, (sine + PLUCK_NOISE * hashed noise) / 2 (the noise
  seeded by the frequency, through a one-pole lowpass at PLUCK_PICK * freq, its power and its mean restored and
  taken off), into a loop of D = sr / freq samples (3 .. L - 4)
  that averages two neighbours on each pass and loses 60 dB in PLUCK_T60 (261.63 / freq)^0.5 seconds (clamped
  0.2 .. 10 s) besides: lower notes ring longer, and the averaging damps high ones and high partials faster, as
  in Karplus-Strong. Its delay line is a row of `lines`
  (`new_lines`: [pool size, L], one period of PLUCK_LOWEST Hz), the voice's slot's, allocated once by the host.
- SUPERPIANO and PLUCK take STRUCK_DEFAULTS when no envelope is given: full level until the gate, then a damper.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from phonon.engine.kernels.envelopes import ads_level
from phonon.engine.kernels.filters import svf_coefficients, svf_step
from phonon.engine.kernels.lane_filters import BAND, HIGH, LOW, WORK_ROWS, filter_rows
from phonon.engine.kernels.oscillators import _blep
from phonon.engine.kernels.stereo import pan_gains
from phonon.engine.kernels.tone import VOWEL_FORMANTS, _formant
from phonon.graph.kinds import SYNTH_SOUNDS, SYNTH_WAVES
from phonon.graph.values import MAX_ORBITS, VOICE_CONTROLS

DEFAULT_VOICES = 512
MAX_VOICES = 4096  # the reference's hard cap; new_pool refuses more
DEFAULT_ATTACK = 0.001  # seconds, sample voices, used when a trigger's attack is 0 or not given
DEFAULT_RELEASE = 0.003  # seconds, sample voices, used when a trigger's release is 0 or not given
CUT_FADE = 0.010  # seconds, the fade of voices cut by a newer voice of their group
SYNTH_DEFAULTS = (0.001, 0.05, 0.6, 0.01)  # synth attack, decay, sustain, release when none is given (Strudel's)
STRUCK_DEFAULTS = (0.001, 0.0, 1.0, 0.1)  # the same for superpiano and pluck: their own decay, a damper at the gate
PIANO_PARTIALS = 8  # superpiano's partials
PIANO_STRETCH = 0.0004  # its inharmonicity B: partial k at k f sqrt(1 + B k^2), as a stiff string's
PLUCK_LOWEST = 20.0  # Hz: pluck's delay lines hold one period of this (lower notes play at it)
PLUCK_T60 = 2.0  # s, c4's pluck falls by 60 dB in this (besides the averaging's loss); (c4 / freq)^0.5 times it
PLUCK_PICK = 2.0  # pluck's burst is lowpassed at this many times the note's frequency
PLUCK_NOISE = 0.5  # the burst's noise beside one period of a sine, which keeps the fundamental the loudest
FILTER_ENV_DEFAULTS = (0.005, 0.14, 0.0, 0.1)  # lpattack lpdecay lpsustain lprelease when none is given (Strudel's)
FILTER_ENV_STEP = 16  # samples of age between the filter envelope's coefficient updates
MAX_LEVEL = 256.0  # the linear level is clamped to this (+48 dB)
MAX_SEMITONES = 12_000.0  # |note| is clamped to this: 2 ** (note / 12) stays finite
Q_RANGE = (0.1, 1000.0)  # per-voice filter q is clamped to this (resonance 1 is q 1000, as SuperDirt's rq 0.001)
FX_CHUNK = 512  # columns per chunk while a node has effect voices (one lane's chunk: 4 KiB)
FX_TILE = 64  # samples per tile of the enveloped lowpasses (a table of 3 x FX_TILE x lanes) and of vowel

# ---- triggers: float64 [capacity, TRIGGER_WIDTH], one layout for sample and synth voices ----------------------
# Five columns the host fills from the event, then one per voice control (graph/values.py VOICE_CONTROLS, in its
# order), holding the control's raw value (NaN: not given).
TRIGGER_FIELDS = ("offset", "sample", "wave", "length", "cps") + tuple(c.name for c in VOICE_CONTROLS if c.field)
TRIGGER_WIDTH = len(TRIGGER_FIELDS)


def trigger_field(name: str) -> int:
    """The trigger column of a field or voice control (by its name in graph/values.py)."""
    return TRIGGER_FIELDS.index(name)


T_OFFSET = trigger_field("offset")  # absolute column in out_l / out_r, start <= offset < stop (an integer value)
T_SAMPLE = trigger_field("sample")  # sample id in the bank (sample voices; < 0: none, a synth voice's row)
T_WAVE = trigger_field("wave")  # the synth voice's waveform (< 0: the kernel's `wave` argument, or none)
T_FREQ = trigger_field("freq")  # Hz before `note` (synth voices)
T_LENGTH = trigger_field("length")  # the event's length in samples (legato's unit); < 0: none (the gate never closes)
T_CPS = trigger_field("cps")  # cycles per second (unit c)
T_UNISON, T_DETUNE, T_SPREAD = (trigger_field(n) for n in ("unison", "detune", "spread"))
T_NOTE, T_GAIN, T_OVERGAIN, T_AMP, T_VELOCITY, T_PAN, T_ORBIT = (
    trigger_field(n) for n in ("note", "gain", "overgain", "amp", "velocity", "pan", "orbit"))
T_ROOM, T_DELAY = trigger_field("room"), trigger_field("delay")  # the voice's send levels (F_ROOM, F_DELAY)
T_SPEED, T_ACCELERATE, T_UNIT, T_BEGIN, T_END, T_LOOP, T_CUT = (
    trigger_field(n) for n in ("speed", "accelerate", "unit", "begin", "end", "loop", "cut"))
T_ATTACK, T_DECAY, T_SUSTAIN, T_RELEASE, T_HOLD, T_LEGATO = (
    trigger_field(n) for n in ("attack", "decay", "sustain", "release", "hold", "legato"))
T_VOWEL, T_SHAPE, T_HCUTOFF, T_HRESONANCE, T_HPQ, T_BANDF, T_BANDQ, T_CRUSH, T_COARSE = (
    trigger_field(n) for n in ("vowel", "shape", "hcutoff", "hresonance", "hpq", "bandf", "bandq", "crush", "coarse"))
T_CUTOFF, T_RESONANCE, T_LPQ, T_LPENV, T_LPATTACK, T_LPDECAY, T_LPSUSTAIN, T_LPRELEASE, T_DISTORT = (
    trigger_field(n) for n in ("cutoff", "resonance", "lpq", "lpenv", "lpattack", "lpdecay", "lpsustain",
                               "lprelease", "distort"))
UNIT_CYCLES = 1.0  # T_UNIT's value for unit "c" (0: "r")
# Every column's value when nothing gives it (the controls' defaults, NaN where "not given" matters).
DEFAULT_TRIGGER = np.array([0.0, -1.0, -1.0, -1.0, 1.0] + [c.default for c in VOICE_CONTROLS if c.field])

# ---- sample voice pool: float64 [P, POOL_WIDTH] (kernel-private layout, all-zero row = free slot) ------------
V_ACTIVE = 0  # 1.0 while sounding (a plain voice), 2.0 for a voice with effects; 0 free
V_AGE = 1  # samples rendered so far = age of the next output sample
V_END = 2  # ages 0..V_END-1 are output; freed when V_AGE reaches it
V_BASE = 3  # offsets[sample id]: row of the sample's first frame in `data`
V_POS0 = 4  # position (frames from the sample start) at age 0
V_RATE = 5
V_GL = 6  # level * gL
V_GR = 7  # level * gR
V_ATTACK = 8  # A, attack samples (>= 1)
V_REL_END = 9  # tau where the release ramp reaches 0
V_RELEASE = 10  # R, release samples (>= 1)
V_CUT_END = 11  # tau where the cut fade reaches 0 (huge when not cut)
V_CUT = 12  # cut group
V_SAMPLE = 13  # sample id (informational)
V_CUT_LEN = 14  # C, cut fade samples (1.0 before a cut: with V_CUT_END huge the fade term never applies)
V_MONO = 15  # 1.0 when the sample is mono (channels 1): the runs read only the left column (but at rate 1)

# ---- synth voice pool: float64 [P, SYNTH_POOL_WIDTH] (kernel-private layout) ----------------------------------
Y_ACTIVE = 0  # as V_ACTIVE
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

# ---- columns from 16 on: the same in both pools (the effects code serves both kernels) ------------------------
F_FX = 16  # effect flags (FX_*), 0 for a plain voice
F_ORBIT = 17  # the trigger's orbit (its sends' rows come from `routes`, see Sends)
V_LO = 18  # sample voices: the slice's first frame,
V_SPAN = 19  # its length in frames,
V_ACC = 20  # (r1 - r0) / (2 N): the accelerate term of the position
V_SUS = 21  # sustain level S
V_DSLOPE = 22  # (1 - S) / D (0 when S == 1)
V_RLEVEL = 23  # L, the decay curve where the release ramp starts
F_LP = 24  # lowpass a1 a2 a3 k (4 columns)
F_HP = 28  # highpass a1 a2 a3 k
F_BP = 32  # bandpass a1 a2 a3 gain
F_LP_FC = 36  # the lowpass cutoff (Hz; the filter envelope's base)
F_VOWEL = 37
F_SHAPE = 38  # k
F_CRUSH = 39  # step q
F_COARSE = 40
F_DIST = 41  # k
F_FE = 42  # filter envelope: A D R (samples), o0 o1 os (octaves), gate (samples), o at the gate (8 columns)
F_LP_S = 50  # lowpass integrators: left ic1 ic2, right ic1 ic2
F_HP_S = 54
F_BP_S = 58
F_HELD = 62  # coarse: the held left and right values
F_VOW_S = 64  # vowel integrators: 10 per lane, left then right
# Sends to the orbit's effect buses (README: Orbits), set when the voice starts from its trigger's room, delay and
# orbit: the rows of `sends` (a pair, left then right) and the levels.
F_SENDS = 88  # 1.0 while the voice sends: its samples go to `wet` first, then to the dry output and its sends
F_ROOM_ROW = 89  # its reverb send's left row in `sends`
F_ROOM = 90  # its reverb send level (0: none)
F_DELAY_ROW = 91  # its delay send's left row in `sends`
F_DELAY = 92  # its delay send level (0: none)
POOL_WIDTH = 96

# ---- synth voice pool, after the shared columns: the voice's waveform and its sub-oscillators ---------------------
Y_WAVE = POOL_WIDTH  # the voice's waveform (SINE ... PLUCK)
Y_LANES = POOL_WIDTH + 1  # 1 (mono, panned) or 2 (a stereo voice: supersaw, balanced)
Y_SUBS = POOL_WIDTH + 2  # supersaw's saws, superpiano's partials
Y_DELAY = POOL_WIDTH + 3  # pluck: the loop's delay D in samples (the note's period)
Y_BURST = POOL_WIDTH + 4  # pluck: samples of noise burst (one period)
Y_SEED = POOL_WIDTH + 5  # pluck: the burst's noise seed
Y_BURST_MEAN = POOL_WIDTH + 6  # pluck: the burst's mean, taken off it (no DC in the loop)
Y_BURST_LP = POOL_WIDTH + 7  # pluck: the burst's lowpass, its state
MAX_SUBS = 16  # most sub-oscillators of a voice (supersaw's unison is clamped to it)
Y_SUB_PHASE = POOL_WIDTH + 8  # each sub-oscillator's phase (cycles), MAX_SUBS columns
Y_SUB_DT = Y_SUB_PHASE + MAX_SUBS  # its frequency / sr
Y_SUB_L = Y_SUB_DT + MAX_SUBS  # supersaw: its left gain; superpiano: its amplitude now
Y_SUB_R = Y_SUB_L + MAX_SUBS  # supersaw: its right gain; superpiano: its amplitude's factor per sample
SYNTH_POOL_WIDTH = Y_SUB_R + MAX_SUBS
Y_PICK = Y_SUB_DT  # pluck (no sub-oscillators): its burst's lowpass coefficient
Y_LOSS = Y_SUB_R  # pluck: its loop's gain per pass

# effect flags (F_FX), one bit each
FX_VOWEL, FX_SHAPE, FX_HPF, FX_BPF, FX_CRUSH, FX_COARSE, FX_LPF, FX_LPENV, FX_DIST = (1 << b for b in range(9))
FX_ENV = 1 << 9  # sample voices: a decay below full level (sustain < 1)
FX_WRAP = 1 << 10  # sample voices: loop or accelerate (the wrapped position)

# waveforms of play_synth (graph/kinds.py SYNTH_SOUNDS numbers them, SYNTH_WAVES the oscillator functions' four)
SINE, SAW, SQUARE, TRI, SUPERSAW, PIANO, PLUCK = (SYNTH_SOUNDS[n] for n in (
    "sine", "sawtooth", "square", "triangle", "supersaw", "superpiano", "pluck"))
WAVES = {**SYNTH_WAVES, **SYNTH_SOUNDS}
STRUCK = PIANO  # waveforms from here on sound by themselves (their own decay): STRUCK_DEFAULTS

_NEVER = 1e300  # a tau no voice reaches
_MAX_FRAMES = 2.0**40  # longest sample voice, in output samples (~790 years at 44.1 kHz); float64 counts stay exact
_MAX_SECONDS = 1e6  # envelope segment durations are clamped to this


def new_pool(voices: int = DEFAULT_VOICES) -> np.ndarray:
    """An empty sample-voice pool (allocate once per voice node)."""
    return _alloc(voices, POOL_WIDTH)


def new_synth_pool(voices: int = DEFAULT_VOICES) -> np.ndarray:
    """An empty synth-voice pool (allocate once per voice node)."""
    return _alloc(voices, SYNTH_POOL_WIDTH)


def new_triggers(capacity: int, synth: bool = False) -> np.ndarray:
    """A trigger table for up to `capacity` triggers per call, every row DEFAULT_TRIGGER (`synth` is kept for
    callers of the two-layout era: both kernels read the same layout)."""
    return np.tile(DEFAULT_TRIGGER, (max(int(capacity), 1), 1))


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
def _seconds(x: float) -> float:
    """A duration in seconds clamped to 0.._MAX_SECONDS (NaN -> 0)."""
    if not x > 0.0:
        return 0.0
    return min(x, _MAX_SECONDS)


@nb.njit(cache=True, inline="always")
def _level(trig) -> float:
    """amp * velocity * (min(gain, 2) + overgain)^4 (SuperDirt's DirtEvent, Strudel's velocity), clamped to
    MAX_LEVEL; 0 when the voice is to be skipped."""
    gain = trig[T_GAIN]
    if not gain == gain:
        return 0.0
    base = min(gain, 2.0) + trig[T_OVERGAIN]
    if not base > 0.0:
        return 0.0
    square = base * base
    level = square * square * trig[T_AMP] * trig[T_VELOCITY]
    if not level > 0.0:
        return 0.0
    return min(level, MAX_LEVEL)


@nb.njit(cache=True, inline="always")
def _transposition(note: float) -> float:
    """2^(note / 12), note clamped to +-MAX_SEMITONES (NaN stays NaN: the caller skips the voice)."""
    return 2.0 ** (min(max(note, -MAX_SEMITONES), MAX_SEMITONES) / 12.0)


@nb.njit(cache=True, inline="always")
def _gate(trig, a_len: float, sr: float, legato_default: float) -> float:
    """Samples from the onset to the release: the smaller of legato * length and attack + hold; _NEVER when
    neither is given (legato_default: what a missing legato means, NaN for none)."""
    gate = _NEVER
    legato = trig[T_LEGATO]
    if not legato == legato:
        legato = legato_default
    length = trig[T_LENGTH]
    if legato == legato and length >= 0.0:
        held = max(legato, 0.0) * length if legato > 0.0 else 0.0  # legato 0 of an endless event: 0, not NaN
        gate = _whole_samples(held)
    hold = trig[T_HOLD]
    if hold == hold:
        gate = min(gate, a_len + _samples_of(_seconds(hold), sr))
    return gate


@nb.njit(cache=True, inline="always")
def _sustain(trig) -> float:
    """The sustain level: given (clamped 0..1), else 1, or 0 when a decay is given (Strudel's rule)."""
    sus = trig[T_SUSTAIN]
    if not sus == sus:
        return 0.0 if trig[T_DECAY] == trig[T_DECAY] else 1.0
    return min(max(sus, 0.0), 1.0)


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
def _render_samples(out_l, out_r, a, b, pool, hi, data, sr, bus):
    """Add every active voice's samples for columns [a, b) in pool index order; free the voices that end.
    Returns how many were freed."""
    if hi == 0:  # an idle node: skip the scratch allocation
        return 0
    lanes = np.int64(0)  # typed int64 from the start: a literal 0 makes numba compile the callee once more for it
    for i in range(hi):
        if pool[i, V_ACTIVE] == 2.0:
            lanes += 1 if pool[i, V_MONO] != 0.0 else 2
    if lanes:
        return _render_samples_fx(out_l, out_r, a, b, pool, hi, data, sr, lanes, bus)
    flat = data.reshape(data.shape[0] * 2)  # a view: frame i is flat[2i], flat[2i + 1]
    # _flat_run's batch (two arrays: every array handed down the inlined runs costs reference counting per voice)
    scratch = (np.empty(_CHUNK, dtype=np.uint64), np.empty((4, _CHUNK), dtype=np.float32))
    # no lanes: empty arrays made here (module-level ones would be typed read-only: a second compile of the mix)
    return _mix_samples(out_l, out_r, a, b, pool, hi, flat, scratch, np.empty((0, 0)), np.empty(0, np.int64), bus)


# The kernels that run once per voice and chunk allocate nothing and return no array, so they are compiled without
# reference counting (numba's `_nrt=False`, as numba's own string kernels are): each view they take of their
# arguments (a voice's row, a lane, a run of the output) would otherwise cost two atomic operations, and those
# were a tenth of the drum workload's time. An allocation in one is a compile error, not a leak.
_per_voice = nb.njit(cache=True, nogil=True, _nrt=False)


# ---- sends (module doc: Sends) -----------------------------------------------------------------------------------
_NO_SENDS = np.zeros((0, 1))  # a node without sends
_NO_ROUTES = np.full((1, 2), -1, dtype=np.int64)


@nb.njit(cache=True, inline="always")
def _start_sends(row, trig, routes) -> None:
    """A new voice's sends: its room and delay levels, to the rows `routes[orbit]` gives (-1: no bus there)."""
    orbit = trig[T_ORBIT]
    if not (orbit >= 0.0 and orbit < routes.shape[0]):
        return
    o = int(orbit)
    room = trig[T_ROOM]
    if room > 0.0 and routes[o, 0] >= 0:
        row[F_ROOM_ROW] = routes[o, 0]
        row[F_ROOM] = room
        row[F_SENDS] = 1.0
    delay = trig[T_DELAY]
    if delay > 0.0 and routes[o, 1] >= 0:
        row[F_DELAY_ROW] = routes[o, 1]
        row[F_DELAY] = delay
        row[F_SENDS] = 1.0


@nb.njit(cache=True, inline="always")
def _bus(sends, start, stop):
    """(sends, wet): the send rows cleared over [start, stop), and the wet rows a sending voice is added to first
    (absolute columns, like the output's; none for a node without sends)."""
    sends[:, start:stop] = 0.0
    return sends, np.empty((2, stop if sends.shape[0] else 0))


@nb.njit(cache=True, inline="always")
def _wet(bus, a, m):
    """The wet rows, cleared for a sending voice's next m samples from column a."""
    wet = bus[1]
    wet[:, a : a + m] = 0.0
    return wet[0], wet[1]


@nb.njit(cache=True, inline="always")
def _send(out_l, out_r, bus, row, a, m):
    """A sending voice's m samples from column a (in the wet rows) added to the output, then, times its levels,
    to its sends. The output gets the same numbers as from a voice that does not send."""
    sends, wet = bus
    wl, wr = wet[0, a : a + m], wet[1, a : a + m]
    left, right = out_l[a : a + m], out_r[a : a + m]
    for q in range(m):
        left[q] += wl[q]
        right[q] += wr[q]
    for level_col, row_col in ((F_ROOM, F_ROOM_ROW), (F_DELAY, F_DELAY_ROW)):
        g = row[level_col]
        if g != 0.0:
            k = int(row[row_col])
            sl, sr = sends[k, a : a + m], sends[k + 1, a : a + m]
            for q in range(m):
                sl[q] += wl[q] * g
                sr[q] += wr[q] * g


@_per_voice
def _mix_samples(out_l, out_r, a, b, pool, hi, flat, scratch, x, first_lane, bus):
    """Add every active voice for columns [a, b) in pool index order: a plain voice by its runs, an effect voice
    from its processed lanes in x (first_lane[i]: its first column); free the voices that end. Returns how many
    were freed. (The plain voice's body is written out here: as an inlined function it costs a third more.)
    A sending voice is added to `bus`'s wet rows first, then from there to the output and its sends."""
    freed = 0
    seg = b - a
    for i in range(hi):
        active = pool[i, V_ACTIVE]
        if active == 0.0:
            continue
        age = pool[i, V_AGE]
        end = pool[i, V_END]
        left = end - age
        m = seg if left >= seg else int(left)
        sending = pool[i, F_SENDS] != 0.0
        tl, tr = _wet(bus, a, m) if sending else (out_l, out_r)
        if active == 2.0:
            _sample_mix(tl, tr, a, m, x, first_lane[i], pool[i], pool[i, V_MONO] == 0.0)
        else:
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
                _unit_rate_voice(tl, tr, a, m, k0, k1, flat, base, p0, age, gl, gr, a_len, ia, rel_end, r_len,
                                 ir, cut_end, c_len, ic)
            elif pool[i, V_MONO] != 0.0:  # a literal at each call: each inlined copy of the loops is specialised
                _voice_runs(tl, tr, a, m, k0, k1, flat, base, p0, rate, age, gl, gr, a_len, ia, rel_end,
                            r_len, ir, cut_end, c_len, ic, scratch, True)
            else:
                _voice_runs(tl, tr, a, m, k0, k1, flat, base, p0, rate, age, gl, gr, a_len, ia, rel_end,
                            r_len, ir, cut_end, c_len, ic, scratch, False)
        if sending:
            _send(out_l, out_r, bus, pool[i], a, m)
        age += m
        pool[i, V_AGE] = age
        if age >= end:
            pool[i, V_ACTIVE] = 0.0
            freed += 1
    return freed


@nb.njit(cache=True, inline="always")
def _sample_raw(x, c, m, lane, row, flat, stereo, tmp, scratch):
    """The raw lanes of an effect sample voice for its next m samples (<= c) into x[lane] (and lane + 1 for a
    stereo sample), zeros after them: its interpolated frames at the module doc's positions. As in `_flat_run`,
    the positions and frame numbers first, then the reads, then the interpolation (all but the reads vectorise);
    at rate 1 (no wrap) the frames lie in a row and are copied (the interpolation's f is 0)."""
    age = row[V_AGE]
    base = int(row[V_BASE])
    p0 = row[V_POS0]
    rate = row[V_RATE]
    wrap = (int(row[F_FX]) & FX_WRAP) != 0
    src = flat[2 * base :]  # frame j of the sample at src[2j] (j >= 0: positions stay in the slice)
    if rate == 1.0 and not wrap:
        # both columns read, a mono sample's right one into tmp: a loop that reads every other float is gathers
        run = src[2 * (int(p0) + int(age)) :]
        left = x[lane]
        right = x[lane + 1] if stereo else tmp
        for q in range(m):
            left[q] = np.float64(run[2 * q])
            right[q] = np.float64(run[2 * q + 1])
    else:
        if wrap:
            lo = row[V_LO]
            span = row[V_SPAN]
            acc = row[V_ACC]
            for q in range(m):
                k = age + q
                u = (p0 - lo) + (rate * k + acc * (k * k))
                u -= span * math.floor(u / span)
                if not (u >= 0.0 and u < span):  # rounding at the wrap (or no precision left): the slice's start
                    u = 0.0
                tmp[q] = lo + u
        else:
            for q in range(m):
                tmp[q] = p0 + rate * (age + q)
        frame, taps = scratch
        for q in range(m):
            frame[q] = np.uint64(np.floor(tmp[q])) * _FRAME
        for side in range(2 if stereo else 1):
            out = x[lane + side]
            first = _RIGHT if side else np.uint64(0)
            for q in range(m):
                at = frame[q] + first
                taps[0, q] = src[at]
                taps[1, q] = src[at + _NEXT_LEFT]
            for q in range(m):
                pos = tmp[q]
                v = np.float64(taps[0, q])
                out[q] = v + (pos - np.floor(pos)) * (np.float64(taps[1, q]) - v)
    x[lane : lane + (2 if stereo else 1), m:c] = 0.0


@nb.njit(cache=True, inline="always")
def _sample_env(row, tau, a_len, ia, rel_end, r_len, ir, cut_end, c_len, ic, sus, dslope, rlevel):
    """The envelope of an effect sample voice at tau (the module doc's formula; with sustain 1 and L = 1 the
    plain voices' formula, operation for operation)."""
    env = tau * ia if tau < a_len else 1.0
    if tau > a_len:
        dcy = 1.0 - dslope * (tau - a_len)
        if dcy < env:
            env = max(dcy, sus)
    rel = rel_end - tau
    if rel < r_len:
        env = min(env, rlevel * rel * ir)
    cut = cut_end - tau
    if cut < c_len:
        env = min(env, cut * ic)
    return env


@nb.njit(cache=True, inline="always")
def _sample_mix(out_l, out_r, n0, m, x, lane, row, stereo):
    """Add m samples of an effect sample voice (its processed lanes) from column n0, enveloped and panned: the
    envelope formula sample by sample where a ramp or the cut applies, and between them (the attack done, the
    release not begun) its decay curve min(1, max(1 - dslope (tau - A), S)), the same numbers in a loop that
    vectorises."""
    age = row[V_AGE]
    gl = row[V_GL]
    gr = row[V_GR]
    a_len = row[V_ATTACK]
    rel_end = row[V_REL_END]
    r_len = row[V_RELEASE]
    cut_end = row[V_CUT_END]
    c_len = row[V_CUT_LEN]
    ia = 1.0 / a_len
    ir = 1.0 / r_len
    ic = 1.0 / c_len
    sus = row[V_SUS]
    dslope = row[V_DSLOPE]
    rlevel = row[V_RLEVEL]
    xl = x[lane]
    xr = x[lane + 1] if stereo else xl
    # the middle run: a_len <= tau < min(rel_end - r_len, cut_end - c_len) + 1 (no ramp, no cut)
    lo = max(a_len - 1.0 - age, 0.0)
    hi = min(min(rel_end - r_len, cut_end - c_len) - age, float(m))
    k0 = int(lo) if lo < m else m
    k1 = int(hi) if hi > k0 else k0
    for q in range(k0):
        env = _sample_env(row, age + q + 1.0, a_len, ia, rel_end, r_len, ir, cut_end, c_len, ic, sus, dslope, rlevel)
        out_l[n0 + q] += xl[q] * (env * gl)
        out_r[n0 + q] += xr[q] * (env * gr)
    # views indexed from 0 by a range: LLVM knows the index is not negative, and the loop vectorises
    left, right, sl, sr = out_l[n0 + k0 : n0 + k1], out_r[n0 + k0 : n0 + k1], xl[k0:k1], xr[k0:k1]
    if dslope == 0.0:
        for q in range(k1 - k0):
            left[q] += sl[q] * gl
            right[q] += sr[q] * gr
    else:
        t0 = age + k0 + 1.0 - a_len
        for q in range(k1 - k0):
            env = min(1.0, max(1.0 - dslope * (t0 + q), sus))
            left[q] += sl[q] * (env * gl)
            right[q] += sr[q] * (env * gr)
    for q in range(k1, m):
        env = _sample_env(row, age + q + 1.0, a_len, ia, rel_end, r_len, ir, cut_end, c_len, ic, sus, dslope, rlevel)
        out_l[n0 + q] += xl[q] * (env * gl)
        out_r[n0 + q] += xr[q] * (env * gr)


@_per_voice
def _sample_lanes(x, c, pool, hi, flat, tmp, raw, lane_slot, lane_side, first_lane):
    """The effect sample voices' raw lanes for a chunk of c columns, in pool index order (first_lane[i]: voice i's
    first lane; lane_slot, lane_side: each lane's voice and channel). Returns the number of lanes."""
    nl = np.int64(0)
    for i in range(hi):
        if pool[i, V_ACTIVE] == 2.0:
            first_lane[i] = nl
            stereo = pool[i, V_MONO] == 0.0
            left = pool[i, V_END] - pool[i, V_AGE]
            m = c if left >= c else int(left)
            if stereo:
                _sample_raw(x, c, m, nl, pool[i], flat, True, tmp, raw)
            else:
                _sample_raw(x, c, m, nl, pool[i], flat, False, tmp, raw)
            for side in range(2 if stereo else 1):
                lane_slot[nl] = i
                lane_side[nl] = side
                nl += 1
    return nl


@nb.njit(cache=True, nogil=True)
def _render_samples_fx(out_l, out_r, a, b, pool, hi, data, sr, lanes, bus):
    """`_render_samples` while some voices have effects: chunk by chunk, the effect voices' raw lanes, their
    effects over all lanes, then every voice added in pool index order (the module doc)."""
    flat = data.reshape(data.shape[0] * 2)
    scratch = (np.empty(_CHUNK, dtype=np.uint64), np.empty((4, _CHUNK), dtype=np.float32))
    x, work = _effect_scratch(lanes)
    tmp = np.empty(FX_CHUNK)
    raw = (np.empty(FX_CHUNK, dtype=np.uint64), np.empty((2, FX_CHUNK), dtype=np.float32))
    lane_slot = np.empty(lanes, dtype=np.int64)
    lane_side = np.empty(lanes, dtype=np.int64)
    first_lane = np.empty(hi, dtype=np.int64)
    freed = 0
    n0 = a
    while n0 < b:
        c = min(FX_CHUNK, b - n0)
        nl = _sample_lanes(x, c, pool, hi, flat, tmp, raw, lane_slot, lane_side, first_lane)
        _effects(x, c, nl, lane_slot, lane_side, pool, work, sr)
        freed += _mix_samples(out_l, out_r, n0, n0 + c, pool, hi, flat, scratch, x, first_lane, bus)
        n0 += c
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




# ------------------------------------------------------------------------------------- per-voice effects


@nb.njit(cache=True, inline="always")
def _q(strudel_db: float, superdirt: float) -> float:
    """A filter's q: Strudel's q (the peak in dB, as Web Audio reads a lowpass's q) when given, else SuperDirt's
    resonance 0..1 (q = 1 / rq, rq = 0.001^resonance); clamped to Q_RANGE."""
    if strudel_db == strudel_db:
        q = 10.0 ** (min(max(strudel_db, -100.0), 100.0) / 20.0)
    else:
        r = superdirt if superdirt == superdirt else 0.0
        q = 1000.0 ** min(max(r, 0.0), 1.0)
    return min(max(q, Q_RANGE[0]), Q_RANGE[1])


@nb.njit(cache=True, inline="always")
def _filter_octave(row, t: float) -> float:
    """The filter envelope's offset in octaves above the cutoff at age t (the module doc's curve)."""
    gate = row[F_FE + 6]
    if t >= gate:
        at_gate = row[F_FE + 7]
        return at_gate + (row[F_FE + 3] - at_gate) * min((t - gate) / row[F_FE + 2], 1.0)
    a_len = row[F_FE]
    if t < a_len:
        return row[F_FE + 3] + (row[F_FE + 4] - row[F_FE + 3]) * (t / a_len)
    t -= a_len
    d_len = row[F_FE + 1]
    if t < d_len:
        return row[F_FE + 4] + (row[F_FE + 5] - row[F_FE + 4]) * (t / d_len)
    return row[F_FE + 5]


@nb.njit(cache=True, inline="always")
def _given(x: float) -> bool:
    return x == x


@nb.njit(cache=True)
def _start_effects(row, trig, sr: float, gate: float) -> int:
    """Set up the effects a trigger asks for in its voice's (zeroed) pool row; returns their flags."""
    flags = 0
    vowel = trig[T_VOWEL]
    if _given(vowel):
        row[F_VOWEL] = min(max(vowel, 0.0), 4.0)
        flags |= FX_VOWEL
    shape = trig[T_SHAPE]
    if shape > 0.0:
        s = min(shape, 1.0 - 4e-10)
        row[F_SHAPE] = 2.0 * s / (1.0 - s)
        flags |= FX_SHAPE
    cutoff = trig[T_HCUTOFF]
    if _given(cutoff):
        k = 1.0 / _q(trig[T_HPQ], trig[T_HRESONANCE])
        row[F_HP], row[F_HP + 1], row[F_HP + 2] = svf_coefficients(abs(cutoff), k, sr)
        row[F_HP + 3] = k
        flags |= FX_HPF
    centre = trig[T_BANDF]
    if _given(centre):
        bq = trig[T_BANDQ]
        q = min(max(bq, 1.0), Q_RANGE[1]) if _given(bq) else 10.0
        row[F_BP], row[F_BP + 1], row[F_BP + 2] = svf_coefficients(max(abs(centre), 20.0), 1.0 / q, sr)
        row[F_BP + 3] = q
        flags |= FX_BPF
    crush = trig[T_CRUSH]
    if _given(crush):
        row[F_CRUSH] = 0.5 ** (min(max(crush, 1.0), 16.0) - 1.0)
        flags |= FX_CRUSH
    coarse = trig[T_COARSE]
    if coarse > 1.0:
        row[F_COARSE] = min(coarse, _MAX_FRAMES)
        flags |= FX_COARSE
    cutoff = trig[T_CUTOFF]
    if _given(cutoff):
        k = 1.0 / _q(trig[T_LPQ], trig[T_RESONANCE])
        row[F_LP_FC] = abs(cutoff)
        row[F_LP], row[F_LP + 1], row[F_LP + 2] = svf_coefficients(abs(cutoff), k, sr)
        row[F_LP + 3] = k
        flags |= FX_LPF
        depth, fa, fd, fs, fr = trig[T_LPENV], trig[T_LPATTACK], trig[T_LPDECAY], trig[T_LPSUSTAIN], trig[T_LPRELEASE]
        if _given(depth) or _given(fa) or _given(fd) or _given(fs) or _given(fr):
            if not (_given(fa) or _given(fd) or _given(fs) or _given(fr)):
                fa, fd, fs, fr = FILTER_ENV_DEFAULTS
            else:  # Strudel's getADSRValues
                if not _given(fs):
                    fs = 0.001 if _given(fd) else 1.0
                fa = max(fa if _given(fa) else 0.0, 0.001)
                fd = max(fd if _given(fd) else 0.0, 0.001)
                fr = max(fr if _given(fr) else 0.0, 0.01)
            depth = depth if _given(depth) else 1.0
            depth = min(max(depth, -64.0), 64.0)
            o0, o1 = (0.0, depth) if depth >= 0.0 else (-depth, 0.0)
            s = min(max(fs, 0.0), 1.0)
            row[F_FE] = max(_samples_of(_seconds(fa), sr), 1.0)
            row[F_FE + 1] = max(_samples_of(_seconds(fd), sr), 1.0)
            row[F_FE + 2] = max(_samples_of(_seconds(fr), sr), 1.0)
            row[F_FE + 3] = o0
            row[F_FE + 4] = o1
            row[F_FE + 5] = math.log2(2.0**o0 + s * (2.0**o1 - 2.0**o0))
            row[F_FE + 6] = _NEVER
            if gate < _NEVER:
                row[F_FE + 7] = _filter_octave(row, gate)
                row[F_FE + 6] = gate
            flags |= FX_LPENV
    distort = trig[T_DISTORT]
    if distort > 0.0:
        row[F_DIST] = math.expm1(min(distort, 700.0))
        flags |= FX_DIST
    return flags


@nb.njit(cache=True, inline="always")
def _effect_scratch(lanes: int) -> tuple:
    """A segment's scratch for its effect lanes: x, their samples lane by lane, with rows up to a multiple of 4
    (the filters run lanes 4 at a time) each a cache line longer than FX_CHUNK (rows 4 KiB apart would all fall
    in the same few L1 sets, and a filter pass, which reads a few samples of 16 rows at a time, would evict its
    own lines); work, the filters' coefficients and state per lane (engine/kernels/lane_filters.py). What the
    rounding adds is 0, so that a filter never runs on what was in the memory."""
    x = np.empty(((lanes + 3) & ~3, FX_CHUNK + 8))
    x[lanes:] = 0.0
    return x, np.empty((WORK_ROWS, x.shape[0]))


@nb.njit(cache=True, inline="always")
def _copy(dst, src, n: int) -> None:
    """dst[:n] = src[:n] as a loop over views from 0, which vectorises (numba's slice assignment between arrays
    does not: it indexes element by element)."""
    for q in range(n):
        dst[q] = src[q]


@nb.njit(cache=True, inline="always")
def _add(dst, src, n: int) -> None:
    """dst[:n] += src[:n] (as `_copy`)."""
    for q in range(n):
        dst[q] += src[q]


@nb.njit(cache=True, inline="always")
def _filtered(flags: int, flag: int) -> bool:
    """Whether a voice with these effect flags runs the filter stage `flag` (a lowpass that follows its envelope
    runs in the FX_LPENV stage, not in FX_LPF's)."""
    if flag == FX_LPF:
        return (flags & FX_LPF) != 0 and (flags & FX_LPENV) == 0
    return (flags & flag) != 0


@nb.njit(cache=True)
def _filter_stage(x, c, nl, lane_slot, lane_side, pool, work, flag, coef, state, out, sr):
    """One filter of the chain over every lane at once, 16 lanes to a pass (engine/kernels/lane_filters.py).
    Lanes whose voice has no such filter, and the rows that round the lanes up to 4, pass through unchanged:
    zero coefficients and state make v1 = v2 = 0, and their g0 is 1 (0 for a filtered lane). `flag` and `out`
    are literals: each filter compiles only its own output. The lowpass that follows its envelope (FX_LPENV)
    runs a tile of FX_TILE samples at a time, its coefficients sample by sample from a table: each lane's,
    from the octave at each FILTER_ENV_STEP of its own age."""
    used = False
    rows = x.shape[0]
    for lane in range(rows):
        slot = lane_slot[lane] if lane < nl else 0
        if lane < nl and _filtered(int(pool[slot, F_FX]), flag):
            used = True
            work[0, lane], work[1, lane], work[2, lane] = pool[slot, coef], pool[slot, coef + 1], pool[slot, coef + 2]
            work[3, lane] = 0.0
            work[4, lane] = -pool[slot, coef + 3] if out == HIGH else pool[slot, coef + 3]
            work[5, lane] = pool[slot, state + 2 * lane_side[lane]]
            work[6, lane] = pool[slot, state + 2 * lane_side[lane] + 1]
        else:
            work[0, lane] = work[1, lane] = work[2, lane] = 0.0
            work[3, lane], work[4, lane] = 1.0, 0.0
            work[5, lane] = work[6, lane] = 0.0
    if not used:
        return
    if flag == FX_LPENV:
        _enveloped_lowpasses(x, c, nl, lane_slot, pool, work, sr)
    else:
        filter_rows(x, 0, c, work, None, out)
    for lane in range(nl):
        slot = lane_slot[lane]
        if _filtered(int(pool[slot, F_FX]), flag):
            pool[slot, state + 2 * lane_side[lane]] = work[5, lane]
            pool[slot, state + 2 * lane_side[lane] + 1] = work[6, lane]


@nb.njit(cache=True, inline="always")
def _enveloped_lowpasses(x, c, nl, lane_slot, pool, work, sr):
    """The lowpasses that follow their envelopes (work set up by `_filter_stage`), FX_TILE samples at a time
    with their coefficients sample by sample from a table. A lane takes new coefficients where a FILTER_ENV_STEP
    of its age begins, from the octave at that age: at the chunk's samples q = phase (mod FILTER_ENV_STEP),
    phase = -age; each sample updates the lanes whose phase it is, then the coefficients in force are copied
    into the table's row for it (contiguous: the copy vectorises)."""
    rows = x.shape[0]
    now = np.zeros((3, rows))  # the coefficients in force (a pass-through lane's stay 0)
    table = np.empty((3, FX_TILE, rows))
    phase = np.full(nl, -1, dtype=np.int64)  # -1: not enveloped
    for lane in range(nl):
        if _filtered(int(pool[lane_slot[lane], F_FX]), FX_LPENV):
            phase[lane] = int(-pool[lane_slot[lane], V_AGE] % FILTER_ENV_STEP)
            _envelope_coefficients(now, lane, pool[lane_slot[lane]], 0.0, sr)  # the step holding the first sample
    for q0 in range(0, c, FX_TILE):
        n = min(FX_TILE, c - q0)
        for q in range(n):
            at = q0 + q
            if at > 0:
                p = at % FILTER_ENV_STEP
                for lane in range(nl):
                    if phase[lane] == p:
                        _envelope_coefficients(now, lane, pool[lane_slot[lane]], float(at), sr)
            for k in range(3):
                _copy(table[k, q], now[k], rows)
        filter_rows(x, q0, n, work, table, LOW)


@nb.njit(cache=True, inline="always")
def _envelope_coefficients(now, lane, row, q: float, sr):
    """A lane's lowpass coefficients that follow its envelope, for the FILTER_ENV_STEP holding chunk sample q,
    into now[:, lane]: from the octave at the step's first age."""
    t = row[V_AGE] + q
    step = t - (t % FILTER_ENV_STEP)
    fc = min(row[F_LP_FC] * 2.0 ** _filter_octave(row, step), 20000.0)
    now[0, lane], now[1, lane], now[2, lane] = svf_coefficients(fc, row[F_LP + 3], sr)


@nb.njit(cache=True)
def _vowel_stage(x, c, nl, lane_slot, lane_side, pool, sr):
    """`vowel` over the lanes that have it, FX_TILE samples at a time (what a tile holds stays in the first
    caches): the lanes gathered into rows of their own, each of the five formant bandpasses (engine/kernels/
    tone.py) run over all of them at once as the other filters are (`filter_rows`), summed in the formants'
    order, and the sums put back. A formant's band output is the SVF's g1 v1 plus g0 v0 with g0 = 0, which can
    only turn a -0.0 into 0.0."""
    count = 0
    for lane in range(nl):
        count += (int(pool[lane_slot[lane], F_FX]) & FX_VOWEL) != 0
    lanes = np.empty(count, dtype=np.int64)
    count = 0
    for lane in range(nl):
        if int(pool[lane_slot[lane], F_FX]) & FX_VOWEL:
            lanes[count] = lane
            count += 1
    rows = (count + 3) & ~3
    works = np.zeros((VOWEL_FORMANTS, WORK_ROWS, rows))  # each formant's filter (`filter_lanes`' work rows)
    works[:, 3, count:] = 1.0  # the rows that round the lanes up to 4 pass through (they hold zeros)
    for j in range(count):
        row = pool[lane_slot[lanes[j]]]
        for f in range(VOWEL_FORMANTS):
            at = F_VOW_S + 10 * lane_side[lanes[j]] + 2 * f
            works[f, 0, j], works[f, 1, j], works[f, 2, j], works[f, 4, j] = _formant(row[F_VOWEL], f, sr)
            works[f, 5, j], works[f, 6, j] = row[at], row[at + 1]
    band = np.zeros((rows, FX_TILE))
    total = np.empty((count, FX_TILE))
    for q0 in range(0, c, FX_TILE):
        n = min(FX_TILE, c - q0)
        for f in range(VOWEL_FORMANTS):
            for j in range(count):
                _copy(band[j], x[lanes[j], q0:], n)
            filter_rows(band, 0, n, works[f], None, BAND)
            for j in range(count):
                if f == 0:
                    _copy(total[j], band[j], n)
                else:
                    _add(total[j], band[j], n)
        for j in range(count):
            _copy(x[lanes[j], q0:], total[j], n)
    for j in range(count):
        row = pool[lane_slot[lanes[j]]]
        for f in range(VOWEL_FORMANTS):
            at = F_VOW_S + 10 * lane_side[lanes[j]] + 2 * f
            row[at], row[at + 1] = works[f, 5, j], works[f, 6, j]


@_per_voice
def _lane_stage(x, c, nl, lane_slot, lane_side, pool, flag, sr):
    """One of the effects that run lane by lane (shape, crush, coarse, distort)."""
    for lane in range(nl):
        if not int(pool[lane_slot[lane], F_FX]) & flag:
            continue
        row = pool[lane_slot[lane]]
        side = lane_side[lane]
        if flag == FX_SHAPE or flag == FX_DIST:
            k = row[F_SHAPE] if flag == FX_SHAPE else row[F_DIST]
            xl = x[lane]  # a row indexed from 0 by a range: the loop vectorises
            for q in range(c):
                v = xl[q]
                xl[q] = (1.0 + k) * v / (1.0 + k * abs(v))
        elif flag == FX_CRUSH:
            step = row[F_CRUSH]
            xl = x[lane]
            for q in range(c):
                xl[q] = math.floor(xl[q] / step + 0.5) * step
        elif flag == FX_COARSE:  # a new value where floor(age / every) changes (at age 0: floor(-1 / every) = -1)
            every = row[F_COARSE]
            held = row[F_HELD + side]
            age = row[V_AGE]
            before = math.floor((age - 1.0) / every)
            xl = x[lane]
            for q in range(c):
                now = math.floor((age + q) / every)
                if now != before:
                    held = xl[q]
                    before = now
                xl[q] = held
            row[F_HELD + side] = held


@nb.njit(cache=True)
def _effects(x, c, nl, lane_slot, lane_side, pool, work, sr):
    """Every lane through its voice's effects, in FX_ORDER (graph/values.py)."""
    flags = 0
    for lane in range(nl):
        flags |= int(pool[lane_slot[lane], F_FX])
    if flags & FX_VOWEL:
        _vowel_stage(x, c, nl, lane_slot, lane_side, pool, sr)
    if flags & FX_SHAPE:
        _lane_stage(x, c, nl, lane_slot, lane_side, pool, FX_SHAPE, sr)
    if flags & FX_HPF:
        _filter_stage(x, c, nl, lane_slot, lane_side, pool, work, FX_HPF, F_HP, F_HP_S, HIGH, sr)
    if flags & FX_BPF:
        _filter_stage(x, c, nl, lane_slot, lane_side, pool, work, FX_BPF, F_BP, F_BP_S, BAND, sr)
    if flags & FX_CRUSH:
        _lane_stage(x, c, nl, lane_slot, lane_side, pool, FX_CRUSH, sr)
    if flags & FX_COARSE:
        _lane_stage(x, c, nl, lane_slot, lane_side, pool, FX_COARSE, sr)
    if flags & FX_LPF:
        _filter_stage(x, c, nl, lane_slot, lane_side, pool, work, FX_LPF, F_LP, F_LP_S, LOW, sr)
    if flags & FX_LPENV:
        _filter_stage(x, c, nl, lane_slot, lane_side, pool, work, FX_LPENV, F_LP, F_LP_S, LOW, sr)
    if flags & FX_DIST:
        _lane_stage(x, c, nl, lane_slot, lane_side, pool, FX_DIST, sr)




@nb.njit(cache=True, nogil=True)
def play_samples(out_l, out_r, start, stop, sr, pool, triggers, n_triggers, data, offsets, lengths, channels,
                 stats, sends=_NO_SENDS, routes=_NO_ROUTES):
    """Render the sample voices of one node into out_l/out_r[start:stop] (overwritten), and their sends into
    sends[:, start:stop] (overwritten) by `routes` (module doc: Sends)."""
    out_l[start:stop] = 0.0  # slices, not a loop from start (engine/kernels/__init__.py)
    out_r[start:stop] = 0.0
    bus = _bus(sends, start, stop)
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
        level = _level(trig)
        rate = trig[T_SPEED] * _transposition(trig[T_NOTE])
        if trig[T_UNIT] == UNIT_CYCLES:
            rate *= trig[T_CPS] * (length / sr)
        if length <= 0 or level == 0.0 or rate == 0.0 or not math.isfinite(rate):
            continue
        begin = trig[T_BEGIN]
        end = trig[T_END]
        if not (begin == begin and end == end) or begin == end:
            continue
        if end < begin:  # SuperDirt: the slice plays backwards
            begin, end = end, begin
            rate = -rate
        begin = min(max(begin, 0.0), 1.0)
        end = min(max(end, 0.0), 1.0)
        lo = math.floor(begin * length + 0.5)
        hi_f = math.floor(end * length + 0.5)
        if not lo < hi_f:
            continue
        p0 = lo if rate > 0.0 else hi_f - 1.0
        loop = trig[T_LOOP]
        loop = 1.0 if not loop == loop else loop
        accelerate = trig[T_ACCELERATE]
        accelerate = 0.0 if not accelerate == accelerate else accelerate
        if not loop > 0.0:
            continue
        flags = 0
        span = hi_f - lo
        acc = 0.0
        if loop == 1.0 and accelerate == 0.0:
            n_frames = _slice_count(p0, rate, lo, hi_f)
        else:  # the position wraps in the slice (module doc)
            flags |= FX_WRAP
            r1 = rate * (1.0 + accelerate)
            mean = 0.5 * (abs(rate) + abs(r1))
            n_frames = np.ceil(min(loop, _MAX_FRAMES) * (span / mean))
            if not n_frames <= _MAX_FRAMES:
                continue
            acc = (r1 - rate) / (2.0 * n_frames) if n_frames >= 1.0 else 0.0
        if n_frames < 1.0:  # |rate| so small the voice would outlast any render (or NaN): treat as rate 0
            continue
        att = trig[T_ATTACK]
        a_len = 1.0 if att < 0.0 else _samples_of(att if att > 0.0 else DEFAULT_ATTACK, sr)
        rel = trig[T_RELEASE]
        r_len = 1.0 if rel < 0.0 else _samples_of(rel if rel > 0.0 else DEFAULT_RELEASE, sr)
        a_len = max(a_len, 1.0)
        r_len = max(r_len, 1.0)
        d_len = _samples_of(_seconds(trig[T_DECAY]), sr)
        sus = _sustain(trig)
        gate = _gate(trig, a_len, sr, math.nan)
        if gate == _NEVER and rel == rel and trig[T_LENGTH] >= 0.0:  # a release given: the gate closes at the end
            gate = _whole_samples(trig[T_LENGTH])
        rel_end = n_frames + 1.0  # natural end: the last frame at 1/R
        if gate < _NEVER:
            rel_end = min(rel_end, gate + r_len)
        voice_end = rel_end - 1.0
        dslope = 0.0
        rlevel = 1.0
        if sus < 1.0:
            flags |= FX_ENV
            if sus == 0.0:  # silent once the decay has reached 0
                voice_end = min(voice_end, a_len + d_len - 1.0 if d_len >= 1.0 else a_len)
            dslope = (1.0 - sus) / d_len if d_len >= 1.0 else _NEVER
            ramp = rel_end - r_len  # the tau where the release ramp starts
            if ramp > a_len:
                rlevel = max(1.0 - dslope * (ramp - a_len), sus)
        if voice_end < 1.0:  # hold 0 with a hard stop: nothing to play
            continue
        if col > cursor:
            count -= _render_samples(out_l, out_r, cursor, col, pool, hi, data, sr, bus)
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
        mono = channels[sid] == 1
        gl, gr = pan_gains(trig[T_PAN], not mono)
        row = pool[slot]
        row[:] = 0.0
        row[V_AGE] = 0.0
        row[V_END] = voice_end
        row[V_BASE] = offsets[sid]
        row[V_POS0] = p0
        row[V_RATE] = rate
        row[V_GL] = level * gl
        row[V_GR] = level * gr
        row[V_ATTACK] = a_len
        row[V_REL_END] = rel_end
        row[V_RELEASE] = r_len
        row[V_CUT_END] = _NEVER
        row[V_CUT_LEN] = 1.0
        row[V_CUT] = group if group == group else 0.0
        row[V_SAMPLE] = sid
        row[V_MONO] = 1.0 if mono else 0.0
        orbit = trig[T_ORBIT]
        row[F_ORBIT] = orbit if orbit == orbit else 0.0
        _start_sends(row, trig, routes)
        row[V_LO] = lo
        row[V_SPAN] = span
        row[V_ACC] = acc
        row[V_SUS] = sus
        row[V_DSLOPE] = dslope if sus < 1.0 else 0.0
        row[V_RLEVEL] = rlevel
        flags |= _start_effects(row, trig, sr, gate)
        row[F_FX] = flags
        row[V_ACTIVE] = 2.0 if flags else 1.0
        if count > stats[1]:
            stats[1] = count
    if stop > cursor:
        _render_samples(out_l, out_r, cursor, stop, pool, hi, data, sr, bus)


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
def _render_synth(out_l, out_r, a, b, pool, hi, sr, lines, bus):
    """Add every active synth voice's samples for columns [a, b) in pool index order; free the voices that
    end. Returns how many were freed."""
    lanes = np.int64(0)  # as in _render_samples
    for i in range(hi):
        if pool[i, Y_ACTIVE] == 2.0:
            lanes += int(pool[i, Y_LANES])
    if lanes:
        return _render_synth_fx(out_l, out_r, a, b, pool, hi, sr, lanes, lines, bus)
    return _mix_synth(out_l, out_r, a, b, pool, hi, np.empty((0, 0)), np.empty(0, np.int64), bus)  # as above


@_per_voice
def _mix_synth(out_l, out_r, a, b, pool, hi, x, first_lane, bus):
    """`_mix_samples` for synth voices: a plain voice by envelope segments, an effect voice from its lane(s) in x."""
    freed = 0
    seg = b - a
    for i in range(hi):
        active = pool[i, Y_ACTIVE]
        if active == 0.0:
            continue
        age = pool[i, Y_AGE]
        end = pool[i, Y_END]
        left = end - age
        m = seg if left >= seg else int(left)
        gl = pool[i, Y_GL]
        gr = pool[i, Y_GR]
        sending = pool[i, F_SENDS] != 0.0
        tl, tr = _wet(bus, a, m) if sending else (out_l, out_r)
        if active == 2.0:
            lane = first_lane[i]
            row = pool[i]
            xl = x[lane]
            xr = x[lane + 1] if row[Y_LANES] == 2.0 else xl
            for q in range(m):
                env = _synth_env(row, age + q + 1.0)
                tl[a + q] += xl[q] * env * gl
                tr[a + q] += xr[q] * env * gr
        else:
            phase = pool[i, Y_PHASE]
            dt = pool[i, Y_DT]
            wave = int(pool[i, Y_WAVE])
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
                    phase = _synth_run(tl, tr, n0, run, phase, dt, c0, c1, tau - origin, gl, gr, SINE)
                elif wave == SAW:
                    phase = _synth_run(tl, tr, n0, run, phase, dt, c0, c1, tau - origin, gl, gr, SAW)
                elif wave == SQUARE:
                    phase = _synth_run(tl, tr, n0, run, phase, dt, c0, c1, tau - origin, gl, gr, SQUARE)
                else:
                    phase = _synth_run(tl, tr, n0, run, phase, dt, c0, c1, tau - origin, gl, gr, TRI)
                k += run
            pool[i, Y_PHASE] = phase
        if sending:
            _send(out_l, out_r, bus, pool[i], a, m)
        age += m
        pool[i, Y_AGE] = age
        if age >= end:
            pool[i, Y_ACTIVE] = 0.0
            freed += 1
    return freed


@nb.njit(cache=True, inline="always")
def _sub(row, k):
    """Sub-oscillator k of a voice: (phase, dt, its L column, its R column)."""
    return row[Y_SUB_PHASE + k], row[Y_SUB_DT + k], row[Y_SUB_L + k], row[Y_SUB_R + k]


@nb.njit(cache=True, inline="always")
def _supersaw_raw(x, m, lane, row):
    """A supersaw's saws for its next m samples, each panned, summed into lanes lane (left) and lane + 1."""
    xl, xr = x[lane], x[lane + 1]
    xl[:m] = 0.0
    xr[:m] = 0.0
    for k in range(int(row[Y_SUBS])):
        phase, dt, gl, gr = _sub(row, k)
        for q in range(m):
            v = _osc(SAW, phase, dt)
            xl[q] += v * gl
            xr[q] += v * gr
            phase += dt
            if phase >= 1.0:
                phase -= 1.0
        row[Y_SUB_PHASE + k] = phase


@nb.njit(cache=True, inline="always")
def _piano_raw(x, m, lane, row):
    """superpiano's partials for its next m samples: sines, each decaying by its own factor per sample (a
    product carried in the pool, so the same numbers however the samples are split)."""
    xl = x[lane]
    xl[:m] = 0.0
    for k in range(int(row[Y_SUBS])):
        phase, dt, amp, factor = _sub(row, k)
        for q in range(m):
            xl[q] += amp * _sine(phase)
            amp *= factor
            if amp < 1e-30:  # below hearing: 0 (no denormals), on the same sample whatever the split
                amp = 0.0
            phase += dt
            if phase >= 1.0:
                phase -= 1.0
        row[Y_SUB_PHASE + k] = phase
        row[Y_SUB_L + k] = amp


@nb.njit(cache=True, inline="always")
def _burst(age: int, seed: int) -> float:
    """The pluck's noise burst at an age below one period: a hash of (age, seed) in [-1, 1)."""
    h = (age * 1103515245 + seed * 7919 + 12345) & 0x7FFFFFFF
    h = ((h ^ (h >> 13)) * 1274126177) & 0x7FFFFFFF
    h ^= h >> 16
    return h / 1073741824.0 - 1.0


@nb.njit(cache=True, inline="always")
def _line_at(line, j: int) -> float:
    """The pluck's loop output j samples after its onset (0 before it)."""
    return line[j % line.shape[0]] if j >= 0 else 0.0


@nb.njit(cache=True, inline="always")
def _pluck_raw(x, m, lane, row, line):
    """Karplus-Strong for the next m samples: y(a) = burst(a) + g (r(a - P) + r(a - P - 1)) / 2, r the line read
    with linear interpolation, P = D - 1/2, so that the loop (delay and averaging) lasts D samples, the note's
    period. y(a) is kept at line[a mod L]; the oldest read, a - P - 2, is within L (D <= L - 4)."""
    xl = x[lane]
    age = int(row[Y_AGE])
    delay = row[Y_DELAY] - 0.5
    burst = int(row[Y_BURST])
    seed = int(row[Y_SEED])
    mean = row[Y_BURST_MEAN]
    pick = row[Y_PICK]
    loss = row[Y_LOSS]
    lp = row[Y_BURST_LP]
    scale = PLUCK_NOISE * math.sqrt((2.0 - pick) / pick)  # the lowpass's power gain undone: as loud at any pitch
    for q in range(m):
        a = age + q
        t = a - delay
        j = int(math.floor(t))
        f = t - j
        s0 = _line_at(line, j - 1)
        s1 = _line_at(line, j)
        s2 = _line_at(line, j + 1)
        y = loss * 0.5 * ((s1 + f * (s2 - s1)) + (s0 + f * (s1 - s0)))
        if a < burst:
            lp += pick * (_burst(a, seed) - lp)
            y += 0.5 * (_sine(a / burst) + (lp - mean) * scale)
        line[a % line.shape[0]] = y
        xl[q] = y
    row[Y_BURST_LP] = lp


@nb.njit(cache=True, inline="always")
def _synth_raw(x, c, m, lane, row, line):
    """An effect synth voice's raw lane(s) for its next m samples (<= c) into x[lane] (and x[lane + 1] for a
    stereo voice), zeros after them."""
    wave = int(row[Y_WAVE])
    if wave == SUPERSAW:
        _supersaw_raw(x, m, lane, row)
    elif wave == PIANO:
        _piano_raw(x, m, lane, row)
    elif wave == PLUCK:
        _pluck_raw(x, m, lane, row, line)
    else:
        phase = row[Y_PHASE]
        dt = row[Y_DT]
        for q in range(m):
            x[lane, q] = _osc(wave, phase, dt)
            phase += dt
            if phase >= 1.0:
                phase -= 1.0
        row[Y_PHASE] = phase
    x[lane : lane + int(row[Y_LANES]), m:c] = 0.0


@nb.njit(cache=True, inline="always")
def _synth_env(row, tau):
    """A synth voice's envelope at tau: `_plain_synth_voice`'s segment formula, operation for operation."""
    if tau <= row[Y_T1]:
        return 0.0 + row[Y_INV_A] * (tau - 0.0)
    if tau <= row[Y_T2]:
        return 1.0 + row[Y_DEC_SLOPE] * (tau - row[Y_A])
    if tau <= row[Y_T3]:
        return row[Y_SUS] + 0.0 * (tau - 0.0)
    return row[Y_LEVEL] + row[Y_REL_SLOPE] * (tau - row[Y_T3])


@_per_voice
def _synth_lanes(x, c, pool, hi, lines, lane_slot, lane_side, first_lane):
    """The effect synth voices' raw lanes for a chunk (as `_sample_lanes`). Returns the number of lanes."""
    nl = np.int64(0)
    for i in range(hi):
        if pool[i, Y_ACTIVE] == 2.0:
            first_lane[i] = nl
            left = pool[i, Y_END] - pool[i, Y_AGE]
            m = c if left >= c else int(left)
            _synth_raw(x, c, m, nl, pool[i], lines[min(i, lines.shape[0] - 1)])
            for side in range(int(pool[i, Y_LANES])):
                lane_slot[nl] = i
                lane_side[nl] = side
                nl += 1
    return nl


@nb.njit(cache=True, nogil=True)
def _render_synth_fx(out_l, out_r, a, b, pool, hi, sr, lanes, lines, bus):
    """`_render_synth` while some voices have effects or sub-oscillators (as `_render_samples_fx`)."""
    x, work = _effect_scratch(lanes)
    lane_slot = np.empty(lanes, dtype=np.int64)
    lane_side = np.zeros(lanes, dtype=np.int64)
    first_lane = np.empty(hi, dtype=np.int64)
    freed = 0
    n0 = a
    while n0 < b:
        c = min(FX_CHUNK, b - n0)
        nl = _synth_lanes(x, c, pool, hi, lines, lane_slot, lane_side, first_lane)
        _effects(x, c, nl, lane_slot, lane_side, pool, work, sr)
        freed += _mix_synth(out_l, out_r, n0, n0 + c, pool, hi, x, first_lane, bus)
        n0 += c
    return freed


@nb.njit(cache=True)
def _start_subs(row, wave, trig, freq, sr, lines):
    """Set up a new voice's sub-oscillators (supersaw, superpiano) or its delay line (pluck) in its pool row."""
    if wave == SUPERSAW:  # Strudel's: saws detuned evenly over `detune` semitones, alternately left and right
        unison = trig[T_UNISON]
        n = int(min(max(np.floor(unison + 0.5), 1.0), MAX_SUBS)) if unison == unison else 1
        detune = trig[T_DETUNE] if _given(trig[T_DETUNE]) else 0.0
        spread = min(max(trig[T_SPREAD], 0.0), 1.0) if n > 1 and _given(trig[T_SPREAD]) else 0.0
        side = spread * 0.5 + 0.5
        near, far = math.sqrt(1.0 - side) / math.sqrt(n), math.sqrt(side) / math.sqrt(n)
        row[Y_SUBS] = n
        row[Y_LANES] = 2.0
        for k in range(n):
            semitones = detune * (k / (n - 1) - 0.5) if n > 1 else 0.0
            dt = freq * 2.0 ** (semitones / 12.0) / sr
            row[Y_SUB_DT + k] = dt - math.floor(dt)
            phase = k * 0.6180339887498949  # fixed, spread phases (Strudel's are random)
            row[Y_SUB_PHASE + k] = phase - math.floor(phase)
            row[Y_SUB_L + k] = near if k % 2 == 0 else far
            row[Y_SUB_R + k] = far if k % 2 == 0 else near
    elif wave == PIANO:  # partials k f sqrt(1 + B k^2) at 1/k, each decaying faster than the one below
        t60 = min(max(3.0 * (261.6256 / freq) ** 0.6, 0.3), 20.0)  # the fundamental's: lower notes ring longer
        total = 0.0
        n = 0
        for k in range(1, PIANO_PARTIALS + 1):
            ratio = k * math.sqrt(1.0 + PIANO_STRETCH * k * k)
            if freq * ratio >= 0.45 * sr:
                break
            row[Y_SUB_DT + n] = freq * ratio / sr
            row[Y_SUB_L + n] = 1.0 / k
            row[Y_SUB_R + n] = 10.0 ** (-3.0 / (t60 / (1.0 + 0.5 * (k - 1)) * sr))
            total += 1.0 / k
            n += 1
        for k in range(n):
            row[Y_SUB_L + k] /= total
        row[Y_SUBS] = n
    elif wave == PLUCK:
        row[Y_DELAY] = min(max(sr / freq, 3.0), lines.shape[1] - 4.0)
        row[Y_BURST] = np.floor(row[Y_DELAY] + 0.5)
        row[Y_SEED] = np.floor(freq) % 65536.0
        # a soft pick: one period of a sine and noise through a one-pole lowpass at PLUCK_PICK times the note (the
        # noise's harmonics are random: the sine keeps the fundamental ahead); the noise's mean over the burst is
        # taken off (DC would ring in the loop as long as the note)
        row[Y_PICK] = 1.0 - math.exp(-2.0 * math.pi * min(PLUCK_PICK * freq, 0.45 * sr) / sr)
        t60 = min(max(PLUCK_T60 * math.sqrt(261.6256 / freq), 0.2), 10.0)
        row[Y_LOSS] = 10.0 ** (-3.0 / (t60 * sr / row[Y_DELAY]))  # per pass of D samples
        total = 0.0
        lp = 0.0
        for a in range(int(row[Y_BURST])):
            lp += row[Y_PICK] * (_burst(a, int(row[Y_SEED])) - lp)
            total += lp
        row[Y_BURST_MEAN] = total / row[Y_BURST]


@nb.njit(cache=True, nogil=True)
def play_synth(out_l, out_r, start, stop, sr, pool, triggers, n_triggers, wave, stats, sends=_NO_SENDS,
               routes=_NO_ROUTES):
    """`play_notes` without delay lines (no pluck): the oscillator functions' voices (`saw "c3 e3"`)."""
    play_notes(out_l, out_r, start, stop, sr, pool, triggers, n_triggers, wave, stats, np.zeros((1, 1)), sends,
               routes)


def new_lines(voices: int, sr: float) -> np.ndarray:
    """Pluck's delay lines: one period of PLUCK_LOWEST per voice of the pool (allocate once, when a pluck comes)."""
    return np.zeros((voices, int(math.ceil(sr / PLUCK_LOWEST)) + 8))


@nb.njit(cache=True, nogil=True)
def play_notes(out_l, out_r, start, stop, sr, pool, triggers, n_triggers, wave, stats, lines, sends=_NO_SENDS,
               routes=_NO_ROUTES):
    """Render the synth voices of one node into out_l/out_r[start:stop] (overwritten); see the module doc. A
    trigger's waveform is its T_WAVE, or `wave` where it has none (< 0: the trigger is not a synth note, skipped);
    `lines`: pluck's delay lines, [pool size, L] from `new_lines` ([1, 1] when no pluck can come). `sends`,
    `routes`: as `play_samples`'."""
    out_l[start:stop] = 0.0
    out_r[start:stop] = 0.0
    bus = _bus(sends, start, stop)
    hi, count = _scan(pool, Y_ACTIVE)
    cursor = start
    for t in range(n_triggers):
        trig = triggers[t]
        off = trig[T_OFFSET]
        if off >= stop:
            continue
        col = int(off) if off >= cursor else cursor
        w = trig[T_WAVE] if trig[T_WAVE] >= 0.0 else float(wave)
        if not (w >= SINE and w <= PLUCK):
            continue
        voice_wave = int(w)
        freq = trig[T_FREQ] * _transposition(trig[T_NOTE])
        level = _level(trig)
        if not (freq > 0.0 and freq < 1e12) or level == 0.0:
            continue
        if voice_wave == PLUCK and lines.shape[0] < pool.shape[0]:
            continue  # no delay lines: the host allocates them before a pluck comes
        defaults = STRUCK_DEFAULTS if voice_wave >= STRUCK else SYNTH_DEFAULTS
        attack, decay, sustain, release = trig[T_ATTACK], trig[T_DECAY], trig[T_SUSTAIN], trig[T_RELEASE]
        if not (_given(attack) or _given(decay) or _given(sustain) or _given(release)):
            attack, decay, sustain, release = defaults
        else:
            attack = attack if _given(attack) else defaults[0]
            sustain = _sustain(trig)
            release = release if _given(release) else defaults[3]
        a_len = _samples_of(_seconds(attack), sr)
        d_len = _samples_of(_seconds(decay), sr)
        r_len = _samples_of(_seconds(release), sr)
        sus = min(max(sustain, 0.0), 1.0)
        gate = _gate(trig, a_len, sr, 1.0)
        # ages 0..end-1 are output: the release reaches 0 at tau = gate + R (age gate + R - 1)
        if gate >= _NEVER:
            end = _NEVER
        else:
            end = gate + r_len - 1.0 if r_len >= 1.0 else gate
        if sus == 0.0 and a_len + d_len <= gate:  # silent once the decay has reached 0
            end = min(end, a_len + d_len - 1.0 if d_len >= 1.0 else a_len)
        level_at_gate = ads_level(gate, a_len, d_len, sus) if gate < _NEVER else sus
        if gate < _NEVER and level_at_gate == 0.0:
            end = min(end, gate)
        if not end >= 1.0:
            continue
        if col > cursor:
            count -= _render_synth(out_l, out_r, cursor, col, pool, hi, sr, lines, bus)
            cursor = col
        slot, hi, count = _claim(pool, Y_ACTIVE, Y_AGE, hi, count, stats)
        row = pool[slot]
        row[:] = 0.0
        row[Y_WAVE] = voice_wave
        row[Y_LANES] = 1.0
        _start_subs(row, voice_wave, trig, freq, sr, lines)
        gl, gr = pan_gains(trig[T_PAN], row[Y_LANES] == 2.0)
        row[Y_AGE] = 0.0
        row[Y_END] = end
        row[Y_PHASE] = 0.0
        dt = freq / sr
        row[Y_DT] = dt - math.floor(dt)  # above the sample rate the sampled waveform is the same mod 1 cycle
        row[Y_GL] = level * gl
        row[Y_GR] = level * gr
        t1 = min(a_len, gate)
        row[Y_T1] = t1
        row[Y_INV_A] = 1.0 / a_len if a_len > 0.0 else 0.0
        row[Y_T2] = max(t1, min(a_len + d_len, gate))  # == T1 (empty) when D == 0 or the gate closes first
        row[Y_A] = a_len
        row[Y_DEC_SLOPE] = -(1.0 - sus) / d_len if d_len > 0.0 else 0.0
        row[Y_T3] = max(row[Y_T2], gate)
        row[Y_SUS] = sus
        row[Y_LEVEL] = level_at_gate
        row[Y_REL_SLOPE] = -level_at_gate / r_len if r_len > 0.0 else 0.0
        orbit = trig[T_ORBIT]
        row[F_ORBIT] = orbit if orbit == orbit else 0.0
        _start_sends(row, trig, routes)
        flags = _start_effects(row, trig, sr, gate)
        row[F_FX] = flags
        # a voice of sub-oscillators or a delay line always renders by lanes (`_synth_raw`)
        row[Y_ACTIVE] = 2.0 if flags or voice_wave >= SUPERSAW else 1.0
        if count > stats[1]:
            stats[1] = count
    if stop > cursor:
        _render_synth(out_l, out_r, cursor, stop, pool, hi, sr, lines, bus)
