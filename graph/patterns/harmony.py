"""Harmony: scales, chords, arpeggios and rolled chords, after Tidal (Sound.Tidal.Scales, Sound.Tidal.Chords,
`arp`/`arpeggiate`/`rolledBy` in Sound.Tidal.UI, chord syntax in Sound.Tidal.ParseBP), checked against
Strudel 1.2.5 where Strudel has the same thing (tests/test_harmony.py, tests/fixtures/strudel_harmony.json).

    scale("C:minor", "0 2 4 -1 9")     # MidiNote 48 51 55 46 63   (a root: MIDI note numbers)
    scale("major", "0 .. 7")           # 0 2 4 5 7 9 11 12          (no root: Tidal's semitones)
    arp("updown", chords("c'maj e4'min7'ii"))
    rolled_by("<0.25 -0.5>", chords("c'maj9"))

Values. A scale with a root (`"C:minor"`, `"c4:major"`, `"Eb:dorian"`) or a chord on a note name (`c'maj`)
gives `MidiNote`s: MIDI numbers that the `note` control reads as notes, with the project's note names
(notes.py: `c` is c3 = 48, c4 = 60). Without a root (`"major"`, `0'maj`, `'maj`) values are Tidal's plain
numbers, semitones that `note` reads from c4 (MIDI 60), as Tidal's `n`/`note` read them from its c5 (also
MIDI 60). A rooted note that is not a whole number (the maqam scales have quarter tones) cannot be a `MidiNote`
(an int), so it comes as such a plain number of semitones from c4, which sounds the same under `note`.

Scales. `scale name degrees`: structure from the degrees; each degree picks `steps[d mod n] + 12 * (d div n)`
(floor division, so -1 is the top step an octave down and 7 wraps to the next octave in a 7-step scale).
Names: Tidal's scaleTable (SCALES), plus those of Strudel's (tonal's) names whose steps are the same
(STRUDEL_SCALE_NAMES: "minor pentatonic", "harmonic minor", "whole tone", ...), written with ":" for spaces as
in Strudel (`"C:minor:pentatonic"`). Where both know a name with different steps Tidal's wins.

Chords. CHORDS (notes.CHORDS, the one chord table) is Tidal's chordTable and then four names of this project's
own. Mini-notation (mini.py) reads `c4'maj` itself, with no modifiers or number roots; `chords(text)` reads
Tidal's whole chord syntax:
`root'name'modifier'...` with an optional note-name or number root and modifiers `5` (that many notes, going
up by octaves), `i`/`ii`/`i2` (inversions), `o` (open voicing), `d1`/`d2` (drop the 1st/2nd note from the top
an octave). `chord(root, name, *modifiers)` is the same with each part a pattern (`chord("c e", "<maj min>")`).

Arpeggios. `arp mode pattern` finds the events that share a whole (a stacked chord) and plays them one after
another over that whole in the mode's order; `rolled_by t` starts note n of a chord n * t / count of the way
into its event (negative t: from the top), keeping every note's end.

Differences from Strudel, where this module follows Tidal (the fixture's compared ones are marked "differs"):
  - a scale without a root gives Tidal's numbers (0 = c4 = MIDI 60 under `note`); Strudel roots it at C3 (48);
  - scale steps come from Tidal's table: "prometheus" is 0 2 4 6 11 (tonal: 0 2 4 6 9 10), "diminished" is
    half-whole 0 1 3 4 6 7 9 10 (tonal: whole-half); Tidal names tonal lacks ("kumai", "todi", "minPent", the
    maqams) work here and are silent in Strudel; tonal names with other steps ("bebop", "flamenco") are unknown;
  - a fractional degree is floored (Tidal's degrees are Ints, `div`); Strudel rounds it up (`Math.ceil`);
    Strudel's `"4#"`/`"2b"` degree suffixes and its nearest-note quantising of `note` values are not here;
  - Strudel's `arp` takes a pattern of chord indices in cycle time, not Tidal's mode names; Strudel 1.2.5 has no
    `arpeggiate`, `rolled`, `rolledBy` or `'` chords (its `chord()` is a voicing system) - those cases are
    compared with Strudel programs that spell the expected notes out (the fixture's "strudel" field);
  - chord tables: Tidal's "eleven"/"11" has the third (tonal's "11" drops it), "thirteen"/"13" the eleventh,
    "m6by9" lists its notes 0 3 9 7 14 (order matters to `arp`).
Differences from Tidal, on purpose: an unknown scale, chord, modifier or arp mode raises ValueError naming the
known ones (Tidal quietly uses [0] or `id`); a note name root follows the project's octave (`c` = c3 = MIDI
48, Tidal's `c` is its c5 = MIDI 60); the chord table also knows `7`, `9`, `seven`, `halfdim` and `minMaj9`,
which Tidal does not; `chord(...)` joins its
patterns with whole intersection (Tidal's do-notation) without Tidal's extra `return`, which would also cut
chords longer than a cycle at cycle boundaries.
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
from typing import Any, Callable, Sequence

from quicktions import Fraction

from .core import (
    FRACTIONS, Hap, MidiNote, Pattern, TimeSpan, check_count, patternify, pure, reify, silence, to_time,
)
from .mini import parse_mini
from .notes import CHORDS
from .notes import is_note_name, note_to_midi

# A rooted scale name (`"C:minor"`) is Strudel's, and so is the octave of a root written without one.
STRUDEL_ROOT_OCTAVE = 3

__all__ = [
    "SCALES", "STRUDEL_SCALE_NAMES", "CHORDS", "chord_table", "ARP_MODES",
    "scale", "scale_note", "to_scale", "chord", "chords", "chord_notes", "arp", "arpeggiate", "rolled",
    "rolled_by", "transpose",
]

Note = int | float  # a MidiNote, or semitones from c4

# ---------------------------------------------------------------------------------------------------------
# Scales: Tidal's scaleTable (tidal-core/src/Sound/Tidal/Scales.hs), in its order

_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_AEOLIAN = (0, 2, 3, 5, 7, 8, 10)
_MELODIC_MAJOR = (0, 2, 4, 5, 7, 8, 10)
_WHOLE = (0, 2, 4, 6, 8, 10)
_DIMINISHED = (0, 1, 3, 4, 6, 7, 9, 10)
_DIMINISHED2 = (0, 2, 3, 5, 6, 8, 9, 11)

SCALES: dict[str, tuple[float, ...]] = {
    # five notes
    "minPent": (0, 3, 5, 7, 10), "majPent": (0, 2, 4, 7, 9), "ritusen": (0, 2, 5, 7, 9),
    "egyptian": (0, 2, 5, 7, 10), "kumai": (0, 2, 3, 7, 9), "hirajoshi": (0, 2, 3, 7, 8),
    "iwato": (0, 1, 5, 6, 10), "chinese": (0, 4, 6, 7, 11), "indian": (0, 4, 5, 7, 10), "pelog": (0, 1, 3, 7, 8),
    "prometheus": (0, 2, 4, 6, 11), "scriabin": (0, 1, 4, 7, 9),
    "gong": (0, 2, 4, 7, 9), "shang": (0, 2, 5, 7, 10), "jiao": (0, 3, 5, 8, 10), "zhi": (0, 2, 5, 7, 9),
    "yu": (0, 3, 5, 7, 10),
    # six notes
    "whole": _WHOLE, "wholetone": _WHOLE, "augmented": (0, 3, 4, 7, 8, 11), "augmented2": (0, 1, 4, 5, 8, 9),
    "hexMajor7": (0, 2, 4, 7, 9, 11), "hexDorian": (0, 2, 3, 5, 7, 10), "hexPhrygian": (0, 1, 3, 5, 8, 10),
    "hexSus": (0, 2, 5, 7, 9, 10), "hexMajor6": (0, 2, 4, 5, 7, 9), "hexAeolian": (0, 3, 5, 7, 8, 10),
    # seven notes
    "major": _MAJOR, "ionian": _MAJOR, "dorian": (0, 2, 3, 5, 7, 9, 10), "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11), "mixolydian": (0, 2, 4, 5, 7, 9, 10), "aeolian": _AEOLIAN,
    "minor": _AEOLIAN, "locrian": (0, 1, 3, 5, 6, 8, 10), "harmonicMinor": (0, 2, 3, 5, 7, 8, 11),
    "harmonicMajor": (0, 2, 4, 5, 7, 8, 11), "melodicMinor": (0, 2, 3, 5, 7, 9, 11),
    "melodicMinorDesc": _AEOLIAN, "melodicMajor": _MELODIC_MAJOR, "bartok": _MELODIC_MAJOR,
    "hindu": _MELODIC_MAJOR,
    "todi": (0, 1, 3, 6, 7, 8, 11), "purvi": (0, 1, 4, 6, 7, 8, 11), "marva": (0, 1, 4, 6, 7, 9, 11),
    "bhairav": (0, 1, 4, 5, 7, 8, 11), "ahirbhairav": (0, 1, 4, 5, 7, 9, 10),
    "superLocrian": (0, 1, 3, 4, 6, 8, 10), "romanianMinor": (0, 2, 3, 6, 7, 9, 10),
    "hungarianMinor": (0, 2, 3, 6, 7, 8, 11), "neapolitanMinor": (0, 1, 3, 5, 7, 8, 11),
    "enigmatic": (0, 1, 4, 6, 8, 10, 11), "spanish": (0, 1, 4, 5, 7, 8, 10),
    "leadingWhole": (0, 2, 4, 6, 8, 10, 11), "lydianMinor": (0, 2, 4, 6, 7, 8, 10),
    "neapolitanMajor": (0, 1, 3, 5, 7, 9, 11), "locrianMajor": (0, 2, 4, 5, 6, 8, 10),
    # eight notes, and Messiaen's modes of limited transposition
    "diminished": _DIMINISHED, "octatonic": _DIMINISHED, "diminished2": _DIMINISHED2, "octatonic2": _DIMINISHED2,
    "messiaen1": _WHOLE, "messiaen2": _DIMINISHED, "messiaen3": (0, 2, 3, 4, 6, 7, 8, 10, 11),
    "messiaen4": (0, 1, 2, 5, 6, 7, 8, 11), "messiaen5": (0, 1, 5, 6, 7, 11),
    "messiaen6": (0, 2, 4, 5, 6, 8, 10, 11), "messiaen7": (0, 1, 2, 3, 5, 6, 7, 8, 9, 11),
    # twelve notes; then Arabic maqams (quarter tones, from SuperCollider's Scale.sc)
    "chromatic": tuple(range(12)),
    "bayati": (0, 1.5, 3, 5, 7, 8, 10), "hijaz": (0, 1, 4, 5, 7, 8.5, 10), "sikah": (0, 1.5, 3.5, 5.5, 7, 8.5, 10.5),
    "rast": (0, 2, 3.5, 5, 7, 9, 10.5), "saba": (0, 1.5, 3, 4, 6, 8, 10), "iraq": (0, 1.5, 3.5, 5, 6.5, 8.5, 10.5),
}

# Strudel's (tonal's) names for scales Tidal has under another name, with the very same steps.
STRUDEL_SCALE_NAMES: dict[str, str] = {
    "minor pentatonic": "minPent", "major pentatonic": "majPent", "pentatonic": "majPent", "whole tone": "whole",
    "harmonic minor": "harmonicMinor", "harmonic major": "harmonicMajor", "melodic minor": "melodicMinor",
    "hungarian minor": "hungarianMinor", "neapolitan major": "neapolitanMajor", "super locrian": "superLocrian",
    "altered": "superLocrian", "romanian minor": "romanianMinor", "dorian #4": "romanianMinor",
    "lydian minor": "lydianMinor", "leading whole tone": "leadingWhole", "locrian major": "locrianMajor",
    "phrygian dominant": "spanish", "lydian pentatonic": "chinese", "mixolydian pentatonic": "indian",
    "todi raga": "todi", "half-whole diminished": "diminished", "whole-half diminished": "diminished2",
}


def _unknown(kind: str, name: Any, known: Sequence[str]) -> ValueError:
    close = difflib.get_close_matches(str(name), known, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(close)}?" if close else f"; known: {' '.join(known)}"
    return ValueError(f"unknown {kind} {name!r}{hint}")


def _scale_steps(name: str) -> tuple[float, ...]:
    steps = SCALES.get(name) or SCALES.get(STRUDEL_SCALE_NAMES.get(name.replace(":", " "), ""))
    if steps is None:
        raise _unknown("scale", name, list(SCALES))
    return steps


def _split_root(name: str) -> tuple[int | None, str]:
    """`"C:minor"` -> (48, "minor"); `"minor"` -> (None, "minor"). The root is a project note name."""
    root, sep, rest = name.partition(":")
    if sep and is_note_name(root):
        return note_to_midi(root, STRUDEL_ROOT_OCTAVE), rest
    return None, name


def _step(steps: Sequence[float], degree: int, octave: float = 12) -> float:
    """Tidal's noteInScale: `steps !!! d + octave * (d div length steps)` (floor division and modulo)."""
    count = len(steps)
    return steps[degree % count] + octave * (degree // count)


def _degree(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, *FRACTIONS)):
        raise ValueError(f"a scale degree must be a number, got {value!r}")
    return math.floor(value)


