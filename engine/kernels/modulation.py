"""Modulation effects and control-signal shapers: `phaser`, `flanger`, `ring`, `fm`, `tremolo`, `samplehold`,
`lag`, `slew`, `line`, `phasor`, `follow`.

They are here together because each one either moves a signal with an internal oscillator (an LFO or an
audio-rate sine) or turns one signal into a control (a held value, a smoothed or slew-limited value, a
ramp, a phase, an envelope). All are mono, read every input per sample (any input may be a pattern or a
signal), keep their oscillator phases in [0, 1) in state, and start at phase 0 on the node's first sample.
LFOs use the chorus's polynomial sine (engine/kernels/delays.py, error < 6e-8); `ring` and `fm`, which make
audible sines, use math.sin exactly as the `sine` oscillator does.

phaser. State: phase, last (the fed-back output), ap[12] (one state per first-order allpass).
  Break frequency of every stage: fc = 632.5 Hz * 6.325 ** (depth * sin(2 pi phase)), i.e. swept
  exponentially between 100 Hz and 4 kHz at depth 1 (the geometric centre 632.5 Hz at depth 0).
  Each stage is H(z) = (a + z^-1) / (1 + a z^-1), a = (tan(pi fc / sr) - 1) / (tan(pi fc / sr) + 1);
      v = x + feedback * last;  v = stage_k(v) for k < stages;  last = v;  out = 0.5 * (x + v)
  With N stages and no feedback the notches lie where the chain's phase is an odd multiple of pi:
  f = fc * tan((2k + 1) pi / 2N) (bilinear-warped), e.g. 0.414 fc and 2.414 fc for 4 stages. Clamps: rate
  0..20 Hz, depth 0..1, feedback -0.9..0.9 (|feedback| < 1 keeps the loop through the unit-gain chain
  stable), stages rounded to 1..12.

flanger. State: w, phase, then buffer[L] with L = int(0.012 * sr) + 4.
  d = 5.5 ms + sin(2 pi phase) * depth * 4.5 ms (1..10 ms at depth 1), read with 4-point cubic Hermite
  interpolation (as chorus) before the sample is written:
      wet = tap(d);  buf[w] = x + feedback * wet;  out = 0.5 * (x + wet)
  With no feedback the response is a comb with notches at (2k + 1) / (2 d). Clamps: rate 0..20 Hz, depth
  0..1, feedback -0.9..0.9.

ring. out = x * sin(2 pi phase), the phase advancing by freq / sr exactly as `sine freq`'s, so
  `x # ring f` equals `x * sine f` sample for sample (one node instead of two). The carrier is an internal
  sine because that is what `ring input freq` means to users; to ring-modulate by any other signal, multiply
  (`x * ~other`).

fm. Two-operator FM in phase-modulation form (as the DX7):
      out = sin(2 pi pc + index * sin(2 pi pm)),  pc += freq / sr,  pm += freq * ratio / sr
  index is the peak phase deviation in radians, so the partials are at freq + k * freq * ratio with
  amplitudes J_k(index) (Bessel functions of the first kind); index 0 is exactly `sine freq`. Clamps: ratio
  0..100, index 0..100.

tremolo. out = x * (1 - depth * (1 - cos(2 pi phase)) / 2): the gain starts at 1, dips to 1 - depth half a
  period later, once per 1 / rate seconds. Clamps: rate 0..100 Hz, depth 0..1.

samplehold. State: held, last (the previous trigger). On a rising edge of trigger (from <= 0, or NaN, to
  > 0) held takes the input's value at that sample; out = held (0 before the first edge). A trigger that is
  positive on the node's first sample is an edge.

lag. State: y, started, last, c. One-pole smoothing whose `time` is the 60 dB time: after a step, the
  output is within 1e-3 of the step's end time * sr samples later (the step's own sample included):
      c = 0.001 ** (1 / (time * sr));  y = x + c * (y - x)
  The output starts at the first input sample (no ramp from 0 at the start). time clamped 0..60 s (0
  passes the input through).

slew. State: y, started. Limits how fast the output may move: at most up / sr per sample upwards and
  down / sr downwards (up and down in units per second, clamped >= 0); within the limit it follows the
  input exactly. The output starts at the first input sample.

line. State: n (the sample counter since the node's first sample, the start of the render).
  out = from + (to - from) * n / (time * sr) while n < time * sr, then `to` (held); time clamped >= 0.

phasor. out = phase, then phase += freq / sr, wrapped into [0, 1): a 0..1 ramp at freq Hz (the phase of a
  saw oscillator; a negative freq ramps down).

follow. State: peak, ms, and the coefficients for the last attack and release. attack and release are
  time constants (1/e, as the compressor's), c = exp(-1 / (t * sr)), clamped 0..10 s (0 is instant):
      peak = |x| + c * (peak - |x|)   with c of attack while |x| > peak, of release otherwise
      ms   = x^2 + c * (ms - x^2)     likewise on x^2
      out  = peak (mode < 0.5) or sqrt(ms) (mode >= 0.5, RMS)
  A sine of amplitude A settles at about A (peak, with a fast attack and slower release) or A / sqrt(2)
  (RMS, with equal attack and release; unequal times bias the mean square toward the faster one).

All recursive states are flushed below 1e-30, so decaying tails never go denormal.

cost_ns: the best of 60 runs of each kernel over 16 nodes x 512-sample blocks, inputs held (a pattern or a
number), on the machine where `sine`, `chorus` and `compressor` measure their own cost_ns (9.5, 16, 17 ns).
Moving the parameters every sample costs more where a coefficient is recomputed: lag 7, follow 14.
"""

