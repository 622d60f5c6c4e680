"""Pattern events on the sample clock: an event whose onset is at cycle t starts on sample
ceil(t * sr / cps). Patterns are queried once per cycle and the cycles kept while they may still be needed,
never per sample. Used by stepped control signals (engine/controls.py) and voices (engine/voices.py)."""

from __future__ import annotations

import bisect
import math
from fractions import Fraction
from typing import Any

from phonon.graph.errors import PhononError
from phonon.graph.patterns import PatternLimitError
from phonon.graph.values import voice_value

MAX_CACHED_PERIOD = 256  # cycles of events kept for a periodic pattern (a few hundred events per cycle each)


def _samples(cycles: Fraction, samples_per_cycle: Fraction) -> float:
    """An event's length in samples as a float; inf past the float range (an event slowed a googol times)."""
    try:
        return float(cycles * samples_per_cycle)
    except OverflowError:
        return math.inf


def _over(values: Any, whole: Any) -> list[Any]:
    """A continuous parameter's value(s) for an event: the pattern queried over the event's whole, as Tidal's
    `#` does (a signal answers with its value at the middle of the query: graph/patterns/signals.py)."""
    return [h.value for h in values.query_arc(whole.begin, whole.end)[:1]]


class EventClock:
    """A voice node's events with onsets as absolute samples (ceil(onset * sr / cps)), one cycle at a time.

    Each `# name pattern` parameter is queried once per cycle and sampled at every event's onset (the value whose
    event holds the onset: Tidal's `#`); an event with no parameter value there is dropped, as in Tidal. A
    continuous parameter (`# pan sine`) is queried over each event instead, as Tidal does. Queried cycles are kept
    while they may still be needed (the probe before rendering fills the first ones), so no cycle is queried twice.
    When the pattern and every parameter repeat after a known number of cycles (`Pattern.period`), each cycle of one
    period is queried once and later cycles are those events shifted by whole periods: exactly the same events,
    without the pattern queries."""

    def __init__(self, pattern: Any, params: tuple, cps: Fraction, sr: int) -> None:
        self.pattern = pattern
        self.params = params
        self.spc = Fraction(sr) / cps
        self._onsets: dict[int, list[tuple[Fraction, float, dict]]] = {}
        periods = [pattern.period, *(values.period for _, values in params)]
        self.period = None if None in periods else math.lcm(*periods)
        if self.period is not None and self.period > MAX_CACHED_PERIOD:
            self.period = None
        self._first_period: dict[int, list[tuple[Fraction, float, dict]]] = {}  # cycle in [0, period) -> events
        # A period of whole samples (most tempos): whole cycles of sample positions repeat too, shifted.
        samples = None if self.period is None else self.period * self.spc
        self._period_samples = None if samples is None or samples.denominator != 1 else int(samples)
        self._first_samples: dict[int, list[tuple[int, float, dict]]] = {}
        self._cycle = -1  # the cycle `take` is in: its events, their samples, and its samples [start, end)
        self._events: list[tuple[int, float, dict]] = []
        self._positions: list[int] = []
        self._start = self._end = 0

    def onsets(self, cycle: int) -> list[tuple[Fraction, float, dict]]:
        """(onset, duration in samples, controls) of the events starting in cycle `cycle`. A pattern that asks
        for more than the limits allow (graph/limits.py) raises a PhononError at its place in the program."""
        if cycle not in self._onsets:
            try:
                self._onsets[cycle] = self._query(cycle) if self.period is None else self._shifted(cycle)
            except PatternLimitError as e:
                raise PhononError(e.message, e.line, e.col, e.hint) from None
        return self._onsets[cycle]

    def _shifted(self, cycle: int) -> list[tuple[Fraction, float, dict]]:
        """A cycle of a periodic pattern: the same cycle of the first period, moved by whole periods."""
        first = cycle % self.period
        if first not in self._first_period:
            self._first_period[first] = self._query(first)
        shift = cycle - first
        return [(t + shift, length, controls) for t, length, controls in self._first_period[first]]

    def _query(self, cycle: int) -> list[tuple[Fraction, float, dict]]:
        events = [(h.whole, h.value) for h in self.pattern.onsets(cycle, cycle + 1)]
        for name, values in self.params:
            haps = sorted(values.query_arc(cycle, cycle + 1), key=lambda h: h.part.begin)
            if any(h.whole is None for h in haps):  # continuous (`# pan sine`): its value over each event
                events = [(w, {**c, name: voice_value(name, v)}) for w, c in events for v in _over(values, w)]
                continue
            starts = [h.part.begin for h in haps]
            merged = []
            for whole, controls in events:
                t = whole.begin
                for h in haps[: bisect.bisect_right(starts, t)]:  # every value holding t (a stack: several)
                    if h.part.end > t:
                        merged.append((whole, {**controls, name: voice_value(name, h.value)}))
            events = merged
        return [(w.begin, _samples(w.end - w.begin, self.spc), controls) for w, controls in events]

    def cycle_events(self, cycle: int) -> list[tuple[int, float, dict]]:
        """(sample, duration, controls) for onsets landing on samples of cycle `cycle` (an onset just before
        a cycle boundary can round up onto the boundary, so the previous cycle's tail is included)."""
        if self._period_samples is None:
            return self._cycle_events(cycle)
        first = cycle % self.period
        if first not in self._first_samples:
            self._first_samples[first] = self._cycle_events(first)
        shift = (cycle - first) // self.period * self._period_samples
        return [(at + shift, length, controls) for at, length, controls in self._first_samples[first]]

    def _cycle_events(self, cycle: int) -> list[tuple[int, float, dict]]:
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
        """Events with onsets in [first, first + n). A block inside the current cycle costs two bisections:
        the exact (Fraction) cycle arithmetic runs once per cycle, in `_enter`."""
        end = first + n
        if not self._start <= first < self._end:
            self._enter(int(math.floor(first / self.spc)))  # the cycle whose samples hold `first`
        out = []
        while True:
            lo, hi = bisect.bisect_left(self._positions, first), bisect.bisect_left(self._positions, end)
            out.extend(self._events[lo:hi])
            if self._end >= end:
                return out
            self._enter(self._cycle + 1)

    def _enter(self, cycle: int) -> None:
        self._events, self._cycle = self.cycle_events(cycle), cycle
        self._positions = [e[0] for e in self._events]
        self._start, self._end = math.ceil(cycle * self.spc), math.ceil((cycle + 1) * self.spc)
