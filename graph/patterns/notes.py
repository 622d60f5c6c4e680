"""Note names, MIDI numbers, frequencies and chords.

Conventions (Strudel's `noteToMidi`): c4 = 60, a4 = 69 = 440 Hz. A name is a letter a-g (either case), any
number of accidentals (`#` or `s` sharp, `b` or `f` flat) and an optional octave, which may be negative. A
name without an octave is in octave 4 (`e` = e4 = 64), Tidal's pitch: Tidal's `note "c"` is note 0, middle C,
as `note 0` is here (Strudel puts a bare name in octave 3; its rooted scale names, `"C:minor"`, keep that:
graph/patterns/harmony.py). Chords are written `root'name` (`c4'maj`, `e'min7`) and give the root plus the
table's semitone offsets.
"""

from __future__ import annotations

import math
import re

_NOTE_RE = re.compile(r"^([a-gA-G])([#bsf]*)(-?[0-9]+)?$")
_CHROMA = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
_ACC = {"#": 1, "s": 1, "b": -1, "f": -1}

DEFAULT_OCTAVE = 4

# Semitone offsets from the root: Tidal's chordTable (tidal-core/src/Sound/Tidal/Chords.hs), in its order, the one
# chord table (mini-notation's `c4'maj` and graph/patterns/harmony.py read it), then the names this project had
# before that Tidal lacks, so programs that use them keep playing.
CHORDS: dict[str, tuple[int, ...]] = {}


def _chord(names: str, *intervals: int) -> None:
    for name in names.split():
        CHORDS[name] = intervals


_chord("major maj M", 0, 4, 7)
_chord("aug plus sharp5", 0, 4, 8)
_chord("six 6", 0, 4, 7, 9)
_chord("sixNine six9 sixby9 6by9", 0, 4, 7, 9, 14)
_chord("major7 maj7", 0, 4, 7, 11)
_chord("major9 maj9", 0, 4, 7, 11, 14)
_chord("add9", 0, 4, 7, 14)
_chord("major11 maj11", 0, 4, 7, 11, 14, 17)
_chord("add11", 0, 4, 7, 17)
_chord("major13 maj13", 0, 4, 7, 11, 14, 21)
_chord("add13", 0, 4, 7, 21)
_chord("dom7", 0, 4, 7, 10)
_chord("dom9", 0, 4, 7, 14)
_chord("dom11", 0, 4, 7, 17)
_chord("dom13", 0, 4, 7, 21)
_chord("sevenFlat5 7f5", 0, 4, 6, 10)
_chord("sevenSharp5 7s5", 0, 4, 8, 10)
_chord("sevenFlat9 7f9", 0, 4, 7, 10, 13)
_chord("nine", 0, 4, 7, 10, 14)
_chord("eleven 11", 0, 4, 7, 10, 14, 17)
_chord("thirteen 13", 0, 4, 7, 10, 14, 17, 21)
_chord("minor min m", 0, 3, 7)
_chord("diminished dim", 0, 3, 6)
_chord("minorSharp5 msharp5 mS5", 0, 3, 8)
_chord("minor6 min6 m6", 0, 3, 7, 9)
_chord("minorSixNine minor69 min69 minSixNine m69 mSixNine m6by9", 0, 3, 9, 7, 14)
_chord("minor7flat5 minor7f5 min7flat5 min7f5 m7flat5 m7f5", 0, 3, 6, 10)
_chord("minor7 min7 m7", 0, 3, 7, 10)
_chord("minor7sharp5 minor7s5 min7sharp5 min7s5 m7sharp5 m7s5", 0, 3, 8, 10)
_chord("minor7flat9 minor7f9 min7flat9 min7f9 m7flat9 m7f9", 0, 3, 7, 10, 13)
_chord("minor7sharp9 minor7s9 min7sharp9 min7s9 m7sharp9 m7s9", 0, 3, 7, 10, 14)
_chord("diminished7 dim7", 0, 3, 6, 9)
_chord("minor9 min9 m9", 0, 3, 7, 10, 14)
_chord("minor11 min11 m11", 0, 3, 7, 10, 14, 17)
_chord("minor13 min13 m13", 0, 3, 7, 10, 14, 17, 21)
_chord("minorMajor7 minMaj7 mmaj7", 0, 3, 7, 11)
_chord("one 1", 0)
_chord("five 5", 0, 7)
_chord("sus2", 0, 2, 7)
_chord("sus4", 0, 5, 7)
_chord("sevenSus2 7sus2", 0, 2, 7, 10)
_chord("sevenSus4 7sus4", 0, 5, 7, 10)
_chord("nineSus4 ninesus4 9sus4", 0, 5, 7, 10, 14)
_chord("sevenFlat10 7f10", 0, 4, 7, 10, 15)
_chord("nineSharp5 9sharp5 9s5", 0, 1, 13)
_chord("minor9sharp5 minor9s5 min9sharp5 min9s5 m9sharp5 m9s5", 0, 1, 14)
_chord("sevenSharp5flat9 7s5f9", 0, 4, 8, 10, 13)
_chord("minor7sharp5flat9 m7sharp5flat9", 0, 3, 8, 10, 13)
_chord("elevenSharp 11s", 0, 4, 7, 10, 14, 18)
_chord("minor11sharp m11sharp m11s", 0, 3, 7, 10, 14, 18)
_chord("seven 7", 0, 4, 7, 10)
_chord("9", 0, 4, 7, 10, 14)
_chord("halfdim", 0, 3, 6, 10)
_chord("minorMajor9 minMaj9 mmaj9", 0, 3, 7, 11, 14)


def is_note_name(s: str) -> bool:
    """True for `c`, `c4`, `eb3`, `f#`, `cs2`, `Bb-1`; false for sample names such as `bd` or `hh`."""
    return isinstance(s, str) and _NOTE_RE.match(s) is not None


def note_to_midi(name: str, default_octave: int = DEFAULT_OCTAVE) -> int:
    """MIDI number of a note name: c4 = 60, a4 = 69; no octave means octave 3."""
    m = _NOTE_RE.match(name) if isinstance(name, str) else None
    if m is None:
        raise ValueError(f"not a note name: {name!r}")
    letter, accs, octave = m.groups()
    octv = default_octave if octave is None else int(octave)
    return (octv + 1) * 12 + _CHROMA[letter.lower()] + sum(_ACC[c] for c in accs)


def midi_to_hz(midi: float) -> float:
    """Equal temperament, a4 (69) = 440 Hz; inf for a note beyond the float range (`c99999`)."""
    try:
        return 440.0 * math.pow(2.0, (midi - 69) / 12)
    except OverflowError:
        return math.inf


def note_to_hz(name: str) -> float:
    return midi_to_hz(note_to_midi(name))


def chord_notes(text: str) -> list[int]:
    """`c4'maj` -> [60, 64, 67]. Raises ValueError naming the bad root or chord."""
    root, sep, name = text.partition("'")
    if not sep:
        raise ValueError(f"not a chord: {text!r}")
    if not is_note_name(root):
        raise ValueError(f"chord root {root!r} is not a note name")
    intervals = CHORDS.get(name)
    if intervals is None:
        raise ValueError(f"unknown chord {name!r}; known chords include maj min 7 maj7 m7 dim aug sus2 sus4")
    base = note_to_midi(root)
    return [base + i for i in intervals]
