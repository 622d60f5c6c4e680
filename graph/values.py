"""What compiler expressions evaluate to: a constant, a pattern (kept symbolic so pattern arithmetic and
transforms stay exact), a linear form `bias + sum(gain * node)` (becomes one `mix` node only when a signal is
needed), a stereo pair, or voices (events that trigger samples or synth notes)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from graph import ast


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


# The voice controls a signal may give (`# gain ~lfo`), read at each event's onset sample: each is one field of
# a voice's trigger (engine/voices.py), so the kernels take it as they take a pattern's value.
SIGNAL_CONTROLS = ("gain", "pan", "begin", "end", "attack", "release")


def voice_value(name: str, v: Any) -> Any:
    """A voice parameter's value; `note` takes note names and chord notes as semitones from c4."""
    if isinstance(v, dict):  # a transform made it a control map
        v = v.get("value", v)
    if name != "note":  # called for every event and parameter: no import on this path
        return v
    from graph.patterns import MidiNote, is_note_name, note_to_midi

    if isinstance(v, MidiNote):
        return float(int(v) - 60)
    if isinstance(v, str) and is_note_name(v):
        return float(note_to_midi(v) - 60)
    return v


def has_notes(pattern: Any) -> bool:
    """Whether a pattern plays note names (so an oscillator given it becomes synth voices)."""
    from graph.patterns import MidiNote, is_note_name

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
        from graph.patterns.core import modulo

        return modulo(a, b)
    if op in ("<", ">"):
        return a if op == "<" else b
    return safe_div(a, b)


def safe_div(a: float, b: float) -> float:
    """Division by (nearly) zero gives 0, as in the original Phonon, so a silent divisor never makes inf. The
    one definition: patterns, constant folding and the div kernel (which compiles this function) all use it."""
    return a / b if abs(b) > 1e-10 else 0.0
