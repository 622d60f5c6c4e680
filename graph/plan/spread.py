"""A program spread over parts: the partition (graph/plan/partition.py), one schedule per part over one shared
row layout, and the rows that cross between parts and to the master. Plain data, no processes: the engine
evaluates each part (engine/parts.py) and the worker runtime moves the crossing rows (workers/ensemble.py).

A part exports the rows that another part or the master reads and imports what it reads of others'; only
those rows cross, through the ring slots ("handoff rows"). Every other row stays in the private arena of the
process that computes it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from phonon.graph.plan.partition import Part, parts_for
from phonon.graph.plan.schedule import Schedule, build_schedule
from phonon.graph.plan.units import unit_graph
from phonon.graph.signal_graph import SignalGraph


@dataclass
class Spread:
    parts: list[Part]
    schedules: list[Schedule]  # one per part, all over the same row layout
    workers: int  # processes that run the parts (1: all in this process)
    handoff: list[int]  # arena rows that cross, in slot row order
    imports: list[np.ndarray]  # per part, [2, n]: arena rows it reads from others, and their slot rows
    exports: list[np.ndarray]  # per part, [2, n]: arena rows it hands on, and their slot rows
    sinks: list[int]  # the parts that compute the outputs (the master waits for them)
    slot_row: dict[int, int]  # arena row that crosses -> its row in the slots

    @property
    def layout(self) -> Schedule:
        """The layout every part shares (rows, constants, outputs)."""
        return self.schedules[0]

    def output_rows(self) -> dict[int, tuple[int, int]]:
        """Output channel -> the slot rows of its left and right, where the master reads them."""
        slot_row = self.slot_row
        return {ch: (slot_row[l], slot_row[r]) for ch, (l, r) in self.layout.output_rows.items()}

    def constant_slot_rows(self) -> dict[int, float]:
        """Slot row -> value, for the constants that cross (a constant output is read from the slots)."""
        slot_row = self.slot_row
        return {slot_row[row]: value for value, row in self.layout.const_rows.items() if row in slot_row}


def spread(graph: SignalGraph, sr: int, block: int, workers: int) -> Spread:
    """The parts of `graph` for `workers` processes, their schedules and what crosses between them. A program
    with one part (or none: a constant program) runs in-process, as with one worker."""
    ug = unit_graph(graph, sr)
    parts = parts_for(ug, workers)
    workers = workers if len(parts) > 1 else 1
    schedules = [build_schedule(graph, sr, block, only=set(p.units), ug=ug) for p in parts]
    layout = schedules[0]

    row_owner = {
        s.node_row[n] + k: i
        for i, s in enumerate(schedules)
        for n in s.order
        for k in range(graph.nodes[n].rows)
    }
    outputs = sorted({row for pair in layout.output_rows.values() for row in pair})
    exported: list[set[int]] = [set() for _ in parts]
    imported: list[set[int]] = [set() for _ in parts]
    for row in outputs:
        if row in row_owner:
            exported[row_owner[row]].add(row)
    for i, s in enumerate(schedules):
        for b in s.batches:
            for row in b.wiring[:, 1:].ravel():
                if row in row_owner and row_owner[row] != i:
                    exported[row_owner[row]].add(int(row))
                    imported[i].add(int(row))
    handoff = sorted(set(outputs).union(*exported))
    slot_row = {row: i for i, row in enumerate(handoff)}

    def crossing(rows: set[int]) -> np.ndarray:
        ordered = sorted(rows)
        return np.array([ordered, [slot_row[r] for r in ordered]], dtype=np.int64).reshape(2, -1)

    sinks = sorted({row_owner[row] for row in outputs if row in row_owner}) or [len(parts) - 1]
    return Spread(
        parts, schedules, workers, handoff, [crossing(r) for r in imported], [crossing(r) for r in exported], sinks,
        slot_row,
    )
