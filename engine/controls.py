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
        from graph.patterns import control_onsets

        self._onsets = control_onsets
        self.pattern = pattern
        self.samples_per_cycle = Fraction(sr) / cps
        self._cycle = -1
        self._positions = np.zeros(0, dtype=np.int64)
        self._values = np.zeros(0, dtype=np.float64)
        self._cycle_end = 0
        self.held = self._value_before_start()

    def _value_before_start(self) -> float:
        """The value sounding at sample 0 if the pattern has no onset there: its last value in cycle -1."""
        before = self._onsets(self.pattern, -1)
        return float(before[-1][1]) if before else 0.0

    def _load_cycle(self, cycle: int) -> None:
        # An onset just before a cycle boundary can round up to the boundary's sample, which belongs to the
        # next cycle, so the previous cycle's onsets are included too (they sort first).
        spc = self.samples_per_cycle
        start, end = math.ceil(cycle * spc), math.ceil((cycle + 1) * spc)
        steps = [
            (math.ceil(t * spc), v)
            for c in (cycle - 1, cycle)
            for t, v in self._onsets(self.pattern, c)
            if start <= math.ceil(t * spc) < end
        ]
        self._positions = np.array([p for p, _ in steps], dtype=np.int64)
        self._values = np.array([v for _, v in steps], dtype=np.float64)
        self._cycle = cycle
        self._cycle_end = end

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
