"""Voices driven by pattern events: samples (`s "bd*2 sn"`) and synth notes (`saw "c3 e3"`, `s "sawtooth"`).

Once per block the host takes the events whose onsets fall in the block (queried once per cycle, never per
sample), turns each into a row of a trigger table (sample-accurate offset, the sample id or the note's
frequency, the event's length, and each voice control the event gives, raw, in its column: the layout of
engine/kernels/voices.py, made from graph/values.py's VOICE_CONTROLS), writes the controls that signals give
(their values at each onset sample), and calls one numba kernel that turns each row into a voice by SuperDirt's
formulas, starts it on its exact sample and mixes every active voice of the node into its two output rows.

A name under `s` that names a synth voice (graph/kinds.py SYNTH_SOUNDS: `sawtooth`, `superpiano`, ...) makes a
synth note instead of a sample, in the same node: its trigger row names no sample (so the sample kernel skips
it) and its waveform (so the synth kernel plays it, and skips the sample rows), and the node's output is the
sum of the two kernels', each as exact as alone. Synth names win over sample folders of the same name."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from phonon.engine.clock import EventClock
from phonon.engine.kernels import voices as vk
from phonon.engine.samples import SampleBank, SampleError
from phonon.graph.errors import PhononError, did_you_mean
from phonon.graph.kinds import SYNTH_SOUNDS
from phonon.graph.signal_graph import Node
from phonon.graph.values import SIGNAL_CONTROLS, VOICE_CONTROL, VOICE_CONTROLS, voice_value

VOICE_POOL = 512
LOWEST_NOTE = 36  # MIDI: a synth voice under `s` given no note, n nor freq plays c2 (superdough's `note || 36`)
PROBE_CYCLES = 8  # cycles queried before rendering (and kept), so an unknown sample name fails up front


def _number(controls: dict, key: str, default: float, node: Node) -> float:
    value = controls.get(key, default)
    try:
        return float(value)
    except OverflowError:  # an integer beyond the float range
        return math.copysign(math.inf, value)
    except (TypeError, ValueError):
        raise PhononError(
            f"{key} {value!r} is not a number", node.pos.line, node.pos.col, f"{key} takes numbers"
        ) from None


_NO_ROWS = np.zeros(0, dtype=np.int64)
OFFSET = vk.T_OFFSET  # the offset column of a trigger row
# Each voice control's trigger column (graph/values.py VOICE_CONTROLS; `n` and `s` pick the sample instead).
FIELDS = {c.name: vk.trigger_field(c.name) for c in VOICE_CONTROLS if c.field}
WORDS = {"vowel": {w: float(i) for i, w in enumerate(VOICE_CONTROL["vowel"].words)},
         "unit": {"r": 0.0, "rate": 0.0, "c": vk.UNIT_CYCLES}}


def _control(name: str, value: object, node: Node) -> float:
    """A control's value as its trigger column holds it (vowel letters and unit names as numbers)."""
    words = WORDS.get(name)
    if words is not None and isinstance(value, str):
        if value not in words:
            raise PhononError(f"{name} {value!r} is not one of {' '.join(words)}", node.pos.line, node.pos.col,
                              f"{name} takes " + " ".join(words) + (" or numbers" if name == "vowel" else ""))
        return words[value]
    return _number({name: value}, name, 0.0, node)


def routes(node: Node) -> np.ndarray:
    """For each orbit, the first of the node's send rows (after its own two) that its reverb (column 0) and its
    delay (column 1) sends go to; -1 where the compiler made no bus (graph/orbits.py)."""
    table = np.full((vk.MAX_ORBITS, 2), -1, dtype=np.int64)
    for k, (orbit, effect) in enumerate(node.sends):
        table[orbit, effect] = 2 * k
    return table


