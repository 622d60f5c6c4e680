"""Voices driven by pattern events: samples (`s "bd*2 sn"`) and synth notes (`saw "c3 e3"`).

Once per block the host takes the events whose onsets fall in the block (queried once per cycle, never per
sample), turns each into a row of a trigger table (sample-accurate offset, the sample id or the note's
frequency, the event's length, and each voice control the event gives, raw, in its column: the layout of
engine/kernels/voices.py, made from graph/values.py's VOICE_CONTROLS), writes the controls that signals give
(their values at each onset sample), and calls one numba kernel that turns each row into a voice by SuperDirt's
formulas, starts it on its exact sample and mixes every active voice of the node into its two output rows."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from phonon.engine.clock import EventClock
from phonon.engine.kernels import voices as vk
from phonon.engine.samples import SampleBank, SampleError
from phonon.graph.errors import PhononError
from phonon.graph.signal_graph import Node
from phonon.graph.values import SIGNAL_CONTROLS, VOICE_CONTROL, VOICE_CONTROLS

VOICE_POOL = 512
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


class _Voices:
    """Common part of sample and synth voices: trigger table, pool, events."""

    def __init__(self, node: Node, cps: Fraction, sr: int) -> None:
        self.node = node
        self.sr = sr
        self.cps = float(cps)
        self.clock = EventClock(node.pattern, node.params, cps, sr)
        self.triggers = vk.new_triggers(64)
        for name in node.signal_controls:
            if name not in self.SIGNAL_FIELDS:
                raise PhononError(f"a synth voice has no {name} (a sample control)", node.pos.line, node.pos.col)
        self.signal_fields = [self.SIGNAL_FIELDS[name] for name in node.signal_controls]
        self._rows: dict[tuple[int, float], np.ndarray] = {}  # (id of controls, length) -> trigger row
        self.stats = np.zeros(2, dtype=np.int64)  # voices stolen, most voices at once
        for cycle in range(PROBE_CYCLES):  # fail before rendering, with the node's position
            for _, length, controls in self.clock.onsets(cycle):
                self.trigger_row(controls, length)

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

    def fill_triggers(self, first: int, n: int) -> int:
        events = self.clock.take(first, n)
        if len(events) > self.triggers.shape[0]:
            self.triggers = vk.new_triggers(2 * len(events))
        # A periodic clock hands out the same controls objects every period and keeps them alive, so their
        # rows are made once (column 0, the offset, is set per event; it is 0 in a cached row).
        rows = self._rows if self.clock.period is not None else None
        for k, (at, length, controls) in enumerate(events):
            if rows is None:
                self.triggers[k] = self.trigger_row(controls, length)
            else:
                row = rows.get((id(controls), length))
                if row is None:
                    row = rows[id(controls), length] = self.trigger_row(controls, length)
                self.triggers[k] = row
            self.triggers[k, OFFSET] = at - first
        return len(events)


class SampleVoices(_Voices):
    SIGNAL_FIELDS = {name: FIELDS[name] for name in SIGNAL_CONTROLS}

    def __init__(self, node: Node, cps: Fraction, sr: int, bank: SampleBank) -> None:
        self.bank = bank
        super().__init__(node, cps, sr)
        self.pool = vk.new_pool(VOICE_POOL)
        self._bank_version = -1

    def source(self, row: np.ndarray, controls: dict) -> None:
        from phonon.graph.patterns import split_sample

        node = self.node
        try:
            name, index = split_sample(controls.get("s"))
            row[vk.T_SAMPLE] = self.bank.id_of(name, index + int(_number(controls, "n", 0, node)))
        except SampleError as e:
            raise PhononError(e.message, node.pos.line, node.pos.col, e.hint) from None
        except (ValueError, OverflowError) as e:  # OverflowError: an index of inf
            raise PhononError(str(e), node.pos.line, node.pos.col) from None

    def fill(self, arena: np.ndarray, row: int, first: int, n: int, signals: np.ndarray = _NO_ROWS) -> None:
        count = self.fill_triggers(first, n)
        self.read_signals(arena, signals, count)
        if self._bank_version != self.bank.version:
            self._data, self._offsets, self._lengths, _ = self.bank.arrays()
            self._channels = self.bank.channels  # mono samples take the kernel's one-column loops
            self._bank_version = self.bank.version
        vk.play_samples(
            arena[row], arena[row + 1], 0, n, float(self.sr), self.pool, self.triggers, count,
            self._data, self._offsets, self._lengths, self._channels, self.stats,
        )


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
            arena[row], arena[row + 1], 0, n, float(self.sr), self.pool, self.triggers, count, self.wave, self.stats
        )