def _note(root: int | None, semitones: float) -> Note:
    """A note from a root (MIDI) and semitones: a MidiNote, else plain semitones from c4 (see the module doc)."""
    if root is None:
        return _plain(semitones)
    midi = root + semitones
    return MidiNote(int(midi)) if float(midi).is_integer() else _plain(midi - 60)


def _plain(x: float) -> Note:
    return int(x) if float(x).is_integer() else float(x)


def scale_note(name: str, degree: Any) -> Note:
    """The note of one degree in a named scale: `scale_note("C:major", 9)` is MidiNote(64)."""
    if not isinstance(name, str):
        raise ValueError(f"a scale name must be a word such as \"major\" or \"C:minor\", got {name!r}")
    root, scale_name = _split_root(name)
    return _note(root, _step(_scale_steps(scale_name), _degree(degree)))


def _checked(arg: Any, check: Callable[[Any], Any]) -> Pattern:
    """`arg` as a pattern, failing now rather than at a later query when a constant, or a word in the first
    cycle of mini-notation, is wrong (`scale "majr"`)."""
    pat = reify(arg)
    if pat.is_pure:
        check(pat._pure)
    elif isinstance(arg, str):
        for hap in pat.query_arc(0, 1):
            check(hap.value)
    return pat


def scale(name: "Pattern | str", degrees: "Pattern | str | int") -> Pattern:
    """Tidal's `scale`: degrees (structure) into the named scale sampled at each degree's event (`<*`)."""
    names = _checked(name, lambda n: scale_note(n, 0))
    return reify(degrees).fmap(lambda d: lambda n: scale_note(n, d)).app_left(names)