class _Voices:
    """Common part of sample and synth voices: trigger table, pool, events."""

    def __init__(self, node: Node, cps: Fraction, sr: int) -> None:
        self.node = node
        self.sr = sr
        self.cps = float(cps)
        self.clock = EventClock(node.pattern, node.params, cps, sr)
        self.triggers = vk.new_triggers(64)
        self.routes = routes(node)
        for name in node.signal_controls:
            if name not in self.SIGNAL_FIELDS:
                raise PhononError(f"a synth voice has no {name} (a sample control)", node.pos.line, node.pos.col)
        self.signal_fields = [self.SIGNAL_FIELDS[name] for name in node.signal_controls]
        self._rows: dict[tuple[int, float], np.ndarray] = {}  # (id of controls, length) -> trigger row
        self.stats = np.zeros(2, dtype=np.int64)  # voices stolen, most voices at once
        for cycle in range(PROBE_CYCLES):  # fail before rendering, with the node's position
            for _, length, controls in self.clock.onsets(cycle):
                self._row(controls, length)

    def _row(self, controls: dict, length: float) -> np.ndarray:
        """`trigger_row`, made once per controls object and length where the clock is periodic: it then hands
        out the same controls objects every period and keeps them alive (so their ids stay theirs)."""
        if self.clock.period is None:
            return self.trigger_row(controls, length)
        row = self._rows.get((id(controls), length))
        if row is None:
            row = self._rows[id(controls), length] = self.trigger_row(controls, length)
        return row

    def trigger_row(self, controls: dict, length: float) -> np.ndarray:
        """One trigger row (offset 0) for an event with these controls, `length` samples long: the defaults,
        the event's source and length, and each control the event gives in its column."""
        row = vk.DEFAULT_TRIGGER.copy()
        row[vk.T_LENGTH] = length
        row[vk.T_CPS] = self.cps
        self.source(row, controls)
        node = self.node
        for name, value in controls.items():
            field = FIELDS.get(name)
            if field is not None:
                row[field] = _control(name, value, node)
        return row

    def source(self, row: np.ndarray, controls: dict) -> None:
        """Fill the row's sound: the sample id, or the synth note's frequency."""
        raise NotImplementedError

    def read_signals(self, arena: np.ndarray, rows: np.ndarray, count: int) -> None:
        """Controls from signals (`# gain ~lfo`, the node's inputs, at arena rows `rows`): each trigger takes
        their values at its own onset sample, over what the pattern gave."""
        if not self.signal_fields or not count:
            return
        offsets = self.triggers[:count, OFFSET].astype(np.int64)
        for field, row in zip(self.signal_fields, rows):
            self.triggers[:count, field] = arena[row, offsets]

    def sends(self, arena: np.ndarray, row: int) -> np.ndarray:
        """The node's send rows (graph/orbits.py): a pair per (orbit, effect) after its own two."""
        return arena[row + 2 : row + 2 + 2 * len(self.node.sends)]

    def fill_triggers(self, first: int, n: int) -> int:
        events = self.clock.take(first, n)
        if len(events) > self.triggers.shape[0]:
            self.triggers = vk.new_triggers(2 * len(events))
        for k, (at, length, controls) in enumerate(events):
            self.triggers[k] = self._row(controls, length)  # its offset column is 0: set per event
            self.triggers[k, OFFSET] = at - first
        return len(events)


class SampleVoices(_Voices):
    SIGNAL_FIELDS = {name: FIELDS[name] for name in SIGNAL_CONTROLS}

    def __init__(self, node: Node, cps: Fraction, sr: int, bank: SampleBank) -> None:
        self.bank = bank
        self.notes: _Notes | None = None  # the synth voices its events name, from the first one
        super().__init__(node, cps, sr)
        self.pool = vk.new_pool(VOICE_POOL)
        self._bank_version = -1

    def source(self, row: np.ndarray, controls: dict) -> None:
        from phonon.graph.patterns import split_sample

        node = self.node
        try:
            name, index = split_sample(controls.get("s"))
            if name in SYNTH_SOUNDS:
                self._synth_note(row, controls, SYNTH_SOUNDS[name], index)
                return
            row[vk.T_SAMPLE] = self.bank.id_of(name, index + int(_number(controls, "n", 0, node)))
        except SampleError as e:
            synth = did_you_mean(getattr(e, "name", ""), list(SYNTH_SOUNDS))  # an unknown name: a synth's?
            hint = f"{synth[:-1]} (a synth voice)? {e.hint}" if synth else e.hint
            raise PhononError(e.message, node.pos.line, node.pos.col, hint) from None
        except (ValueError, OverflowError) as e:  # OverflowError: an index of inf
            raise PhononError(str(e), node.pos.line, node.pos.col) from None

    def _synth_note(self, row: np.ndarray, controls: dict, wave: int, index: int) -> None:
        """A synth voice's row: no sample, its waveform, and its frequency before `note` transposes it: n (with
        a name's index, `superpiano:3`) semitones from c4 as SuperDirt reads n for a synth, or superdough's c2
        when the event gives neither note nor n (a `freq` it gives replaces this, in its own column)."""
        from phonon.graph.patterns import midi_to_hz

        row[vk.T_SAMPLE] = -1.0
        row[vk.T_WAVE] = wave
        pitched = index or "n" in controls or "note" in controls or "note" in self.node.signal_controls
        n = _number({"n": voice_value("note", controls.get("n", 0))}, "n", 0.0, self.node) + index
        row[vk.T_FREQ] = midi_to_hz(60.0 + n) if pitched else midi_to_hz(LOWEST_NOTE)
        if self.notes is None:
            self.notes = _Notes(self.sr)
        if wave == vk.PLUCK:
            self.notes.need_lines()

    def fill(self, arena: np.ndarray, row: int, first: int, n: int, signals: np.ndarray = _NO_ROWS) -> None:
        count = self.fill_triggers(first, n)
        self.read_signals(arena, signals, count)
        if self._bank_version != self.bank.version:
            self._data, self._offsets, self._lengths, _ = self.bank.arrays()
            self._channels = self.bank.channels  # mono samples take the kernel's one-column loops
            self._bank_version = self.bank.version
        vk.play_samples(
            arena[row], arena[row + 1], 0, n, float(self.sr), self.pool, self.triggers, count,
            self._data, self._offsets, self._lengths, self._channels, self.stats, self.sends(arena, row), self.routes,
        )
        if self.notes is not None:
            self.notes.add(arena[row], arena[row + 1], n, self.triggers, count, self.stats, self.sends(arena, row),
                           self.routes)


