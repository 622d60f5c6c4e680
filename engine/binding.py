"""A schedule's stages bound to their code: each stage becomes the function the evaluator calls per block and
the arrays it passes (the schedule itself, graph/plan/schedule.py, is plain data).

- a batch: its kind's kernel, `(wiring, state)`;
- a chain stage: its lane kernel (engine/kernels/chains.py), its links' and sums' arrays and its scratch;
- a feedback loop: a generated runner (engine/fused.py) that steps the loop's kernels through the block,
  split kinds in their "read" and "write" phases.

Every kernel has the signature `kernel(arena, *arrays, start, stop)`; a loop runner is called as
`runner(arena, start, stop, step, *arrays)`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from phonon.engine.fused import loop_runner
from phonon.engine.kernels import SPLIT_KERNELS, load_all, load_chains
from phonon.graph.plan.schedule import NO_SUMS, ChainStage, LoopStage, Stage


@dataclass
class Bound:
    """A stage's function and the arrays passed to it after the arena; `step` is a loop's step (None for a
    kernel called once over the block)."""

    fn: Callable
    arrays: tuple
    step: int | None = None


def bind(stage: Stage) -> Bound | None:
    """The code that computes `stage`; None for a host-filled batch (patterns, voices: engine/voices.py)."""
    kernels = load_all()
    if isinstance(stage, LoopStage):
        calls, arrays = [], []
        for phase, b in stage.phases:
            calls.append(kernels[b.kind] if phase == "full" else SPLIT_KERNELS[b.kind][phase])
            arrays += [b.wiring, b.state]
        return Bound(loop_runner(calls), tuple(arrays), stage.loop.step)
    if isinstance(stage, ChainStage):
        chains = load_chains()
        sums = stage.sums if stage.sums is not None else NO_SUMS
        links = (a for b in stage.links for a in (b.wiring, b.state))
        wave = chains.WAVES[stage.links[0].kind]
        arrays = (
            stage.constant, *links, sums.wiring, sums.state, stage.source, stage.owned, stage.guarded, wave,
            *chains.osc_svf_scratch(len(stage.links[0].nodes)),
        )
        return Bound(chains.osc_svf, arrays)
    if stage.host_filled:
        return None
    return Bound(kernels[stage.kind], (stage.wiring, stage.state))