def to_scale(steps: Sequence[float], degrees: "Pattern | str | int", octave: float = 12) -> Pattern:
    """Tidal's `toScale` (`toScale'` with `octave`): a scale given as its steps, `to_scale([0, 4, 7], "0 1 2 3")`
    is 0 4 7 12. No steps: silence."""
    steps = tuple(steps)
    if not steps:
        return silence
    return reify(degrees).fmap(lambda d: _plain(_step(steps, _degree(d), octave)))


# ---------------------------------------------------------------------------------------------------------
# Chords: Tidal's chordTable (notes.CHORDS, the one chord table, with a few names of this project's own)

chord_table: list[tuple[str, tuple[int, ...]]] = list(CHORDS.items())  # Tidal's shape: (name, intervals)


def _intervals(name: str) -> tuple[int, ...]:
    intervals = CHORDS.get(name)
    if intervals is None:
        raise _unknown("chord", name, list(CHORDS))
    return intervals


# Modifiers (Tidal's applyModifier): functions from a chord's notes, lowest first, to new notes.
Modifier = Callable[[list[float]], list[float]]


def _range(count: int) -> Modifier:
    """`'5`: that many notes, repeating the chord an octave up as often as needed."""
    check_count(count, "notes in a chord")

    def notes(ds: list[float]) -> list[float]:
        upward = (d + 12 * octave for octave in itertools.count() for d in ds)
        return list(itertools.islice(upward, max(count, 0))) if ds else []

    return notes