class _Notes:
    """The synth voices of a sample node (`s "bd sawtooth"`): their pool, pluck's delay lines from the first
    pluck on (one period of PLUCK_LOWEST per voice: 9 MB at 44.1 kHz), and the rows they render into before they
    are added to the samples'."""

    def __init__(self, sr: int) -> None:
        self.sr = sr
        self.pool = vk.new_synth_pool(VOICE_POOL)
        self.lines = np.zeros((1, 1))
        self.out = np.zeros((2, 0))

    def need_lines(self) -> None:
        if self.lines.shape[0] < VOICE_POOL:
            self.lines = vk.new_lines(VOICE_POOL, self.sr)

    def add(self, left: np.ndarray, right: np.ndarray, n: int, triggers: np.ndarray, count: int,
            stats: np.ndarray, sends: np.ndarray, routes: np.ndarray) -> None:
        """Render the synth rows of `triggers` (the others name no waveform) and add them to left, right[:n], and
        their sends to the node's `sends` (graph/orbits.py)."""
        if self.out.shape[1] < n or self.out.shape[0] != 2 + sends.shape[0]:
            self.out = np.zeros((2 + sends.shape[0], n))
        out_l, out_r, own = self.out[0], self.out[1], self.out[2:]
        vk.play_notes(out_l, out_r, 0, n, float(self.sr), self.pool, triggers, count, -1, stats, self.lines, own,
                      routes)
        left[:n] += out_l[:n]
        right[:n] += out_r[:n]
        sends[:, :n] += own[:, :n]


class SynthVoices(_Voices):
    SIGNAL_FIELDS = {name: FIELDS[name] for name in SIGNAL_CONTROLS if VOICE_CONTROL[name].synth}
    ENVELOPE = (vk.T_ATTACK, vk.T_DECAY, vk.T_SUSTAIN, vk.T_RELEASE)

    def __init__(self, node: Node, cps: Fraction, sr: int) -> None:
        self.wave = int(node.consts[0])
        # the note's own envelope (`saw "c3 e3" 0.01 0.2 0.5 0.3`): what a missing attack ... release takes;
        # a negative const is one not given (the kernel's defaults, engine/kernels/voices.py)
        self.envelope = [(field, value) for field, value in zip(self.ENVELOPE, node.consts[1:5]) if value >= 0.0]
        super().__init__(node, cps, sr)
        self.pool = vk.new_synth_pool(VOICE_POOL)

    def source(self, row: np.ndarray, controls: dict) -> None:
        from phonon.graph.patterns import MidiNote, is_note_name, midi_to_hz, note_to_hz

        pitch = controls.get("pitch")
        if isinstance(pitch, MidiNote):
            freq = midi_to_hz(int(pitch))
        elif isinstance(pitch, str) and is_note_name(pitch):
            freq = note_to_hz(pitch)
        else:
            freq = _number(controls, "pitch", 0.0, self.node)  # a plain number is in Hz
        row[vk.T_FREQ] = freq
        for field, value in self.envelope:
            row[field] = value

    def fill(self, arena: np.ndarray, row: int, first: int, n: int, signals: np.ndarray = _NO_ROWS) -> None:
        count = self.fill_triggers(first, n)
        self.read_signals(arena, signals, count)
        vk.play_synth(
            arena[row], arena[row + 1], 0, n, float(self.sr), self.pool, self.triggers, count, self.wave, self.stats,
            self.sends(arena, row), self.routes,
        )
