"""Event listings for `phonon events`: the JSON record DESIGN.md specifies, and a readable text form.

Values print as Strudel's `hap.value` would in JSON: numbers stay numbers (integral floats print as
integers, as JavaScript has one number type), strings stay strings: sample names, `bd:3` and note names
(`"c4"`) alike. Chord notes (`c4'maj`) print as MIDI numbers (60, 64, 67). Control maps print as objects.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from quicktions import Fraction

from phonon.graph.errors import PhononError

from .core import FRACTIONS, Hap, Pattern, PatternLimitError
from .mini import MiniNotationError, parse_mini

__all__ = ["events_record", "events_text", "format_time", "json_value", "onset_events"]


def format_time(t: Fraction) -> str:
    """"0", "1/4", "3", "-1/2": integers without "/1"."""
    t = Fraction(t)
    return str(t.numerator) if t.denominator == 1 else f"{t.numerator}/{t.denominator}"


def json_value(v: Any) -> Any:
    """A value as plain JSON data."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return int(v)
    if isinstance(v, float):
        return int(v) if v.is_integer() and abs(v) < 2**53 else v
    if isinstance(v, FRACTIONS):
        return json_value(float(v))
    if isinstance(v, dict):
        return {str(k): json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [json_value(x) for x in v]
    return str(v)


def onset_events(pattern: Pattern, cycles: int | Fraction) -> list[Hap]:
    """Haps with onsets in [0, cycles), stably sorted by onset. Whole cycles are queried one at a time, so
    each is held to the per-cycle limits on its own (as when the pattern plays)."""
    if cycles != int(cycles):
        return pattern.onsets(0, cycles)
    return [h for cycle in range(int(cycles)) for h in pattern.onsets(cycle, cycle + 1)]


def events_record(pattern_text: str, cycles: int, make: Callable[[str], Pattern] = parse_mini) -> dict:
    """`{"pattern": P, "events": [{"begin": "1/4", "end": "1/2", "value": "bd"}, ...]}` for the events whose
    whole starts in [0, cycles), or `{"pattern": P, "error": MESSAGE}` when the text does not parse or asks
    for more than a pattern may (graph/limits.py). `make` turns the text into a pattern (mini-notation, or
    the compiler's `compile_pattern` for any expression of the language). A control map of one control
    shows as its value (`s "bd"` lists "bd"), of more as the map."""
    try:
        haps = onset_events(make(pattern_text), cycles)
    except (MiniNotationError, PhononError) as e:
        where = f"column {e.col}: " if isinstance(e, PhononError) and e.col else ""
        return {"pattern": pattern_text, "error": where + _message(e)}
    except PatternLimitError as e:
        return {"pattern": pattern_text, "error": _message(e)}
    return {
        "pattern": pattern_text,
        "events": [
            {"begin": format_time(h.whole.begin), "end": format_time(h.whole.end), "value": json_value(_shown(h.value))}
            for h in haps
        ],
    }


def _message(e: MiniNotationError | PhononError | PatternLimitError) -> str:
    message = str(e) if isinstance(e, MiniNotationError) else e.message  # with its column and what was expected
    return message + (f" ({e.hint})" if e.hint else "")


def _shown(value: Any) -> Any:
    """A map of one control as its value (`{"s": "bd"}` is "bd"); anything else as it is."""
    return next(iter(value.values())) if isinstance(value, dict) and len(value) == 1 else value


def events_json(pattern_text: str, cycles: int) -> str:
    """One JSON line, as `phonon events --json` prints it."""
    return json.dumps(events_record(pattern_text, cycles), separators=(", ", ": "))


def events_text(pattern_text: str, cycles: int, make: Callable[[str], Pattern] = parse_mini) -> str:
    """A readable listing: one line per event, `begin  end  value`, grouped by cycle."""
    record = events_record(pattern_text, cycles, make)
    if "error" in record:
        return f"{pattern_text}\n  error: {record['error']}\n"
    lines = [f"{pattern_text}  ({cycles} cycle{'s' if cycles != 1 else ''}, {len(record['events'])} events)"]
    width = max((len(e["begin"]) for e in record["events"]), default=1)
    cycle = None
    for e in record["events"]:
        c = int(Fraction(e["begin"]) // 1)
        if c != cycle:
            lines.append(f"  cycle {c}")
            cycle = c
        value = e["value"] if isinstance(e["value"], str) else json.dumps(e["value"])
        lines.append(f"    {e['begin']:>{width}} -> {e['end']:<{width}}  {value}")
    return "\n".join(lines) + "\n"