def _invert(ds: list[float]) -> list[float]:
    """`'i`: the lowest note goes an octave up, to the top."""
    return ds[1:] + [ds[0] + 12] if ds else []


def _open(ds: list[float]) -> list[float]:
    """`'o`: root and fifth an octave down, below the third (chords of three notes or more)."""
    return [ds[0] - 12, ds[2] - 12, ds[1]] + ds[3:] if len(ds) > 2 else ds


def _drop(n: int) -> Modifier:
    """`'d2`: the n-th note from the top goes an octave down, to the bottom."""
    def drop(ds: list[float]) -> list[float]:
        if not 1 <= n <= len(ds):  # Tidal: unchanged when n is larger (and an error for 0)
            return ds
        s = len(ds) - n
        return [ds[s] - 12] + ds[:s] + ds[s + 1:]

    return drop


_MODIFIER = re.compile(r"^(?:(?P<open>o+)|d(?P<drop>\d+)|(?P<range>[-+]?\d+)|i(?P<inv_n>\d+)|(?P<inv>i+))$")


def _modifiers(text: Any) -> list[Modifier]:
    """One `'`-separated modifier group, as Tidal's parseModifiers: `o`, `oo`, `d1`, `5`, `i3`, `iii`."""
    m = _MODIFIER.match(str(text))
    if m is None:
        raise ValueError(f"unknown chord modifier {text!r}; expected a number of notes (`5`), inversions (`i`, "
                         "`ii`, `i2`), open voicing (`o`) or a drop (`d1`, `d2`)")
    if m["open"]:
        return [_open] * len(m["open"])
    if m["drop"]:
        return [_drop(int(m["drop"]))]
    if m["range"]:
        return [_range(int(m["range"]))]
    return [_invert] * (int(m["inv_n"]) if m["inv_n"] else len(m["inv"]))


