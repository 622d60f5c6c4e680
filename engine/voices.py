"""Voices driven by pattern events: samples (`s "bd*2 sn"`) and synth notes (`saw "c3 e3"`).

Once per block the host takes the events whose onsets fall in the block (queried once per cycle, never per
sample), turns each into a row of a trigger table (sample-accurate offset, sample id, gain, pan, rate, ...),
and calls one numba kernel that starts those voices on their exact samples and mixes every active voice of
the node into its two output rows."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from engine.clock import EventClock
from engine.kernels import voices as vk
from engine.samples import SampleBank, SampleError
from graph.errors import PhononError
from graph.signal_graph import Node

VOICE_POOL = 512
PROBE_CYCLES = 8  # cycles queried before rendering (and kept), so an unknown sample name fails up front
# Transpositions beyond this many semitones (a thousand octaves) give rates and frequencies no kernel plays
# (the kernels skip such voices); the clamp only keeps 2 ** (note / 12) from overflowing first.
MAX_SEMITONES = 12_000.0


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
OFFSET = vk.T_OFFSET  # the offset column, the same in sample and synth triggers
assert vk.S_OFFSET == OFFSET


def _transposition(semitones: float) -> float:
    """The frequency ratio of a transposition by `semitones` (NaN stays NaN: the kernels skip the voice)."""
    return 2.0 ** (min(max(semitones, -MAX_SEMITONES), MAX_SEMITONES) / 12.0)


class _Voices:
    """Common part of sample and synth voices: trigger table, pool, events."""

    width = 0

    def __init__(self, node: Node, cps: Fraction, sr: int) -> None:
        self.node = node
        self.sr = sr
        self.clock = EventClock(node.pattern, node.params, cps, sr)
        self.triggers = np.zeros((64, self.width), dtype=np.float64)
        for name in node.signal_controls:
            if name not in self.SIGNAL_FIELDS:
                raise PhononError(f"a synth voice has no {name} (a sample control)", node.pos.line, node.pos.col)
        self.signal_fields = [self.SIGNAL_FIELDS[name] for name in node.signal_controls]
        self._rows: dict[tuple[int, float], np.ndarray] = {}  # (id of controls, length) -> trigger row
        self.stats = np.zeros(2, dtype=np.int64)  # voices stolen, most voices at once
        for cycle in range(PROBE_CYCLES):  # fail before rendering, with the node's position
            for _, length, controls in self.clock.onsets(cycle):
                self.trigger_fields(controls, length, 0)

    def trigger_fields(self, controls: dict, length: float, offset: int) -> tuple[float, ...]:
        """One trigger row for an event with these controls, `length` samples long, at block column offset."""
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
            self.triggers = np.zeros((2 * len(events), self.width), dtype=np.float64)
        # A periodic clock hands out the same controls objects every period and keeps them alive, so their
        # rows are made once (column 0, the offset, is set per event; it is 0 in a cached row).
        rows = self._rows if self.clock.period is not None else None
        for k, (at, length, controls) in enumerate(events):
            if rows is None:
                self.triggers[k] = self.trigger_fields(controls, length, at - first)
                continue
            row = rows.get((id(controls), length))
            if row is None:
                row = rows[id(controls), length] = np.array(self.trigger_fields(controls, length, 0))
            self.triggers[k] = row
            self.triggers[k, OFFSET] = at - first
        return len(events)


class SampleVoices(_Voices):
    width = vk.TRIGGER_WIDTH
    SIGNAL_FIELDS = {"gain": vk.T_GAIN, "pan": vk.T_PAN, "begin": vk.T_BEGIN, "end": vk.T_END,
                     "attack": vk.T_ATTACK, "release": vk.T_RELEASE}  # graph.values.SIGNAL_CONTROLS

    def __init__(self, node: Node, cps: Fraction, sr: int, bank: SampleBank) -> None:
        self.bank = bank
        super().__init__(node, cps, sr)
        self.pool = vk.new_pool(VOICE_POOL)
        self._bank_version = -1

    def trigger_fields(self, controls: dict, length: float, offset: int) -> tuple[float, ...]:
        from graph.patterns import split_sample

        node = self.node
        try:
            name, index = split_sample(controls.get("s"))
            sample_id = self.bank.id_of(name, index + int(_number(controls, "n", 0, node)))
        except SampleError as e:
            raise PhononError(e.message, node.pos.line, node.pos.col, e.hint) from None
        except (ValueError, OverflowError) as e:  # OverflowError: an index of inf
            raise PhononError(str(e), node.pos.line, node.pos.col) from None
        rate = _number(controls, "speed", 1.0, node) * _transposition(_number(controls, "note", 0.0, node))
        legato = controls.get("legato")
        hold = -1.0 if legato is None else _number(controls, "legato", 1.0, node) * length
        fields = [0.0] * vk.TRIGGER_WIDTH
        fields[vk.T_OFFSET] = offset
        fields[vk.T_SAMPLE] = sample_id
        fields[vk.T_GAIN] = _number(controls, "gain", 1.0, node)
        fields[vk.T_PAN] = _number(controls, "pan", 0.0, node)
        fields[vk.T_RATE] = rate
        fields[vk.T_BEGIN] = _number(controls, "begin", 0.0, node)
        fields[vk.T_END] = _number(controls, "end", 1.0, node)
        fields[vk.T_CUT] = _number(controls, "cut", 0.0, node)
        fields[vk.T_ATTACK] = _number(controls, "attack", 0.0, node)
        fields[vk.T_RELEASE] = _number(controls, "release", 0.0, node)
        fields[vk.T_HOLD] = hold
        return tuple(fields)

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
    width = vk.SYNTH_TRIGGER_WIDTH
    SIGNAL_FIELDS = {"gain": vk.S_GAIN, "pan": vk.S_PAN, "attack": vk.S_ATTACK, "release": vk.S_RELEASE}

    def __init__(self, node: Node, cps: Fraction, sr: int) -> None:
        self.wave = int(node.consts[0])
        self.envelope = node.consts[1:5]
        super().__init__(node, cps, sr)
        self.pool = vk.new_synth_pool(VOICE_POOL)

    def trigger_fields(self, controls: dict, length: float, offset: int) -> tuple[float, ...]:
        from graph.patterns import MidiNote, is_note_name, midi_to_hz, note_to_hz

        pitch = controls.get("pitch")
        if isinstance(pitch, MidiNote):
            freq = midi_to_hz(int(pitch))
        elif isinstance(pitch, str) and is_note_name(pitch):
            freq = note_to_hz(pitch)
        else:
            freq = _number(controls, "pitch", 0.0, self.node)  # a plain number is in Hz
        freq *= _transposition(_number(controls, "note", 0.0, self.node))
        attack, decay, sustain, release = self.envelope
        fields = [0.0] * vk.SYNTH_TRIGGER_WIDTH
        fields[vk.S_OFFSET] = offset
        fields[vk.S_FREQ] = freq
        fields[vk.S_GAIN] = _number(controls, "gain", 1.0, self.node)
        fields[vk.S_PAN] = _number(controls, "pan", 0.0, self.node)
        fields[vk.S_ATTACK] = _number(controls, "attack", attack, self.node)
        fields[vk.S_DECAY] = decay
        fields[vk.S_SUSTAIN] = sustain
        fields[vk.S_RELEASE] = _number(controls, "release", release, self.node)
        fields[vk.S_HOLD] = _number(controls, "legato", 1.0, self.node) * length
        return tuple(fields)

    def fill(self, arena: np.ndarray, row: int, first: int, n: int, signals: np.ndarray = _NO_ROWS) -> None:
        count = self.fill_triggers(first, n)
        self.read_signals(arena, signals, count)
        vk.play_synth(
            arena[row], arena[row + 1], 0, n, float(self.sr), self.pool, self.triggers, count, self.wave, self.stats
        )
