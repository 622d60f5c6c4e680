"""Patterns: the Tidal/Strudel pattern core, mini-notation, transforms and event listings.

    from phonon.graph.patterns import parse_mini, TRANSFORMS, control_onsets
    pat = TRANSFORMS["every"](3, TRANSFORMS["fast"](2))(parse_mini("bd <sn cp>"))
    pat.query_arc(0, 1)          # [Hap(whole, part, value), ...] with exact Fraction times
"""

from __future__ import annotations

from quicktions import Fraction

from .core import FRACTIONS, Hap, MidiNote, Pattern, PatternLimitError, TimeSpan, control_map, pure, silence, stack
from .events import events_record, events_text
from .mini import MiniNotationError, parse_mini, split_sample
from .notes import is_note_name, midi_to_hz, note_to_hz, note_to_midi
from .transforms import TRANSFORMS, Transform, TransformError

__all__ = [
    "Pattern", "TimeSpan", "Hap", "MidiNote", "parse_mini", "MiniNotationError", "PatternLimitError", "TRANSFORMS",
    "Transform",
    "TransformError", "events_record", "events_text", "control_onsets", "control_value", "split_sample",
    "control_map", "pure", "silence", "stack", "is_note_name", "note_to_midi", "note_to_hz", "midi_to_hz",
]


def control_value(value: object) -> float:
    """A value as a control number: numbers pass through, note names (and chord notes, `MidiNote`) become
    Hz with a4 = 440. Raises ValueError naming anything else."""
    if isinstance(value, MidiNote):
        return midi_to_hz(int(value))
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number or a note name")
    if isinstance(value, (int, float, *FRACTIONS)):
        try:
            return float(value)
        except OverflowError:  # an integer or fraction past the float range (pattern arithmetic on huge words)
            raise ValueError("a value of this pattern is out of range: no number that large can drive a control") from None
    if isinstance(value, str) and is_note_name(value):
        return note_to_hz(value)
    raise ValueError(f"{value!r} is not a number or a note name, so it cannot drive a control")


def control_onsets(pattern: Pattern, cycle: int) -> list[tuple[Fraction, float]]:
    """(onset, value) for the events starting in [cycle, cycle + 1), sorted by onset (ties keep query
    order), values as `control_value`. The engine holds each value until the next onset."""
    haps = pattern.onsets(cycle, cycle + 1)
    return [(h.whole.begin, control_value(h.value)) for h in haps]
