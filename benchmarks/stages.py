"""Where a program's render time goes, stage by stage, and what the fused runner and the Renderer add.

    python -m benchmarks.stages heavy extreme bus8x

For each workload (benchmarks/workloads.py) it prints, in microseconds per block of 512 (min of 7 rounds,
the variants alternated in one process):
- each stage's kernel alone (a lane kernel, a batch, a loop);
- the evaluator with the batched kernels, with the fused part runner, and the whole `Renderer` (one worker,
  tiered: the fused runner loaded), so the cost of the render loop around the kernels shows.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from benchmarks.workloads import all_workloads
from phonon.engine.binding import bind
from phonon.engine.executor import BlockEvaluator
from phonon.graph.plan.schedule import build_schedule
from phonon.engine.render import Renderer, RenderSettings
from phonon.graph.compiler import compile_program

BLOCK, BLOCKS, ROUNDS = 512, 100, 7


def _stage_call(stage, arena):
    bound = bind(stage)
    if bound is None:  # host-filled
        return None
    if bound.step is not None:  # a loop runner
        return lambda: bound.fn(arena, 0, BLOCK, bound.step, *bound.arrays)
    return lambda: bound.fn(arena, *bound.arrays, 0, BLOCK)


def _best(fn, rounds: int = ROUNDS) -> float:
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        best = min(best, (time.perf_counter() - t) / BLOCKS * 1e6)
    return best


def report(name: str, text: str) -> None:
    graph = compile_program(text, name)
    schedule = build_schedule(graph, 44100, BLOCK)
    arena = np.zeros(schedule.arena_shape())
    BlockEvaluator(schedule, arena).process(0, BLOCK)  # constants filled, kernels loaded
    print(f"{name}:")
    for stage in schedule.stages:
        call = _stage_call(stage, arena)
        if call is None:
            continue
        nodes = len(stage.nodes) if hasattr(stage, "nodes") else len(stage.members)
        us = _best(lambda: [call() for _ in range(BLOCKS)])
        print(f"  {getattr(stage, 'kind', 'loop'):14s} x{nodes:<5d} {us:8.1f} us/block")
    evaluators = {}
    for fused in (False, True):
        s = build_schedule(graph, 44100, BLOCK)
        ev = BlockEvaluator(s, np.zeros(s.arena_shape()))
        if fused:
            ev.fuse()
        ev.process(0, BLOCK)
        evaluators["fused" if fused else "batched"] = ev
    dest = np.zeros((BLOCK, 2))
    renderer = Renderer(graph, RenderSettings(block=BLOCK), None, 1, tiered=True)
    renderer.render_into(dest, BLOCK)
    renderer.tiers.wait()
    times: dict[str, float] = {}
    position = [BLOCK]
    for _ in range(ROUNDS):
        for label, ev in evaluators.items():
            def run(ev=ev):
                for _ in range(BLOCKS):
                    ev.process(position[0], BLOCK)
                    position[0] += BLOCK
            times[label] = min(times.get(label, float("inf")), _best(run, 1))
        times["renderer"] = min(times.get("renderer", float("inf")),
                                _best(lambda: [renderer.render_into(dest, BLOCK) for _ in range(BLOCKS)], 1))
    renderer.close()
    for label, us in times.items():
        print(f"  {label:20s} {us:8.1f} us/block  ({BLOCK / 44100 / (us * 1e-6):.1f}x real time)")


def main() -> int:
    workloads = all_workloads()
    for name in sys.argv[1:] or ["heavy", "extreme", "bus8x"]:
        report(name, workloads[name])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