from __future__ import annotations

import math

import numba as nb

from phonon.engine.kernels import clamp, flush
from phonon.engine.kernels.delays import hermite_tap, lfo_sin, side_lfo
from phonon.engine.kernels.oscillators import advance_phase
from phonon.graph.kinds import FREQ, INPUT, Kind, Param, define, fields, function

_TWO_PI = 2.0 * math.pi
_LN_60DB = math.log(1e-3)

PHASER_STAGES = 12
PHASER_LO_HZ = 100.0
PHASER_HI_HZ = 4000.0
_PHASER_CENTRE = math.sqrt(PHASER_LO_HZ * PHASER_HI_HZ)
_PHASER_LN_HALF_SPAN = 0.5 * math.log(PHASER_HI_HZ / PHASER_LO_HZ)
FLANGER_MAX_SECONDS = 0.012
_FLANGER_BASE = 0.0055  # s: the centre of the 1..10 ms sweep
_FLANGER_SWING = 0.0045
FEEDBACK_LIMIT = 0.9


# ---------------------------------------------------------------------------------------- phaser, flanger


@nb.njit(cache=True, nogil=True)
def phaser(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        x = arena[wiring[i, 1]]
        rate = arena[wiring[i, 2]]
        depth = arena[wiring[i, 3]]
        feedback = arena[wiring[i, 4]]
        stages = arena[wiring[i, 5]]
        st = state[i]
        sr = st[0]
        ap = st[PHASER_AP : PHASER_AP + PHASER_STAGES]
        phase = st[PHASER_PHASE]
        side = st[PHASER_SIDE]
        last = st[PHASER_LAST]
        inv_sr = 1.0 / sr
        top = 0.45 * sr  # tan stays finite even at sample rates below 8.9 kHz
        for n in range(start, stop):
            d = clamp(depth[n], 0.0, 1.0)
            fc = min(_PHASER_CENTRE * math.exp(d * _PHASER_LN_HALF_SPAN * side_lfo(phase, side)), top)
            t = math.tan(math.pi * fc * inv_sr)
            a = (t - 1.0) / (t + 1.0)
            xn = x[n]
            v = xn + clamp(feedback[n], -FEEDBACK_LIMIT, FEEDBACK_LIMIT) * last
            count = int(clamp(stages[n], 1.0, _PHASER_STAGES_HI) + 0.5)
            for k in range(count):
                y = a * v + ap[k]
                ap[k] = flush(v - a * y)
                v = y
            last = flush(v)
            out[n] = 0.5 * (xn + v)
            phase = advance_phase(phase, clamp(rate[n], 0.0, _PHASER_RATE_HI) * inv_sr)
        st[PHASER_PHASE] = phase
        st[PHASER_LAST] = last


@nb.njit(cache=True, nogil=True)
def flanger(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        x = arena[wiring[i, 1]]
        rate = arena[wiring[i, 2]]
        depth = arena[wiring[i, 3]]
        feedback = arena[wiring[i, 4]]
        st = state[i]
        sr = st[0]
        size = _flanger_size(sr)
        buf = st[FLANGER_BUFFER : FLANGER_BUFFER + size]
        w = int(st[FLANGER_W])
        phase = st[FLANGER_PHASE]
        side = st[FLANGER_SIDE]
        inv_sr = 1.0 / sr
        base = _FLANGER_BASE * sr
        swing = _FLANGER_SWING * sr
        max_d = size - 3.0  # the Hermite taps reach floor(d) + 2
        for n in range(start, stop):
            d = base + side_lfo(phase, side) * clamp(depth[n], 0.0, 1.0) * swing
            d = min(max(d, 2.0), max_d)  # >= 2: the newest tap (d - 1) was written before this sample
            wet = hermite_tap(buf, w, size, d)
            xn = x[n]
            buf[w] = flush(xn + clamp(feedback[n], -FEEDBACK_LIMIT, FEEDBACK_LIMIT) * wet)
            out[n] = 0.5 * (xn + wet)
            w += 1
            if w == size:
                w = 0
            phase = advance_phase(phase, clamp(rate[n], 0.0, _FLANGER_RATE_HI) * inv_sr)
        st[FLANGER_W] = w
        st[FLANGER_PHASE] = phase


@nb.njit(cache=True, inline="always")
def _flanger_size(sr):
    """The flanger's buffer length (also its Field size, called from Python)."""
    return int(FLANGER_MAX_SECONDS * sr) + 4


# ------------------------------------------------------------------------------- ring, fm, tremolo, phasor


@nb.njit(cache=True, inline="always")
def ring_step(sr, input, freq, phase):
    return input * math.sin(_TWO_PI * phase), advance_phase(phase, freq * (1.0 / sr))


@nb.njit(cache=True, inline="always")
def fm_step(sr, freq, ratio, index, carrier, modulator):
    beta = clamp(index, 0.0, _FM_INDEX_HI)
    out = math.sin(_TWO_PI * carrier + beta * math.sin(_TWO_PI * modulator))
    inv_sr = 1.0 / sr
    dt = freq * inv_sr
    return out, advance_phase(carrier, dt), advance_phase(modulator, dt * clamp(ratio, 0.0, _FM_RATIO_HI))


@nb.njit(cache=True, inline="always")
def tremolo_step(sr, input, rate, depth, phase):
    q = phase + 0.25  # cos(2 pi p) == sin(2 pi (p + 1/4)): the gain starts at its top
    if q >= 1.0:
        q -= 1.0
    gain = 1.0 - clamp(depth, 0.0, 1.0) * 0.5 * (1.0 - lfo_sin(q))
    return input * gain, advance_phase(phase, clamp(rate, 0.0, _TREMOLO_RATE_HI) * (1.0 / sr))


@nb.njit(cache=True, inline="always")
def phasor_step(sr, freq, phase):
    return phase, advance_phase(phase, freq * (1.0 / sr))


# ----------------------------------------------------------------------- samplehold, lag, slew, line, follow


@nb.njit(cache=True, inline="always")
def samplehold_step(sr, input, trigger, held, last):
    if trigger > 0.0 and not last > 0.0:  # a rising edge (a NaN before counts as <= 0)
        held = input
    return held, held, trigger


@nb.njit(cache=True, inline="always")
def lag_step(sr, input, time, y, started, last, c):
    if started == 0.0:
        y = input
        started = 1.0
    t = clamp(time, 0.0, _LAG_HI)
    if t != last:  # the first state (last 0, c 0) is already right for time 0
        last = t
        c = math.exp(_LN_60DB / (t * sr)) if t > 0.0 else 0.0
    y = flush(input + c * (y - input))
    return y, y, started, last, c


@nb.njit(cache=True, inline="always")
def slew_step(sr, input, up, down, y, started):
    if started == 0.0:
        y = input
        started = 1.0
    step = input - y
    rise = clamp(up, 0.0, math.inf) / sr
    fall = clamp(down, 0.0, math.inf) / sr
    if step > rise:
        y += rise
    elif step < -fall:
        y -= fall
    else:
        y = input  # within the limits: exactly the input, not y + (input - y)
    return y, y, started


@nb.njit(cache=True, nogil=True)
def line(arena, wiring, state, start, stop):
    # A kernel, not a step: a step's parameters are named like the inputs, and `from` is a Python keyword.
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        a = arena[wiring[i, 1]]
        b = arena[wiring[i, 2]]
        time = arena[wiring[i, 3]]
        st = state[i]
        sr = st[0]
        count = st[LINE_N]
        for n in range(start, stop):
            length = clamp(time[n], 0.0, math.inf) * sr
            if count >= length:
                out[n] = b[n]
            else:
                out[n] = a[n] + (b[n] - a[n]) * (count / length)
            count += 1.0
        st[LINE_N] = count


@nb.njit(cache=True, inline="always")
def _one_pole(t: float, sr: float) -> float:
    return math.exp(-1.0 / (t * sr)) if t > 0.0 else 0.0


@nb.njit(cache=True, inline="always")
def follow_step(sr, input, attack, release, mode, peak, ms, last_attack, c_attack, last_release, c_release):
    a = clamp(attack, 0.0, _FOLLOW_HI)
    if a != last_attack:  # the first state (0, 0) is already right for time 0
        last_attack = a
        c_attack = _one_pole(a, sr)
    r = clamp(release, 0.0, _FOLLOW_HI)
    if r != last_release:
        last_release = r
        c_release = _one_pole(r, sr)
    level = abs(input)
    c = c_attack if level > peak else c_release
    peak = flush(level + c * (peak - level))
    sq = input * input
    c = c_attack if sq > ms else c_release
    ms = flush(sq + c * (ms - sq))
    out = math.sqrt(ms) if mode >= 0.5 else peak
    return out, peak, ms, last_attack, c_attack, last_release, c_release


# ------------------------------------------------------------------------------------------- definitions

_PHASER_PARAMS = (
    Param("rate", 0.5, 0.0, 20.0, "Hz"),
    Param("depth", 0.8, 0.0, 1.0, "sweep: 0 holds the notches, 1 sweeps the stages 100 Hz..4 kHz"),
    Param("feedback", 0.5, -FEEDBACK_LIMIT, FEEDBACK_LIMIT),
    Param("stages", 4.0, 1.0, float(PHASER_STAGES), "first-order allpass stages (rounded)"),
)
_PHASER_RATE_HI, _PHASER_STAGES_HI = _PHASER_PARAMS[0].hi, _PHASER_PARAMS[3].hi
PHASER = define(
    Kind("phaser", ("input", "rate", "depth", "feedback", "stages"), consts=("side",),
         state=fields("phase", "last", ap=PHASER_STAGES), cost_ns=30.0, kernel=phaser,
         functions=(function("phaser", "phaser", INPUT, *_PHASER_PARAMS, sided=True,
                             doc="allpass-chain phaser, stereo (a mono input spreads)"),),
         doc="allpass chain swept 100 Hz..4 kHz by a sine LFO, mixed half and half with the dry signal; stereo "
             "(the right side's LFO a quarter cycle ahead)")
)  # fmt: skip
_FLANGER_PARAMS = (
    Param("rate", 0.2, 0.0, 20.0, "Hz"),
    Param("depth", 0.7, 0.0, 1.0, "sweep: 1 sweeps the delay 1..10 ms"),
    Param("feedback", 0.5, -FEEDBACK_LIMIT, FEEDBACK_LIMIT),
)
_FLANGER_RATE_HI = _FLANGER_PARAMS[0].hi
FLANGER = define(
    Kind("flanger", ("input", "rate", "depth", "feedback"), consts=("side",),
         state=fields("w", "phase", buffer=_flanger_size), cost_ns=15.0, kernel=flanger,
         functions=(function("flanger", "flanger", INPUT, *_FLANGER_PARAMS, sided=True,
                             doc="modulated short delay, stereo (a mono input spreads)"),),
         doc="delay swept 1..10 ms by a sine LFO (cubic interpolation), mixed half and half with the dry signal; "
             "stereo (the right side's LFO a quarter cycle ahead)")
)  # fmt: skip
RING = define(
    Kind("ring", ("input", "freq"), state=fields("phase"), cost_ns=9.3, step=ring_step,
         functions=(function("ring", "ring", INPUT, Param("freq", None, doc="Hz; the internal sine carrier"),
                             doc="ring modulation by a sine"),),
         doc="ring modulation: input times a sine at freq (sum and difference frequencies)")
)  # fmt: skip
_FM_PARAMS = (
    FREQ,
    Param("ratio", 1.0, 0.0, 100.0, "modulator frequency / carrier frequency"),
    Param("index", 1.0, 0.0, 100.0, "peak phase deviation, radians"),
)
_FM_RATIO_HI, _FM_INDEX_HI = _FM_PARAMS[1].hi, _FM_PARAMS[2].hi
FM = define(
    Kind("fm", ("freq", "ratio", "index"), state=fields("carrier", "modulator"), cost_ns=21.5, step=fm_step,
         functions=(function("fm", "fm", *_FM_PARAMS, doc="two-operator FM (phase modulation)"),),
         doc="two-operator FM: partials at freq +- k freq ratio, amplitudes J_k(index); index 0 is a sine")
)  # fmt: skip
_TREMOLO_PARAMS = (Param("rate", 5.0, 0.0, 100.0, "Hz"), Param("depth", 0.5, 0.0, 1.0, "the gain dips to 1 - depth"))
_TREMOLO_RATE_HI = _TREMOLO_PARAMS[0].hi
TREMOLO = define(
    Kind("tremolo", ("input", "rate", "depth"), state=fields("phase"), cost_ns=4.6, step=tremolo_step,
         functions=(function("tremolo", "tremolo", INPUT, *_TREMOLO_PARAMS, doc="amplitude modulation by a sine LFO"),),
         doc="gain swings between 1 and 1 - depth, rate times a second")
)  # fmt: skip
SAMPLEHOLD = define(
    Kind("samplehold", ("input", "trigger"), state=fields("held", "last"), cost_ns=0.8, step=samplehold_step,
         functions=(function("samplehold", "samplehold", INPUT,
                             Param("trigger", None, doc="samples the input where it rises through 0"),
                             doc="sample and hold"),),
         doc="holds the input's value from each rising edge of trigger (<= 0 to > 0)")
)  # fmt: skip
_LAG_TIME = Param("time", 0.1, 0.0, 60.0, "s")
_LAG_HI = _LAG_TIME.hi
LAG = define(
    Kind("lag", ("input", "time"), state=fields("y", "started", "last", "c"), cost_ns=4.1, step=lag_step,
         functions=(function("lag", "lag", INPUT, _LAG_TIME, doc="one-pole smoothing"),),
         doc="one-pole smoothing: within 60 dB (1e-3) of a step after `time`; starts at the first input")
)  # fmt: skip
SLEW = define(
    Kind("slew", ("input", "up", "down"), state=fields("y", "started"), cost_ns=2.2, step=slew_step,
         functions=(function("slew", "slew", INPUT, Param("up", 1.0, 0.0, None, "units per second"),
                             Param("down", 1.0, 0.0, None, "units per second"), doc="slew-rate limiter"),),
         doc="moves at most `up` / `down` units per second; starts at the first input")
)  # fmt: skip
LINE = define(
    Kind("line", ("from", "to", "time"), state=fields("n"), cost_ns=1.1, kernel=line,
         functions=(function("line", "line", Param("from"), Param("to"), Param("time", None, 0.0, None, "s"),
                             doc="a ramp from the start of the render, then held"),),
         doc="ramps from `from` to `to` over `time` seconds from the start, then holds `to`")
)  # fmt: skip
PHASOR = define(
    Kind("phasor", ("freq",), state=fields("phase"), cost_ns=1.1, step=phasor_step,
         functions=(function("phasor", "phasor", FREQ, doc="0..1 ramp"),),
         doc="a 0..1 ramp at freq Hz (a saw's phase)")
)  # fmt: skip
_FOLLOW_PARAMS = (
    Param("attack", 0.01, 0.0, 10.0, "s"),
    Param("release", 0.1, 0.0, 10.0, "s"),
    Param("mode", 0.0, 0.0, 1.0, "0 peak, 1 RMS"),
)
_FOLLOW_HI = _FOLLOW_PARAMS[0].hi
FOLLOW = define(
    Kind("follow", ("input", "attack", "release", "mode"),
         state=fields("peak", "ms", "last_attack", "c_attack", "last_release", "c_release"),
         cost_ns=4.6, step=follow_step,
         functions=(function("follow", "follow", INPUT, *_FOLLOW_PARAMS, doc="envelope follower"),),
         doc="envelope follower: peak (mode 0) or RMS (mode 1), attack/release time constants")
)  # fmt: skip
PHASER_SIDE, PHASER_PHASE, PHASER_LAST, PHASER_AP = PHASER.columns("side", "phase", "last", "ap")
FLANGER_SIDE, FLANGER_W, FLANGER_PHASE, FLANGER_BUFFER = FLANGER.columns("side", "w", "phase", "buffer")
(LINE_N,) = LINE.columns("n")