def _root(value: Any) -> int | float:
    """A chord root: a note name (MIDI, the project's octaves), a number (semitones from c4), or nothing (0)."""
    if value in ("", None):
        return 0
    if isinstance(value, str):
        if is_note_name(value):
            return MidiNote(note_to_midi(value))
        try:
            return _plain(float(value))
        except ValueError:
            raise ValueError(f"chord root {value!r} is not a note name or a number") from None
    if isinstance(value, bool) or not isinstance(value, (int, float, *FRACTIONS)):
        raise ValueError(f"chord root {value!r} is not a note name or a number")
    return value


def _chord_notes(root: Any, name: Any, modifier_groups: Sequence[Any]) -> list[Note]:
    notes = list(_intervals(str(name)))
    for group in modifier_groups:
        for modify in _modifiers(group):
            notes = modify(notes)
    base = _root(root)
    root_midi = int(base) if isinstance(base, MidiNote) else None
    return [_note(root_midi, n) if root_midi is not None else _plain(base + n) for n in notes]


def chord_notes(text: str) -> list[Note]:
    """The notes of one chord in Tidal's syntax: `chord_notes("c4'maj'ii")` is MidiNote 67 72 76."""
    root, sep, rest = str(text).partition("'")
    if not sep:
        raise ValueError(f"not a chord: {text!r} (expected root'name, e.g. c4'maj)")
    name, *modifier_groups = rest.split("'")
    return _chord_notes(root, name, modifier_groups)


def _uncollect(pat: Pattern) -> Pattern:
    """Tidal's uncollect: an event whose value is a list becomes one event per item, at the same time."""
    return Pattern(lambda span: [Hap(h.whole, h.part, v) for h in pat.query(span) for v in h.value],
                   period=pat.period)


_QUOTE = "^"  # stands for `'` while mini-notation parses chord words (mini.py would read them itself)
_CHORD_WORD = re.compile(r"[\w~#^'\-.]*'[\w~#^'\-.]*")


