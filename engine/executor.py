"""Evaluate a schedule block by block over an arena it is handed (a numpy array; the parallel runtime hands
it one that lives in shared memory). Python touches each batch once per block; nothing is allocated per
block once running."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.controls import SteppedControl
from engine.master import nonfinite_rows
from engine.plan import Schedule


@dataclass
class Incident:
    """A node whose output went non-finite; its samples were silenced and its state reset."""

    node: int
    where: str
    sample: int


@dataclass
class BlockEvaluator:
    schedule: Schedule
    arena: np.ndarray
    incidents: list[Incident] = field(default_factory=list)

    def __post_init__(self) -> None:
        s = self.schedule
        if self.arena.shape != s.arena_shape():
            raise ValueError(f"arena shape {self.arena.shape} does not match the schedule's {s.arena_shape()}")
        s.fill_constants(self.arena)
        self._controls: list[tuple[np.ndarray, SteppedControl]] = []
        self._calls = []
        for batch in s.batches:
            if batch.kernel is None:
                for i, n in enumerate(batch.nodes):
                    control = SteppedControl(s.graph.nodes[n].pattern, s.graph.cps, s.sr)
                    self._controls.append((self.arena[batch.wiring[i, 0]], control))
            else:
                self._calls.append((batch.kernel, batch.wiring, batch.state))
        self._order_rows = np.array([s.node_row[n] for n in s.order], dtype=np.int64)
        self._found = np.zeros(len(s.order), dtype=np.int64)
        self._reported: set[int] = set()

    def process(self, first_sample: int, n: int) -> None:
        """Compute absolute samples [first_sample, first_sample + n) into arena columns [0, n)."""
        for row, control in self._controls:
            control.fill(row, first_sample, n)
        arena = self.arena
        for fn, wiring, state in self._calls:
            fn(arena, wiring, state, 0, n)

    def contain_nonfinite(self, first_sample: int, n: int) -> list[Incident]:
        """Silence every node whose block went non-finite and reset its state, so one bad block cannot poison
        filters and delays forever. Returns new incidents (the nodes where it started), each reported once."""
        if nonfinite_rows(self.arena, self._order_rows, n, self._found) == 0:
            return []
        s = self.schedule
        bad = {s.order[i] for i in np.flatnonzero(self._found)}
        new = []
        for node_id in s.order:
            if node_id not in bad:
                continue
            node = s.graph.nodes[node_id]
            inputs_bad = any(isinstance(x, int) and x in bad for x in node.inputs)
            if not inputs_bad and node_id not in self._reported:
                self._reported.add(node_id)
                row = self.arena[s.node_row[node_id], :n]
                at = first_sample + int(np.flatnonzero(~np.isfinite(row))[0])
                new.append(Incident(node_id, node.where(), at))
            row = self.arena[s.node_row[node_id], :n]
            row[~np.isfinite(row)] = 0.0
            b, i = s.node_batch[node_id]
            batch = s.batches[b]
            batch.state[i, batch.first_mutable :] = 0.0
        self.incidents.extend(new)
        return new
