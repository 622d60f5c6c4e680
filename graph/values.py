"""What compiler expressions evaluate to: a constant, a pattern (kept symbolic so pattern arithmetic and
transforms stay exact), a linear form `bias + sum(gain * node)` (becomes one `mix` node only when a signal is
needed), a stereo pair, or voices (events that trigger samples or synth notes)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from phonon.graph import ast


@dataclass(frozen=True)
class Const:
    value: float


@dataclass(frozen=True)
class Pat:
    pattern: Any
    text: str
    pos: ast.Pos


@dataclass(frozen=True)
class Lin:
    """bias + sum(gain * node) over `terms` ((node id, gain), ...)."""

    terms: tuple[tuple[int, float], ...]
    bias: float = 0.0

    @staticmethod
    def of(node_id: int) -> Lin:
        return Lin(((node_id, 1.0),))

    def scaled(self, k: float) -> Lin:
        return Lin(tuple((n, g * k) for n, g in self.terms), self.bias * k)

    def plus(self, other: Lin) -> Lin:
        gains = dict(self.terms)
        for n, g in other.terms:
            gains[n] = gains.get(n, 0.0) + g
        return Lin(tuple((n, g) for n, g in gains.items() if g != 0.0), self.bias + other.bias)


@dataclass(frozen=True)
class Voices:
    """Events that trigger voices: a pattern of control maps, played by samples (`source` "s") or by synth
    notes (`source` a waveform name). It becomes a stereo signal where it is used as one."""

    pattern: Any
    source: str
    pos: ast.Pos
    envelope: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # synth ADSR defaults
    # `# name pattern` parameters not yet merged into `pattern`: the engine samples each at the events'
    # onsets with one query per cycle (merging with app_left would query it once per event).
    params: tuple[tuple[str, Any], ...] = ()
    named: bool = True  # whether the events name their sound (`note "0 4 7"` alone does not, until `# s "arpy"`)
    # `# gain ~lfo`: controls read from signals at each event's onset sample (the voice node's inputs)
    signals: tuple[tuple[str, Any], ...] = ()

    def merged(self) -> Voices:
        """The same voices with every parameter merged into the pattern (Tidal's `#`), as a transform needs."""
        pattern = self.pattern
        for name, values in self.params:
            setter = pattern.fmap(lambda controls, name=name: lambda v: {**controls, name: voice_value(name, v)})
            pattern = setter.app_left(values)
        return replace(self, pattern=pattern, params=())


@dataclass(frozen=True)
class Stereo:
    """Two channels (each a Const or a Lin). Calls on a stereo signal run once per channel, arithmetic works
    per channel with mono values on both sides, and a stereo output keeps its sides in the master."""

    left: Const | Lin
    right: Const | Lin


Value = Const | Pat | Lin | Stereo | Voices


def channels(v: Value) -> tuple[Value, Value]:
    return (v.left, v.right) if isinstance(v, Stereo) else (v, v)


def sample_controls(value: Any) -> dict:
    """An `s` event's controls: the sample name under "s" (transforms may already have made a map)."""
    if isinstance(value, dict):
        controls = dict(value)
        if "value" in controls:
            controls["s"] = controls.pop("value")
        return controls
    return {"s": value}


@dataclass(frozen=True)
class VoiceControl:
    """One per-event control of voices (`s "bd*4" # cutoff "300 3000"`): SuperDirt's name (Strudel's where
    SuperDirt has none), its aliases, its default and range as the README's table says them, and what it does.

    `default` is the number a trigger row holds when no event gives the control; NaN means "not given", which
    switches the feature off (no `cutoff`: no lowpass) or leaves the choice to the kernel (no `sustain`: 1, or 0
    when a `decay` is given). `field`: the control is one column of a voice's trigger row (engine/kernels/voices.py
    derives the column numbers from this table), so a pattern or a signal read at the onset may give it; `n`
    and `s` pick the sample on the host instead, and an orbit's effect settings (size, dry, delaytime, ...) become
    the orbit's control signals (graph/orbits.py). `words`: the values it takes besides numbers. `synth`: synth
    voices use it too (the rest are sample controls: playback position and speed)."""

    name: str
    default: float
    range: str
    doc: str
    aliases: tuple[str, ...] = ()
    shown_default: str = ""  # the README's default when `default` alone does not say it
    field: bool = True
    words: tuple[str, ...] = ()
    synth: bool = True


_OFF = float("nan")
MAX_ORBITS = 16  # orbits 0 .. 15 (Tidal's d1 .. d16): graph/orbits.py and the voice kernels' routes

# The order is the README's; the effects' order of application is fixed by the kernels (FX_ORDER below).
VOICE_CONTROLS: tuple[VoiceControl, ...] = (
    # ---- which sound, and its pitch
    VoiceControl("n", 0.0, "0, 1, ...", "sample index within the name's folder (added to bd:N)", field=False,
                 synth=False),
    VoiceControl("note", 0.0, "semitones", "transposes samples (speed times 2^(note/12)) and synth notes; note names "
                 "are semitones from c4"),
    VoiceControl("freq", 0.0, "Hz", "synth voices: the frequency, over n (note still transposes it); not given: "
                 "n semitones from c4, or c2 (65.4 Hz, Strudel's) when neither note nor n is given",
                 shown_default="c2"),
    VoiceControl("unison", 5.0, "1..16", "supersaw: the number of saws (Strudel's)"),
    VoiceControl("detune", 0.18, "semitones", "supersaw: the saws spread evenly over this many semitones (Strudel's)"),
    VoiceControl("spread", 0.6, "0..1", "supersaw: how far the saws spread over the stereo field, alternately left "
                 "and right (Strudel's)"),
    # ---- level and place
    VoiceControl("gain", 1.0, "0..2", "SuperDirt's level curve: amp * velocity * (min(gain, 2) + overgain)^4 "
                 "(gain 1 is the sample's own level, 0.5 is -24 dB); the level is clamped to 256"),
    VoiceControl("overgain", 0.0, "number", "added to gain after gain's clamp at 2 (SuperDirt)"),
    VoiceControl("amp", 1.0, "0..", "linear level (SuperDirt's orbit default is 0.4; here 1, so that gain 1 plays "
                 "a sample at its own level)"),
    VoiceControl("velocity", 1.0, "0..1", "linear level, multiplied with the gain curve (Strudel's)"),
    VoiceControl("pan", 0.5, "0..1", "0 left, 0.5 centre, 1 right; constant power: left sin((1 - pan) pi/2), right "
                 "sin(pan pi/2), so the centre is 0.707 on each side and a hard pan 1.0 on one"),
    VoiceControl("orbit", 0.0, f"0 .. {MAX_ORBITS - 1}", "the effect buses the voice sends to (room, delay); its dry sound stays in "
                 "its own output. A number or a pattern of whole numbers (the orbits are found when compiling)"),
    # ---- the orbit's global effects (README: Orbits): sends per voice, the effects' settings per orbit
    VoiceControl("room", 0.0, "0..1", "reverb send: the voice goes into its orbit's reverb at this level "
                 "(Strudel's per-voice send)"),
    VoiceControl("size", 0.1, "0..1", "the orbit's reverb size (its tail; SuperDirt's default); set by the latest "
                 "event on the orbit that gives it", aliases=("roomsize", "sz"), field=False),
    VoiceControl("dry", 0.0, "0..1", "the orbit's reverb return times 1 - dry (SuperDirt's: dry 1 silences the "
                 "reverb, the dry sound stays); latest event", field=False),
    VoiceControl("delay", 0.0, "0..1", "delay send: the voice goes into its orbit's delay at this level"),
    VoiceControl("delaytime", 0.25, "0..2 s", "the orbit's echo time in seconds; latest event", aliases=("delayt",),
                 field=False),
    VoiceControl("delaysync", _OFF, "cycles", "the orbit's echo time in cycles (delaysync / cps seconds); wins over "
                 "delaytime; latest event", field=False),
    VoiceControl("delayfeedback", 0.5, "0..0.98", "each echo this times the one before (clamped to 0.98, Strudel's); "
                 "latest event", aliases=("delayfb",), field=False),
    # ---- playback (samples)
    VoiceControl("speed", 1.0, "number", "playback rate; negative plays backwards; with unit c, cycles per sample "
                 "length", synth=False),
    VoiceControl("accelerate", 0.0, "number", "the rate ramps from speed to speed * (1 + accelerate) over the "
                 "voice (SuperDirt)", synth=False),
    VoiceControl("unit", 0.0, "r c", "c: speed counts cycles, so the sample lasts 1/speed cycles at any "
                 "tempo (loopAt and splice set it); r (default): speed is a rate", shown_default="r", words=("r", "c"),
                 synth=False),
    VoiceControl("begin", 0.0, "0..1", "start of the played slice; end < begin plays it backwards (SuperDirt)",
                 synth=False),
    VoiceControl("end", 1.0, "0..1", "end of the played slice", synth=False),
    VoiceControl("loop", 1.0, "0..", "play the slice this many times in a row (SuperDirt's loop; Strudel's loop 1 "
                 "is `# loop 8 # legato 1` here)", synth=False),
    VoiceControl("cut", 0.0, "0, 1, ...", "cut group: a new voice fades out the earlier voices of its group in 10 ms",
                 synth=False),
    # ---- amplitude envelope (linear segments; Strudel's names and rules)
    VoiceControl("attack", _OFF, "s", "rise to full level (samples: 1 ms when not given or 0; < 0: none)",
                 shown_default="1 ms"),
    VoiceControl("decay", _OFF, "s", "fall from full level to sustain after the attack"),
    VoiceControl("sustain", _OFF, "0..1", "level held until the release; not given: 1, or 0 when decay is given "
                 "(Strudel's rule)", shown_default="1"),
    VoiceControl("release", _OFF, "s", "fall to 0 from the gate (samples: 3 ms at the sample's end when not given; "
                 "given, the gate closes at the event's end)", shown_default="3 ms"),
    VoiceControl("hold", _OFF, "s", "the gate closes attack + hold after the onset (SuperDirt's envelope)"),
    VoiceControl("legato", _OFF, "0..", "the gate closes after legato times the event's duration (synth notes: 1 "
                 "when not given)", aliases=("clip",)),
    # ---- effects, applied per voice in the order of FX_ORDER
    VoiceControl("vowel", _OFF, "a e i o u, 0..4", "formant filter (the `vowel` function's five formants; "
                 "fractions blend neighbours)", words=("a", "e", "i", "o", "u")),
    VoiceControl("shape", _OFF, "0..1", "waveshaper (SuperDirt): k = 2 shape / (1 - shape), y = (1 + k) x / "
                 "(1 + k abs(x))"),
    VoiceControl("hcutoff", _OFF, "Hz", "resonant highpass (TPT state-variable, 12 dB/oct), cutoff clamped 20 Hz .. "
                 "0.49 sr", aliases=("hpf",)),
    VoiceControl("hresonance", 0.0, "0..1", "SuperDirt's highpass resonance: q = 1000^hresonance (RHPF's rq)"),
    VoiceControl("hpq", _OFF, "0..50", "Strudel's highpass q, read as Web Audio reads it: the peak in dB, "
                 "q = 10^(hpq / 20); wins over hresonance"),
    VoiceControl("bandf", _OFF, "Hz", "bandpass centre (clamped to 20 Hz .. 0.49 sr)", aliases=("bpf",)),
    VoiceControl("bandq", 10.0, "1..", "bandpass q; its output is multiplied by q (SuperDirt's)", aliases=("bpq",)),
    VoiceControl("crush", _OFF, "1..16", "bit depth (SuperDirt): x rounded to steps of 2^(1 - crush)"),
    VoiceControl("coarse", _OFF, "1..", "sample-rate reduction (SuperDirt): the voice holds its value coarse "
                 "samples (fractions: on average)"),
    VoiceControl("cutoff", _OFF, "Hz", "resonant lowpass (TPT state-variable, 12 dB/oct), cutoff clamped 20 Hz .. "
                 "0.49 sr", aliases=("lpf",)),
    VoiceControl("resonance", 0.0, "0..1", "SuperDirt's lowpass resonance: q = 1000^resonance (RLPF's rq)"),
    VoiceControl("lpq", _OFF, "0..50", "Strudel's lowpass q, read as Web Audio reads it: the peak in dB, "
                 "q = 10^(lpq / 20); wins over resonance"),
    VoiceControl("lpenv", _OFF, "octaves", "filter envelope depth (Strudel's): the cutoff sweeps from cutoff to "
                 "cutoff * 2^lpenv and back along lpattack lpdecay lpsustain lprelease; negative sweeps down; on "
                 "when any of the five is given", shown_default="1"),
    VoiceControl("lpattack", _OFF, "s", "filter envelope attack (none of the four given: 0.005 0.14 0 0.1)",
                 shown_default="0.005"),
    VoiceControl("lpdecay", _OFF, "s", "filter envelope decay", shown_default="0.14"),
    VoiceControl("lpsustain", _OFF, "0..1", "filter envelope sustain, as a fraction of the sweep in Hz (Strudel's "
                 "rule as for sustain)", shown_default="0"),
    VoiceControl("lprelease", _OFF, "s", "filter envelope release from the gate", shown_default="0.1"),
    VoiceControl("distort", _OFF, "0..", "Strudel's distortion: k = e^distort - 1, y = (1 + k) x / (1 + k abs(x))"),
)
VOICE_CONTROL: dict[str, VoiceControl] = {c.name: c for c in VOICE_CONTROLS}
# Every name a program may use, alias included, with the control it sets.
CONTROL_NAMES: dict[str, str] = {n: c.name for c in VOICE_CONTROLS for n in (c.name, *c.aliases)}
VOICE_PARAMS: dict[str, str] = {n: VOICE_CONTROL[c].doc for n, c in CONTROL_NAMES.items()}
# The per-voice effects in the order they are applied, after the sample read or the oscillator and before the
# envelope, the level and the pan (SuperDirt's module order: vowel, shape, hpf, bpf, crush, coarse, lpf; its
# `distort` is an extra module, after the core ones).
FX_ORDER = ("vowel", "shape", "hcutoff", "bandf", "crush", "coarse", "cutoff", "distort")

# The voice controls a signal may give (`# gain ~lfo`, `# cutoff ~env`), read at each event's onset sample: each
# is one field of a voice's trigger (engine/voices.py), so the kernels take it as they take a pattern's value.
# `orbit` is no signal: the orbits a program sends to are graph structure, known when compiling.
SIGNAL_CONTROLS = tuple(c.name for c in VOICE_CONTROLS if c.field and c.name != "orbit")


def control_name(name: str) -> str:
    """The control a name sets (`lpf` -> `cutoff`); other names are their own."""
    return CONTROL_NAMES.get(name, name)


def voice_controls_table() -> str:
    """The README's table of voice controls (`python -m phonon.graph.values` prints it)."""
    rows = ["| control | default | range | what it does |", "|---|---|---|---|"]
    for c in VOICE_CONTROLS:
        names = " ".join(f"`{n}`" for n in (c.name, *c.aliases))
        default = c.shown_default or ("none" if c.default != c.default else f"{c.default:g}")
        where = "" if c.synth else "samples: "
        rows.append(f"| {names} | {default} | {c.range} | {where}{c.doc} |")
    return "\n".join(rows)


def voice_value(name: str, v: Any) -> Any:
    """A voice parameter's value; `note` takes note names and chord notes as semitones from c4."""
    if isinstance(v, dict):  # a transform made it a control map
        v = v.get("value", v)
    if name != "note":  # called for every event and parameter: no import on this path
        return v
    from phonon.graph.patterns import MidiNote, is_note_name, note_to_midi

    if isinstance(v, MidiNote):
        return float(int(v) - 60)
    if isinstance(v, str) and is_note_name(v):
        return float(note_to_midi(v) - 60)
    return v


def has_notes(pattern: Any) -> bool:
    """Whether a pattern plays note names (so an oscillator given it becomes synth voices)."""
    from phonon.graph.patterns import MidiNote, is_note_name

    values = [h.value for h in pattern.query_arc(0, 8)]
    return any(isinstance(v, MidiNote) or (isinstance(v, str) and is_note_name(v)) for v in values)


def apply_op(op: str, a: float, b: float) -> float:
    """A constant operation, folded at compile time (`%`, `<` and `>` as the pattern operators have them)."""
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "%":
        from phonon.graph.patterns.core import modulo

        return modulo(a, b)
    if op in ("<", ">"):
        return a if op == "<" else b
    return safe_div(a, b)


def safe_div(a: float, b: float) -> float:
    """Division by (nearly) zero gives 0, as in the original Phonon, so a silent divisor never makes inf. The
    one definition: patterns, constant folding and the div kernel (which compiles this function) all use it."""
    return a / b if abs(b) > 1e-10 else 0.0


if __name__ == "__main__":  # run as a script this file is a second module: ask the real one
    from phonon.graph import values as this

    print(this.voice_controls_table())