def chords(text: str) -> Pattern:
    """Mini-notation whose words may be chords in Tidal's syntax, modifiers included: `"c'maj e4'min7'ii'o"`,
    `"0'major"`, `"'dim7"`. Each chord plays its notes at once; other words play as in mini-notation."""
    for word in _CHORD_WORD.findall(text):
        chord_notes(word)  # a wrong chord fails here, naming it, rather than at the first query
    words = parse_mini(text.replace("'", _QUOTE))
    return _uncollect(words.fmap(
        lambda w: chord_notes(w.replace(_QUOTE, "'")) if isinstance(w, str) and _QUOTE in w else [w]))


def chord(root: Any, name: Any, *modifiers: Any) -> Pattern:
    """Tidal's `chord`: a pattern of roots, one of chord names and any number of modifier patterns (each
    like one `'` group: `"ii"`, `"o"`, `"5"`), joined with whole intersection: `chord("c e", "<maj min>")`."""
    parts = [reify(p) for p in (root, name, *modifiers)]
    joined = parts[0].fmap(lambda v: (v,))
    for part in parts[1:]:
        joined = joined.bind(lambda vals, part=part: part.fmap(lambda v: vals + (v,)))
    return _uncollect(joined.fmap(lambda vals: _chord_notes(vals[0], vals[1], vals[2:])))


def _notes(pat: Any) -> Pattern:
    """A note pattern argument: a mini-notation string may hold Tidal chords (`chords`)."""
    return chords(pat) if isinstance(pat, str) else reify(pat)


# ---------------------------------------------------------------------------------------------------------
# Arpeggios (Tidal's arpWith, _arp and rolledWith, Sound.Tidal.UI)


def _converge(xs: list) -> list:
    """First, last, second, second to last, ... (Tidal's converge)."""
    xs, out = list(xs), []
    while xs:
        out.append(xs.pop(0))
        if xs:
            out.append(xs.pop())
    return out


def _pinkyup(xs: list) -> list:
    return [y for x in xs[:-1] for y in (x, xs[-1])]


def _thumbup(xs: list) -> list:
    return [y for x in xs[1:] for y in (xs[0], x)]


def _there_and_back(f: Callable[[list], list]) -> Callable[[list], list]:
    """`init (f xs) ++ init (reverse (f xs))`: up and down again without repeating either end."""
    return lambda xs: f(xs)[:-1] + f(xs)[::-1][:-1]


ARP_MODES: dict[str, Callable[[list], list]] = {
    "up": lambda xs: xs,
    "down": lambda xs: xs[::-1],
    "updown": _there_and_back(lambda xs: xs),
    "downup": lambda xs: xs[::-1][:-1] + xs[:-1],
    "up&down": lambda xs: xs + xs[::-1],
    "down&up": lambda xs: xs[::-1] + xs,
    "converge": _converge,
    "diverge": lambda xs: _converge(xs)[::-1],
    "disconverge": lambda xs: _converge(xs) + _converge(xs)[::-1][1:],
    "pinkyup": _pinkyup,
    "pinkyupdown": _there_and_back(_pinkyup),
    "thumbup": _thumbup,
    "thumbupdown": _there_and_back(_thumbup),
}


def _same_whole_groups(haps: list[Hap]) -> list[list[Hap]]:
    """Runs of neighbouring haps with equal wholes (Haskell's groupBy on `whole`)."""
    return [list(g) for _, g in itertools.groupby(haps, key=lambda h: h.whole)]


def _whole_key(h: Hap) -> tuple:
    return (0,) if h.whole is None else (1, h.whole.begin, h.whole.end)  # Nothing sorts first, as in Haskell


def _spread(haps: list[Hap]) -> list[Hap]:
    """Hap n of d plays the n-th d-th of the shared whole; fragments outside the query part vanish, and so do
    continuous haps (Tidal's spreadOut)."""
    out = []
    for n, h in enumerate(haps):
        if h.whole is None:
            continue
        step = h.whole.duration / len(haps)
        whole = TimeSpan(h.whole.begin + step * n, h.whole.begin + step * (n + 1))
        part = whole.intersection(h.part)
        if part is not None:
            out.append(Hap(whole, part, h.value))
    return out


