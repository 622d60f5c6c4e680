"""The language's functions and the node kinds they compile to.

A *function* is what a program calls (`lpf`, `hpf`, `dist`); a *kind* is what the engine runs (one numba
kernel per kind, see `engine/kernels`). Several functions may share a kind and differ only in fixed
per-node constants (`lpf` and `hpf` are both the `svf` kind with another `mode`). Adding a node kind means
one `Kind` entry here plus one kernel registered under the same name in `engine/kernels`.

Kernel state layout (the contract between this file and the kernels): every node owns one row of a float64
state table, `[sr, *consts, *mutable state]`; `consts` are the values named in `Kind.consts`, in order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Param:
    """One input of a function. `default is None` means required. `lo`/`hi` document the clamp."""

    name: str
    default: float | None = None
    lo: float | None = None
    hi: float | None = None
    doc: str = ""


@dataclass(frozen=True)
class Kind:
    """A node kind: what one kernel computes.

    `inputs` are signal inputs (each a constant, a pattern or a signal, read per sample); `consts` are fixed
    per-node numbers the compiler bakes into the state row; `state_size(sr)` is the mutable state after them.
    `cost_ns` is the estimated cost per sample, used for reports and for partitioning; `lane_cost_ns` the
    cost per sample of a node that runs in SIMD lanes (graph/lanes.py), per input for a variadic kind.
    """

    name: str
    inputs: tuple[str, ...]
    consts: tuple[str, ...] = ()
    state_size: Callable[[int], int] = lambda sr: 0
    cost_ns: float = 1.0
    variadic: bool = False
    host_filled: bool = False
    outputs: int = 1  # a node with 2 outputs (left, right) owns two consecutive arena rows
    lane_cost_ns: float | None = None


@dataclass(frozen=True)
class Function:
    """A callable name in the language.

    `chain` says what `x # f args` means: "input" passes x as the first parameter; "multiply" multiplies x by
    `f args` (envelopes). `fixed` are consts fixed by the name (e.g. the filter mode).
    """

    name: str
    kind: str
    params: tuple[Param, ...]
    fixed: dict[str, float] = field(default_factory=dict)
    chain: str = "input"
    doc: str = ""

    def signature(self) -> str:
        parts = [p.name if p.default is None else f"[{p.name}={p.default:g}]" for p in self.params]
        return " ".join([self.name, *parts])


# Filter modes of the svf kind.
SVF_LOW, SVF_HIGH, SVF_BAND, SVF_NOTCH = 0.0, 1.0, 2.0, 3.0

DELAY_MAX_SECONDS = 2.0
REVERB_COMBS = (1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617)
REVERB_ALLPASSES = (556, 441, 341, 225)
CHORUS_MAX_SECONDS = 0.05


def _scaled(lengths: tuple[int, ...], sr: int) -> int:
    return sum(max(1, int(n * sr / 44100)) for n in lengths)


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        # sources
        Kind("sine", ("freq",), state_size=lambda sr: 1, cost_ns=9.0),
        Kind("saw", ("freq",), state_size=lambda sr: 1, cost_ns=2.0, lane_cost_ns=0.7),
        Kind("square", ("freq",), state_size=lambda sr: 1, cost_ns=3.5),
        Kind("tri", ("freq",), state_size=lambda sr: 1, cost_ns=2.5),
        Kind("pulse", ("freq", "width"), state_size=lambda sr: 1, cost_ns=4.0),
        Kind("impulse", ("freq",), state_size=lambda sr: 2, cost_ns=1.5),
        Kind("noise", (), consts=("seed",), state_size=lambda sr: 1, cost_ns=1.7),
        Kind("pink", (), consts=("seed",), state_size=lambda sr: 8, cost_ns=4.9),
        Kind("brown", (), consts=("seed",), state_size=lambda sr: 2, cost_ns=3.5),
        # filters and effects
        Kind("svf", ("input", "cutoff", "q"), consts=("mode",), state_size=lambda sr: 8, cost_ns=4.4, lane_cost_ns=1.0),
        Kind(
            "delay",
            ("input", "time", "feedback", "mix"),
            state_size=lambda sr: int(DELAY_MAX_SECONDS * sr) + 8,
            cost_ns=5.9,
        ),
        Kind(
            "reverb",
            ("input", "room", "damping", "mix"),
            state_size=lambda sr: _scaled(REVERB_COMBS, sr) + _scaled(REVERB_ALLPASSES, sr) + 32,
            cost_ns=25.0,
        ),
        Kind("distortion", ("input", "drive", "mix"), cost_ns=12.6),
        Kind(
            "compressor",
            ("input", "threshold", "ratio", "attack", "release", "makeup"),
            state_size=lambda sr: 2,
            cost_ns=16.5,
        ),
        Kind(
            "chorus",
            ("input", "rate", "depth", "mix"),
            state_size=lambda sr: int(CHORUS_MAX_SECONDS * sr) + 8,
            cost_ns=16.0,
        ),
        Kind("bitcrush", ("input", "bits", "rate"), state_size=lambda sr: 2, cost_ns=1.7),
        # envelopes
        Kind("adsr", ("attack", "decay", "sustain", "release"), consts=("cps",), state_size=lambda sr: 1, cost_ns=2.2),
        Kind("env", ("attack", "decay", "sustain", "release"), state_size=lambda sr: 1, cost_ns=1.4),
        # arithmetic: mix is sum(gain_i * x_i) + bias, with the gains and bias as consts
        Kind("mix", (), consts=("bias",), variadic=True, cost_ns=0.6, lane_cost_ns=0.2),
        Kind("mul", ("a", "b"), cost_ns=0.6),
        Kind("div", ("a", "b"), cost_ns=1.0),
        # a bus reference that closes a feedback loop: the engine either reads the bus directly (the loop
        # has a delay to step by) or makes it a one-sample delay (a loop with no delay of its own)
        Kind("feedback", ("input",), state_size=lambda sr: 1, cost_ns=1.0),
        # voices triggered by pattern events (samples, or synth notes), panned into two outputs; the host
        # turns each block's events into triggers for the voice kernels (engine/voices.py)
        Kind("sampler", (), host_filled=True, outputs=2, cost_ns=40.0),
        Kind("synth", (), consts=("wave", "attack", "decay", "sustain", "release"), host_filled=True, outputs=2, cost_ns=40.0),
        # the second output (right channel) of a two-output node: no work, it names the row
        Kind("channel", ("input",), consts=("index",), cost_ns=0.0),
        # a pattern read as a stepped control signal: filled by the host once per block
        Kind("pattern", (), host_filled=True, cost_ns=0.3),
    )
}

_FREQ = Param("freq", 1.0, doc="Hz; a number, pattern or signal (audio-rate FM)")
_INPUT = Param("input", doc="the signal to process (the left side of #)")
_MIX = Param("mix", 0.5, 0.0, 1.0, "dry/wet")


def _osc(name: str, kind: str, doc: str) -> Function:
    return Function(name, kind, (_FREQ,), doc=doc)


def _filter(name: str, mode: float, doc: str) -> Function:
    return Function(
        name,
        "svf",
        (_INPUT, Param("cutoff", None, 20.0, None, "Hz, clamped to 20 .. 0.49 sr"), Param("q", 1.0, 0.5, 20.0)),
        fixed={"mode": mode},
        doc=doc,
    )


_ADSR_PARAMS = (
    Param("attack", None, 0.0, None, "s"),
    Param("decay", None, 0.0, None, "s"),
    Param("sustain", 0.7, 0.0, 1.0, "level"),
    Param("release", 0.2, 0.0, None, "s"),
)

_FUNCTION_LIST: tuple[Function, ...] = (
    _osc("sine", "sine", "sine oscillator"),
    _osc("saw", "saw", "band-limited (PolyBLEP) sawtooth"),
    _osc("square", "square", "band-limited (PolyBLEP) square"),
    _osc("tri", "tri", "triangle"),
    _osc("triangle", "tri", "triangle"),
    Function("pulse", "pulse", (_FREQ, Param("width", 0.5, 0.01, 0.99)), doc="band-limited pulse (PWM)"),
    Function(
        "impulse",
        "impulse",
        (Param("freq", 0.0, 0.0, None, "Hz; 0 gives one impulse at the start"),),
        doc="single-sample impulses of 1.0, the first on the first sample",
    ),
    Function("noise", "noise", (), doc="white noise"),
    Function("white_noise", "noise", (), doc="white noise"),
    Function("pink", "pink", (), doc="pink noise (-3 dB/octave)"),
    Function("pink_noise", "pink", (), doc="pink noise (-3 dB/octave)"),
    Function("brown", "brown", (), doc="brown noise (-6 dB/octave)"),
    Function("brown_noise", "brown", (), doc="brown noise (-6 dB/octave)"),
    _filter("lpf", SVF_LOW, "state-variable lowpass"),
    _filter("hpf", SVF_HIGH, "state-variable highpass"),
    _filter("bpf", SVF_BAND, "state-variable bandpass"),
    _filter("notch", SVF_NOTCH, "state-variable notch"),
    Function(
        "delay",
        "delay",
        (_INPUT, Param("time", None, 0.0, DELAY_MAX_SECONDS, "s"), Param("feedback", 0.5), _MIX),
        doc="interpolated delay line, up to 2 s",
    ),
    Function(
        "reverb",
        "reverb",
        (_INPUT, Param("room", None, 0.0, 1.0), Param("damping", None, 0.0, 1.0), Param("mix", 0.3, 0.0, 1.0)),
        doc="Freeverb-style mono reverb; out = dry + wet * mix",
    ),
    *(
        Function(n, "distortion", (_INPUT, Param("drive", None, 1.0, 100.0), _MIX), doc="tanh waveshaper")
        for n in ("distortion", "dist", "distort")
    ),
    *(
        Function(
            n,
            "compressor",
            (
                _INPUT,
                Param("threshold", None, -60.0, 0.0, "dB"),
                Param("ratio", None, 1.0, 20.0),
                Param("attack", None, 0.001, 1.0, "s"),
                Param("release", None, 0.01, 3.0, "s"),
                Param("makeup", None, 0.0, 30.0, "dB"),
            ),
            doc="peak compressor",
        )
        for n in ("compressor", "comp")
    ),
    Function(
        "chorus",
        "chorus",
        (_INPUT, Param("rate", None, 0.1, 10.0, "Hz"), Param("depth", None, 0.0, 1.0), Param("mix", 0.3, 0.0, 1.0)),
        doc="modulated delay chorus",
    ),
    Function(
        "bitcrush",
        "bitcrush",
        (_INPUT, Param("bits", None, 1.0, 16.0), Param("rate", None, 1.0, None, "hold each value this many samples")),
        doc="quantise amplitude and hold samples",
    ),
    Function("adsr", "adsr", _ADSR_PARAMS, chain="multiply", doc="envelope retriggered every cycle"),
    Function("env", "env", _ADSR_PARAMS, chain="multiply", doc="free-running envelope, gate always on"),
)

FUNCTIONS: dict[str, Function] = {f.name: f for f in _FUNCTION_LIST}

# Functions the compiler folds into arithmetic instead of nodes: name -> parameter names.
ARITHMETIC_FUNCTIONS: dict[str, tuple[Param, ...]] = {
    "gain": (_INPUT, Param("amount")),
    "amp": (_INPUT, Param("amount")),
    "mix": (),  # variadic: sums its arguments
    "stack": (),  # variadic: sums its arguments
}


# Per-event parameters of voices (`s "bd*4" # gain "1 0.5"`), evaluated at each event's onset.
VOICE_PARAMS: dict[str, str] = {
    "gain": "linear amplitude, 0..10 (default 1)",
    "pan": "-1 (left) .. 1 (right), equal power (default 0)",
    "speed": "playback rate; negative plays backwards (default 1)",
    "n": "sample index within the name's folder (added to bd:N)",
    "note": "semitones (note names relative to c4); transposes samples and synth notes",
    "begin": "start of the played slice, 0..1",
    "end": "end of the played slice, 0..1",
    "cut": "cut group: a new voice fades out the earlier voices of its group",
    "attack": "seconds",
    "release": "seconds",
    "legato": "hold the voice for this many event durations",
}
# Oscillators that become polyphonic synth voices when their argument is a pattern of note names.
SYNTH_WAVES: dict[str, int] = {"sine": 0, "saw": 1, "square": 2, "tri": 3, "triangle": 3}
SYNTH_ENVELOPE_DEFAULTS = (0.001, 0.1, 0.0, 0.1)  # attack, decay, sustain, release: percussive


def all_names() -> list[str]:
    """Every callable name, for "did you mean" suggestions."""
    return sorted([*FUNCTIONS, *ARITHMETIC_FUNCTIONS, *VOICE_PARAMS, "s", "sound"])
