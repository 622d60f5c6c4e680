"""A program split into parts for the worker runtime: one schedule and evaluator per part, all over one
arena of ring slots, and the runtime tasks that run them. With one worker the whole program is one part run
in-process by the same runtime code, so serial and parallel renders share every code path that computes
audio (and are bit-identical: a node computes the same numbers whichever batch or part it is in)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from engine.executor import BlockEvaluator, Incident, logged_incidents
from engine.plan import Schedule, build_schedule
from engine.samples import SampleBank
from graph.kinds import KINDS
from graph.partition import Part, partition
from graph.signal_graph import SignalGraph
from graph.units import unit_graph
from workers import Runtime, SharedArena, Task

LOG_CAPACITY = 16  # incidents a part can report to the master


@dataclass
class PartRuntime:
    parts: list[Part]
    schedules: list[Schedule]
    evaluators: list[BlockEvaluator]
    runtime: Runtime
    sinks: list[int]
    slots: np.ndarray  # [ring, handoff rows, span]: the rows that cross between parts and to the master
    handoff_row: dict[int, int]  # arena row -> its row in the slots
    arenas: list[SharedArena]
    logs: np.ndarray  # [parts, 1 + 2 * LOG_CAPACITY]

    @property
    def schedule(self) -> Schedule:
        """The layout every part shares (rows, outputs)."""
        return self.schedules[0]

    def output_rows(self) -> dict[int, tuple[int, int]]:
        """Output channel -> the slot rows of its left and right, where the master reads them."""
        return {ch: (self.handoff_row[l], self.handoff_row[r]) for ch, (l, r) in self.schedule.output_rows.items()}

    def incidents(self) -> list[Incident]:
        """What the parts contained, wherever they ran (read from the shared logs)."""
        found = [incident for log in self.logs for incident in logged_incidents(log, self.schedule)]
        return sorted(found, key=lambda i: i.sample)

    def close(self) -> None:
        try:
            self.runtime.stop(raise_errors=False)
        finally:
            self._forget_shared_views()
            for arena in self.arenas:
                arena.close()
                arena.unlink()

    def _forget_shared_views(self) -> None:
        """Drop every view of the shared arenas (the logs are kept as a copy, for `incidents`), so closing an
        arena unmaps it and closes its descriptor now, not at some later garbage collection: a long
        `play --watch` session would pile them up."""
        if not self.arenas:
            return
        self.logs = np.array(self.logs)
        self.slots = np.zeros((0,) + self.slots.shape[1:], dtype=self.slots.dtype)
        for evaluator in self.evaluators:
            evaluator.ring = evaluator.log = None


def build_parts(
    graph: SignalGraph,
    sr: int,
    block: int,
    workers: int,
    ring: int,
    samples: Callable[[], SampleBank],
    step_length: Callable[[int], int],
    origin: list[int] | None = None,
    span: int = 1,
) -> PartRuntime:
    """Parts, their evaluators and the runtime (not started). A runtime step is `span` blocks: each task
    computes that many blocks in a row per step, so what a step costs beyond the work (a Python call per
    part, a handoff, the master's mix) is paid once per `span` blocks. `step_length(k)` is the length of step
    k in samples (at most span * block). `origin[0]` (read per step; default 0) is the absolute sample where
    step 0 starts, so a program can start mid-song on the pattern clock (live reloading); set it before the
    runtime forks."""
    ug = unit_graph(graph, sr)
    parts = partition(ug, workers) if workers > 1 else []
    if len(parts) <= 1:  # one part (or none: a constant program) runs in-process, like one worker
        parts, workers = [Part(0, "all", list(ug.order), 0.0)], 1
    if workers == 1:
        ring = 1  # in-process, step after step: one slot
    schedules = [build_schedule(graph, sr, block, only=set(p.units), ug=ug) for p in parts]
    layout = schedules[0]

    # A part exports the rows that another part or the master reads, and imports what it reads of others'.
    row_owner = {
        s.node_row[n] + k: i
        for i, s in enumerate(schedules)
        for n in s.order
        for k in range(KINDS[graph.nodes[n].kind].outputs)
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
    # Only those rows cross, through ring slots of `span` blocks; every part computes in one private arena
    # of block rows per process (each forked worker gets its own copy on write), which stays in the cache.
    # Parts of one process may share it: a part writes each of its rows before reading it in every block,
    # and what it reads of others is copied in first.
    handoff = sorted(set(outputs).union(*exported))
    handoff_row = {row: i for i, row in enumerate(handoff)}
    shared = workers > 1
    shape = (ring, len(handoff), span * block)
    arena = SharedArena(shape, dtype=np.float64) if shared else None
    slots = arena.array if shared else np.zeros(shape, dtype=np.float64)
    for value, row in layout.const_rows.items():  # a constant output is read by the master from the slots
        if row in handoff_row:
            slots[:, handoff_row[row], :] = value
    log_arena = SharedArena((len(parts), 1 + 2 * LOG_CAPACITY), dtype=np.int64) if shared else None
    logs = log_arena.array if shared else np.zeros((len(parts), 1 + 2 * LOG_CAPACITY), dtype=np.int64)
    logs[:] = 0
    work = np.zeros(layout.arena_shape(), dtype=np.float64)
    bank: list[SampleBank] = []

    def shared_bank() -> SampleBank:  # one bank for every part, made (in the master) on first use
        if not bank:
            bank.append(samples())
        return bank[0]

    def crossing(rows: set[int]) -> np.ndarray:
        """[2, n]: arena rows and their slot rows."""
        ordered = sorted(rows)
        return np.array([ordered, [handoff_row[r] for r in ordered]], dtype=np.int64).reshape(2, -1)

    start = origin if origin is not None else [0]
    evaluators = [
        BlockEvaluator(s, work, shared_bank, log=logs[i], ring=slots, imports=crossing(imported[i]),
                       exports=crossing(exported[i]))
        for i, s in enumerate(schedules)
    ]

    def task(i: int) -> Task:
        evaluator = evaluators[i]

        def run(k: int, slot: int) -> None:
            evaluator.process(start[0] + k * span * block, step_length(k), slot)

        return Task(f"{i}: {parts[i].name}", run, tuple(parts[i].deps), parts[i].worker)

    sinks = sorted({row_owner[row] for row in outputs if row in row_owner}) or [len(parts) - 1]
    tasks = [task(i) for i in range(len(parts))]
    runtime = Runtime(tasks, max(1, workers), ring, sinks=sinks)
    arenas = [a for a in (arena, log_arena) if a is not None]
    return PartRuntime(parts, schedules, evaluators, runtime, sinks, slots, handoff_row, arenas, logs)