def _arp_with(order: Callable[[list], list], pat: Pattern) -> Pattern:
    """Tidal's arpWith: group the haps by whole (sorted, stably), reorder each group, spread it over its whole."""
    def munge(haps: list[Hap]) -> list[Hap]:
        groups = _same_whole_groups(sorted(haps, key=_whole_key))
        return [h for group in groups for h in _spread(order(group))]

    return Pattern(lambda span: munge(pat.query(span)), period=pat.period)


def _arp_mode(mode: Any) -> Callable[[list], list]:
    order = ARP_MODES.get(str(mode))
    if order is None:
        raise _unknown("arp mode", mode, list(ARP_MODES))
    return order


def arp(mode: "Pattern | str", pat: "Pattern | str") -> Pattern:
    """Tidal's `arp`: play each stacked chord's notes one after another over its event, in the mode's order
    (ARP_MODES: up down updown downup up&down down&up converge diverge disconverge pinkyup pinkyupdown
    thumbup thumbupdown). The mode is patternable (inner join, as Tidal's tParam)."""
    # a lone mode name is taken as it is: mini-notation has no `&` in words (`up&down`)
    modes = pure(mode) if isinstance(mode, str) and mode in ARP_MODES else _checked(mode, _arp_mode)
    return patternify(lambda m, p: _arp_with(_arp_mode(m), p))(modes, _notes(pat))


def arpeggiate(pat: "Pattern | str") -> Pattern:
    """Tidal's `arpeggiate` (`arpg`): `arp "up"`, so `"[bd,sn]"` becomes `"bd sn"`."""
    return _arp_with(ARP_MODES["up"], _notes(pat))


def _rolled_with(t: Fraction, pat: Pattern) -> Pattern:
    """Tidal's rolledWith: note n of a chord of d starts n * |t| / d of the way into its event, keeping its end.
    Negative t rolls from the last note (the query's haps reversed); 0 leaves the chord as it is."""
    def shift(n: int, d: int, h: Hap) -> Hap | None:
        if t == 0 or h.whole is None:
            return h
        whole = TimeSpan(h.whole.begin + h.whole.duration * abs(t) * n / d, h.whole.end)
        part = whole.intersection(h.part)
        return None if part is None else Hap(whole, part, h.value)

    def munge(haps: list[Hap]) -> list[Hap]:
        ordered = haps if t > 0 else haps[::-1]
        shifted = [shift(n, len(g), h) for g in _same_whole_groups(ordered) for n, h in enumerate(g)]
        return [h for h in shifted if h is not None]

    return Pattern(lambda span: munge(pat.query(span)), period=pat.period)


def rolled_by(t: "Pattern | str | float", pat: "Pattern | str") -> Pattern:
    """Tidal's `rolledBy`: strum each chord over the fraction `t` of its event (patternable, sampled once per
    cycle as Tidal's `segment 1`)."""
    amounts = reify(t)
    if not amounts.is_pure:
        amounts = amounts._segment(1)
    return patternify(lambda a, p: _rolled_with(to_time(a), p))(amounts, _notes(pat))


def rolled(pat: "Pattern | str") -> Pattern:
    """Tidal's `rolled`: `rolledBy (1/4)`, a quick strum from the lowest note."""
    return rolled_by(Fraction(1, 4), pat)


# ---------------------------------------------------------------------------------------------------------
# Transposing


def _transposed(value: Any, semitones: Any) -> Any:
    if isinstance(value, str) and is_note_name(value):
        value = MidiNote(note_to_midi(value))
    if isinstance(value, MidiNote):
        return _note(int(value), semitones)
    return value + semitones


def transpose(semitones: "Pattern | str | float", pat: "Pattern | str") -> Pattern:
    """Add semitones to notes, keeping notes notes: `pat + 12` on MidiNotes or note names gives plain numbers,
    which `note` reads as semitones from c4, five octaves up. Structure from `pat`."""
    return _notes(pat).fmap(lambda v: lambda k: _transposed(v, k)).app_left(reify(semitones))


# ---------------------------------------------------------------------------------------------------------
# For the compiler: every function here by its Tidal name
