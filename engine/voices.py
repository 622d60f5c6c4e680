"""Voices driven by pattern events: samples (`s "bd*2 sn"`) and synth notes (`saw "c3 e3"`).

Once per block the host takes the events whose onsets fall in the block (queried once per cycle, never per
sample), turns each into a row of a trigger table (sample-accurate offset, sample id, gain, pan, rate, ...),
and calls one numba kernel that starts those voices on their exact samples and mixes every active voice of
the node into its two output rows."""

from __future__ import annotations

import bisect
import math
from fractions import Fraction
from typing import Any

import numpy as np

from engine.kernels import voices as vk
from engine.samples import SampleBank, SampleError
from graph.values import voice_value
from graph.errors import PhononError
from graph.signal_graph import Node

VOICE_POOL = 512
PROBE_CYCLES = 8  # cycles queried before rendering (and kept), so an unknown sample name fails up front


class _EventClock:
    """A voice node's events with onsets as absolute samples (ceil(onset * sr / cps)), one cycle at a time.

    Each `# name pattern` parameter is queried once per cycle and sampled at every event's onset (the value
    whose event holds the onset: Tidal's `#`); an event with no parameter value there is dropped, as in
    Tidal. Queried cycles are kept while they may still be needed (the probe before rendering fills the
    first ones), so no cycle is queried twice."""

    def __init__(self, pattern: Any, params: tuple, cps: Fraction, sr: int) -> None:
        self.pattern = pattern
        self.params = params
        self.spc = Fraction(sr) / cps
        self._onsets: dict[int, list[tuple[Fraction, float, dict]]] = {}
        self._cycle = None
        self._events: list[tuple[int, float, dict]] = []
        self._positions: list[int] = []

    def onsets(self, cycle: int) -> list[tuple[Fraction, float, dict]]:
        """(onset, duration in samples, controls) of the events starting in cycle `cycle`."""
        if cycle not in self._onsets:
            events = [(h.whole.begin, float((h.whole.end - h.whole.begin) * self.spc), h.value)
                      for h in self.pattern.onsets(cycle, cycle + 1)]
            for name, values in self.params:
                haps = sorted(values.query_arc(cycle, cycle + 1), key=lambda h: h.part.begin)
                starts = [h.part.begin for h in haps]
                merged = []
                for t, length, controls in events:
                    for h in haps[: bisect.bisect_right(starts, t)]:  # every value holding t (a stack: several)
                        if h.part.end > t:
                            merged.append((t, length, {**controls, name: voice_value(name, h.value)}))
                events = merged
            self._onsets[cycle] = events
        return self._onsets[cycle]

    def cycle_events(self, cycle: int) -> list[tuple[int, float, dict]]:
        """(sample, duration, controls) for onsets landing on samples of cycle `cycle` (an onset just before
        a cycle boundary can round up onto the boundary, so the previous cycle's tail is included)."""
        start, end = math.ceil(cycle * self.spc), math.ceil((cycle + 1) * self.spc)
        found = [
            (at, length, controls)
            for c in (cycle - 1, cycle)
            for t, length, controls in self.onsets(c)
            if start <= (at := math.ceil(t * self.spc)) < end
        ]
        found.sort(key=lambda e: e[0])  # stable: simultaneous events keep their pattern order
        for old in [c for c in self._onsets if c < cycle - 1]:
            del self._onsets[old]
        return found

    def take(self, first: int, n: int) -> list[tuple[int, float, dict]]:
        """Events with onsets in [first, first + n)."""
        out = []
        end = first + n
        cycle = int(math.floor(first / self.spc))
        while math.ceil(cycle * self.spc) < end:
            if self._cycle != cycle:
                self._events, self._cycle = self.cycle_events(cycle), cycle
                self._positions = [e[0] for e in self._events]
            lo, hi = bisect.bisect_left(self._positions, first), bisect.bisect_left(self._positions, end)
            out.extend(self._events[lo:hi])
            cycle += 1
        return out


def _number(controls: dict, key: str, default: float, node: Node) -> float:
    value = controls.get(key, default)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise PhononError(
            f"{key} {value!r} is not a number", node.pos.line, node.pos.col, f"{key} takes numbers"
        ) from None


class _Voices:
    """Common part of sample and synth voices: trigger table, pool, events."""

    width = 0

    def __init__(self, node: Node, cps: Fraction, sr: int) -> None:
        self.node = node
        self.sr = sr
        self.clock = _EventClock(node.pattern, node.params, cps, sr)
        self.triggers = np.zeros((64, self.width), dtype=np.float64)
        self.stats = np.zeros(2, dtype=np.int64)  # voices stolen, most voices at once
        for cycle in range(PROBE_CYCLES):  # fail before rendering, with the node's position
            for _, length, controls in self.clock.onsets(cycle):
                self.trigger_fields(controls, length, 0)

    def trigger_fields(self, controls: dict, length: float, offset: int) -> tuple[float, ...]:
        """One trigger row for an event with these controls, `length` samples long, at block column offset."""
        raise NotImplementedError

    def fill_triggers(self, first: int, n: int) -> int:
        events = self.clock.take(first, n)
        if len(events) > self.triggers.shape[0]:
            self.triggers = np.zeros((2 * len(events), self.width), dtype=np.float64)
        for k, (at, length, controls) in enumerate(events):
            self.triggers[k] = self.trigger_fields(controls, length, at - first)
        return len(events)


class SampleVoices(_Voices):
    width = vk.TRIGGER_WIDTH

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
        except ValueError as e:
            raise PhononError(str(e), node.pos.line, node.pos.col) from None
        rate = _number(controls, "speed", 1.0, node) * 2.0 ** (_number(controls, "note", 0.0, node) / 12.0)
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

    def fill(self, arena: np.ndarray, row: int, first: int, n: int) -> None:
        count = self.fill_triggers(first, n)
        if self._bank_version != self.bank.version:
            self._data, self._offsets, self._lengths, _ = self.bank.arrays()
            self._bank_version = self.bank.version
        vk.play_samples(
            arena[row], arena[row + 1], 0, n, float(self.sr), self.pool, self.triggers, count,
            self._data, self._offsets, self._lengths, self.stats,
        )


class SynthVoices(_Voices):
    width = vk.SYNTH_TRIGGER_WIDTH

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
        freq *= 2.0 ** (_number(controls, "note", 0.0, self.node) / 12.0)
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

    def fill(self, arena: np.ndarray, row: int, first: int, n: int) -> None:
        count = self.fill_triggers(first, n)
        vk.play_synth(
            arena[row], arena[row + 1], 0, n, float(self.sr), self.pool, self.triggers, count, self.wave, self.stats
        )
