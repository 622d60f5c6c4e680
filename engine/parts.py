"""A spread program (graph/plan/spread.py) made runnable: one evaluator per part, all over the ring slots of
one ensemble of processes (workers/ensemble.py), and the task that runs each part step after step. With one
worker the whole program is one part run in-process by the same runtime code, so serial and parallel renders
share every code path that computes audio (and are bit-identical: a node computes the same numbers whichever
batch or part it is in)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from phonon.engine.executor import BlockEvaluator, Incident, logged_incidents
from phonon.engine.kernels import load_numba_registries
from phonon.engine.samples import SampleBank
from phonon.graph.plan.partition import Part
from phonon.graph.plan.schedule import Schedule
from phonon.graph.plan.spread import Spread, spread
from phonon.graph.signal_graph import SignalGraph
from phonon.workers import Task
from phonon.workers.ensemble import Ensemble

LOG_CAPACITY = 16  # incidents a part can report to the master


@dataclass
class PartRuntime:
    spread: Spread
    evaluators: list[BlockEvaluator]
    ensemble: Ensemble

    @property
    def parts(self) -> list[Part]:
        return self.spread.parts

    @property
    def schedules(self) -> list[Schedule]:
        return self.spread.schedules

    @property
    def schedule(self) -> Schedule:
        """The layout every part shares (rows, outputs)."""
        return self.spread.layout

    def local(self) -> set[int]:
        """The parts that run in this process (the master is worker 0), whose evaluators it may swap."""
        return {i for i, p in enumerate(self.parts) if self.ensemble.workers == 1 or p.worker == 0}

    def output_rows(self) -> dict[int, tuple[int, int]]:
        """Output channel -> the slot rows of its left and right, where the master reads them."""
        return self.spread.output_rows()

    def incidents(self) -> list[Incident]:
        """What the parts contained, wherever they ran (read from the logs they share with the master)."""
        found = [incident for log in self.ensemble.logs for incident in logged_incidents(log, self.schedule)]
        return sorted(found, key=lambda i: i.sample)

    def close(self) -> None:
        """Stop the processes and release the shared memory now: no evaluator keeps a view of it (a long
        `play --watch` session would pile up mappings until some later garbage collection)."""
        for evaluator in self.evaluators:
            evaluator.ring = evaluator.log = None
        self.ensemble.close()


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
    """Parts, their evaluators and the ensemble (not started). A runtime step is `span` blocks: each task
    computes that many blocks in a row per step, so what a step costs beyond the work (a Python call per
    part, a handoff, the master's mix) is paid once per `span` blocks. `step_length(k)` is the length of step
    k in samples (at most span * block). `origin[0]` (read per step; default 0) is the absolute sample where
    step 0 starts, so a program can start mid-song on the pattern clock (live reloading); set it before the
    ensemble starts."""
    plan = spread(graph, sr, block, workers)
    load_numba_registries()  # before the workers fork, for every program (a constant one still mixes with numba)
    ring = ring if plan.workers > 1 else 1  # in-process, step after step: one slot
    ensemble = Ensemble((ring, len(plan.handoff), span * block), (len(plan.parts), 1 + 2 * LOG_CAPACITY), plan.workers)
    for row, value in plan.constant_slot_rows().items():
        ensemble.slots[:, row, :] = value
    # Every part computes in one private arena of block rows per process (each forked worker gets its own copy
    # on write), which stays in the cache. Parts of one process may share it: a part writes each of its rows
    # before reading it in every block, and what it reads of others is copied in first.
    work = np.zeros(plan.layout.arena_shape(), dtype=np.float64)
    bank: list[SampleBank] = []

    def shared_bank() -> SampleBank:  # one bank for every part, made (in the master) on first use
        if not bank:
            bank.append(samples())
        return bank[0]

    evaluators = [
        BlockEvaluator(s, work, shared_bank, log=ensemble.logs[i], ring=ensemble.slots, imports=plan.imports[i],
                       exports=plan.exports[i])
        for i, s in enumerate(plan.schedules)
    ]
    start = origin if origin is not None else [0]

    def task(i: int) -> Task:
        evaluator, part = evaluators[i], plan.parts[i]

        def run(k: int, slot: int) -> None:
            evaluator.process(start[0] + k * span * block, step_length(k), slot)

        return Task(f"{i}: {part.name}", run, tuple(part.deps), part.worker)

    ensemble.launch([task(i) for i in range(len(plan.parts))], plan.sinks)
    return PartRuntime(plan, evaluators, ensemble)
