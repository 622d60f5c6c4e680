"""Patterns as stepped control signals.

A pattern's value changes at each event onset, on the exact sample `ceil(onset * sr / cps)`, and holds
through rests. Events are queried once per cycle (cached), never per sample; each block, one numba call
per pattern writes the steps that fall inside it."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numba as nb
import numpy as np

from phonon.engine.clock import EventClock
from phonon.graph.errors import PhononError
from phonon.graph.patterns import control_value


@nb.njit(cache=True, nogil=True)
def fill_steps(row, offset, first, count, positions, values, held):
    """Write samples [first, first + count) (absolute) to row[offset:]; the value changes to values[k] at
    absolute sample positions[k]. `held` is the value before `first`; returns the value after the range."""
    k = 0
    m = positions.shape[0]
    while k < m and positions[k] <= first:
        held = values[k]
        k += 1
    end = first + count
    n = first
    while n < end:
        stop = positions[k] if k < m and positions[k] < end else end
        for s in range(n, stop):
            row[offset + s - first] = held
        n = stop
        if k < m and positions[k] == n:
            held = values[k]
            k += 1
    return held


class SteppedControl:
    """One pattern's stepped signal, filled block by block in time order."""

    def __init__(self, pattern: Any, cps: Fraction, sr: int) -> None:
        self.clock = EventClock(pattern, (), cps, sr)
        self.samples_per_cycle = self.clock.spc
        self._cycle = -1
        self._positions = np.zeros(0, dtype=np.int64)
        self._values = np.zeros(0, dtype=np.float64)
        self._cycle_end = 0
        # The value sounding at sample 0 when the pattern has no onset there: its last value in cycle -1.
        before = self.clock.onsets(-1)
        self.held = self._value(before[-1][2]) if before else 0.0

    def _value(self, value: Any) -> float:
        """A pattern value as a control number; anything else is an error at the pattern's place."""
        try:
            return control_value(value)
        except ValueError as e:
            line, col = getattr(self.clock.pattern, "origin", None) or (None, None)
            raise PhononError(str(e), line, col, "a control pattern plays numbers or note names") from None

    def _load_cycle(self, cycle: int) -> None:
        events = self.clock.cycle_events(cycle)
        self._positions = np.array([at for at, _, _ in events], dtype=np.int64)
        self._values = np.array([self._value(v) for _, _, v in events], dtype=np.float64)
        self._cycle = cycle
        self._cycle_end = math.ceil((cycle + 1) * self.samples_per_cycle)

    def fill(self, arena: np.ndarray, row_index: int, first: int, count: int) -> None:
        """Write absolute samples [first, first + count) into arena[row_index, 0:count]."""
        row = arena[row_index]
        offset = 0
        while count > 0:
            if not (self._cycle_start() <= first < self._cycle_end) or self._cycle < 0:
                self._load_cycle(int(math.floor(first / self.samples_per_cycle)))
            n = min(count, self._cycle_end - first)
            self.held = fill_steps(row, offset, first, n, self._positions, self._values, self.held)
            first += n
            offset += n
            count -= n

    def _cycle_start(self) -> int:
        return math.ceil(self._cycle * self.samples_per_cycle) if self._cycle >= 0 else 0
