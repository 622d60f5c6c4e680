"""Scaling you can read before you buy the cores: predicted time per block and speedup for a worker count.

The model replays what the runtime (workers/runtime.py) does with the partition plan, on estimated costs:
every process runs its parts in index order, step after step (a step is `span` blocks), a part that reads
another process's part one step behind it (the runtime's lag); a part starts when its inputs for that step
are published and when its ring slot is free again (consumers and, for output parts, the master are done
with the step `ring` earlier); there is no barrier per stage. Process 0 is the master: it runs its own
parts and, once an output's parts have published a step, mixes it into the master. Each part costs its
nodes' `cost_ns` per sample plus fixed overheads per block and per step, so a program of many tiny parts
does not look free. One worker is modelled as the runtime runs it: the whole program as one part.

Per step, with B samples per block and S blocks per step:
  part       = S (cost_ns * B + PART_BLOCK + BATCH * kernel calls + LOOP_CALL * loop step calls)
               + PART_STEP + HANDOFF_CPU * inputs from other processes
  master mix = MASTER_STEP + MASTER_SAMPLE * S * B + HANDOFF_CPU * output parts on other processes
  a step crossing processes is seen HANDOFF_LATENCY later
  predicted(N) = steady-state time between the master's mixes per block, never below the busiest process's
  speedup(N) = predicted(1) / predicted(N); work / critical path (longest chain of part costs) bounds what
  splitting one block can give.

The constants are measured assumptions (2-core dev machine, 2026-11; see DESIGN.md "Performance facts"),
not truths: the model is meant for comparing worker counts for one program, not for absolute timings.
It assumes a quiet machine with a free core per worker; a busy one only does worse.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

from phonon.graph.plan.partition import Part, parts_for, structure
from phonon.graph.signal_graph import SignalGraph
from phonon.graph.plan.units import UnitGraph, unit_graph

# Per part and block: the evaluator's loop, the copies of its imports and exports, its non-finite check ...
OVERHEAD_NS_PER_PART_BLOCK = 1500.0
# ... and per step: the call into the part and the runtime's readiness check and publish (2-4 us runtime
# bookkeeping per task in workers.bench_handoff).
OVERHEAD_NS_PER_PART_STEP = 3000.0
# Per batch (one kernel call: a kind on a level, or one loop) and block: a jitted call from Python costs
# 0.3-0.5 us plus about 0.1 us per array argument (DESIGN.md).
OVERHEAD_NS_PER_BATCH_BLOCK = 1000.0
# Per loop step call inside a feedback loop that is evaluated in steps shorter than the block
# (the same figure as engine/report.py's PER_STEP_CALL_NS).
OVERHEAD_NS_PER_LOOP_CALL = 4.0
# A block crossing processes (a dependency, or an output read by the master): latency until the reader
# sees it (spin handoff 2-4 us one way, semaphore wake-up 7 us or more) ...
HANDOFF_LATENCY_NS = 5000.0
# ... and the reader's CPU time to check and acknowledge it.
HANDOFF_CPU_NS = 1000.0
# The master's own work per step: waiting for the outputs, mixing them, handing the step on (measured 19 us
# per step outside part code for a one-node program on 1 worker, steps of one block), and per sample mixed.
MASTER_NS_PER_STEP = 15000.0
MASTER_NS_PER_SAMPLE = 4.0
# Below this much estimated work per block one process renders the program over 100x real time, and what a
# second process could save is smaller than the wake-up jitter of processes on a busy machine.
LIGHT_NS_PER_BLOCK = 100_000.0

RING = 4  # steps a part may run ahead of its consumers (engine/render.py RING_OFFLINE)
SPAN = 8  # blocks per step (engine/render.py SPAN_OFFLINE)
DEFAULT_COUNTS = (1, 2, 4, 8, 16, 32, 64)


def total_cost(parts: list[Part]) -> float:
    """Estimated work of the whole program, ns per sample: what one core must do without any parallelism."""
    return sum(p.cost_ns for p in parts)


def critical_path(parts: list[Part]) -> float:
    """Longest chain of part costs through dependencies, ns per sample: one block can never be computed
    faster than this, however many workers (without running blocks ahead)."""
    longest: dict[int, float] = {}
    for p in sorted(parts, key=lambda p: (p.stage, p.index)):  # deps have lower stages
        longest[p.index] = p.cost_ns + max((longest[d] for d in p.deps), default=0.0)
    return max(longest.values(), default=0.0)


def balance(parts: list[Part], workers: int) -> float:
    """Max worker load / mean worker load of a plan (1.0 is perfect; idle workers count towards the mean)."""
    load = [0.0] * max(1, workers)
    for p in parts:
        load[p.worker] += p.cost_ns
    mean = sum(load) / len(load)
    return max(load) / mean if mean > 0 else 1.0


def plan(ug: UnitGraph, workers: int) -> list[Part]:
    """The parts the runtime runs for this worker count (none for a constant program: nothing to cost)."""
    return [p for p in parts_for(ug, workers) if p.units]


def _part_overhead_ns(ug: UnitGraph, part: Part, block: int) -> float:
    """Fixed cost per block of running one part: its block loop, its kernel calls, and loop steps."""
    batches: set[object] = set()
    step_calls = 0
    for u in part.units:
        if isinstance(u, tuple):
            batches.add(u)
            loop = ug.feedback.loops[u[1]]
            step = max(1, min(loop.step, block))
            if step < block:
                step_calls += math.ceil(block / step) * (len(loop.nodes) + len(loop.split))
        else:
            batches.add((ug.level[u], ug.graph.nodes[u].kind))
    return (
        OVERHEAD_NS_PER_PART_BLOCK
        + OVERHEAD_NS_PER_BATCH_BLOCK * len(batches)
        + OVERHEAD_NS_PER_LOOP_CALL * step_calls
    )


def _sinks(ug: UnitGraph, parts: list[Part]) -> list[int]:
    """Parts whose rows the master mixes (the producers of the outputs)."""
    part_of = {u: p.index for p in parts for u in p.units}
    producers = (ug.producer(x) for pair in ug.graph.outputs.values() for x in pair)
    return sorted({part_of[ug.unit(n)] for n in producers if isinstance(n, int) and ug.unit(n) in part_of})


def lags(parts: list[Part], ring: int = RING) -> dict[int, int]:
    """The runtime's lag of each part (workers/runtime.py): one step behind its latest producer on another
    process; none when the ring cannot hold the largest."""
    by_index = {p.index: p for p in parts}
    lag: dict[int, int] = {}
    for p in sorted(parts, key=lambda p: (p.stage, p.index)):  # deps have lower stages
        lag[p.index] = max((lag[d] + (by_index[d].worker != p.worker) for d in p.deps), default=0)
    return lag if max(lag.values(), default=0) < ring else {i: 0 for i in lag}


def simulate(
    ug: UnitGraph, parts: list[Part], block: int = 512, ring: int = RING, span: int = SPAN, steps: int | None = None
) -> float:
    """Predicted wall time per block (ns) of running `parts` as assigned (part.worker), in steady state.

    A discrete-event replay of the runtime's rule: in order per process, pass after pass (a part with lag L
    runs step i - L in pass i), a part of step k waits for its deps' step k (plus a handoff when they ran
    elsewhere) and for its consumers' step k - ring; the master (process 0) mixes step k once every output
    part has published it, and in between runs its own parts whenever they are ready (it takes whichever of
    the two can start first)."""
    steps = steps or 4 * ring + 8
    by_index = {p.index: p for p in parts}
    worker = {p.index: p.worker for p in parts}
    lag = lags(parts, ring)
    duration: dict[int, float] = {}
    consumers: dict[int, list[int]] = defaultdict(list)
    for p in parts:
        cross = sum(1 for d in p.deps if worker[d] != p.worker)
        duration[p.index] = (
            span * (p.cost_ns * block + _part_overhead_ns(ug, p, block))
            + OVERHEAD_NS_PER_PART_STEP
            + HANDOFF_CPU_NS * cross
        )
        for d in p.deps:
            consumers[d].append(p.index)
    sinks = _sinks(ug, parts)
    mix_ns = (
        MASTER_NS_PER_STEP + MASTER_NS_PER_SAMPLE * span * block + HANDOFF_CPU_NS * sum(1 for t in sinks if worker[t] != 0)
    )
    MIX = -1  # the master's mix, as a pseudo-part on process 0: it reads the sinks
    worker[MIX], duration[MIX] = 0, mix_ns
    waits_for = {t: [(d, 0) for d in by_index[t].deps] + [(c, ring) for c in consumers[t]] for t in by_index}
    waits_for[MIX] = [(t, 0) for t in sinks]
    for t in sinks:
        waits_for[t].append((MIX, ring))  # the master frees an output's ring slot once it mixed the step

    queues: dict[int, list[int]] = defaultdict(list)  # process -> its parts in index order
    for p in sorted(parts, key=lambda p: p.index):
        queues[p.worker].append(p.index)
    queues.setdefault(0, [])
    top = max(lag.values(), default=0)
    items = {  # each process's (part, step) in the order it runs them
        w: iter([(t, i - lag[t]) for i in range(steps + top) for t in queue if 0 <= i - lag[t] < steps])
        for w, queue in queues.items()
    }
    free = {w: 0.0 for w in queues}
    done: dict[tuple[int, int], float] = {}  # (part, step) -> finish time
    ready: dict[tuple[int, int], float] = {}  # items whose inputs are all scheduled -> earliest start
    blocked: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)  # missing -> items waiting

    def check(t: int, k: int) -> None:
        """Note when item (t, k) may start, or park it on the first thing it waits for not yet scheduled."""
        at = 0.0
        for d, behind in waits_for[t]:
            if k - behind < 0:
                continue
            if (d, k - behind) not in done:
                blocked[d, k - behind].append((t, k))
                return
            at = max(at, done[d, k - behind] + (HANDOFF_LATENCY_NS if worker[d] != worker[t] else 0.0))
        ready[t, k] = at

    def advance(w: int) -> None:
        item = next(items[w], None)
        if item is not None:
            check(*item)

    for w in queues:
        advance(w)
    check(MIX, 0)
    mixes = 0
    while mixes < steps:
        start, (t, k) = min((max(free[worker[t]], at), (t, k)) for (t, k), at in ready.items())  # MIX first on ties
        del ready[t, k]
        w = worker[t]
        free[w] = done[t, k] = start + duration[t]
        if t == MIX:
            mixes += 1
            if mixes < steps:
                check(MIX, mixes)
        else:
            advance(w)
        for waiting in blocked.pop((t, k), []):
            check(*waiting)
    # Steady state: the second half's average, but never below the busiest process's work per step (the
    # run-ahead slack of early steps can take longer than the replay to use up).
    busy = {w: sum(duration[t] for t in queue) + (mix_ns if w == 0 else 0.0) for w, queue in queues.items()}
    half = steps // 2
    per_step = max(max(busy.values()), (done[MIX, steps - 1] - done[MIX, half - 1]) / (steps - half))
    return per_step / span


@dataclass(frozen=True)
class Scaling:
    """Predicted scaling of one program: costs per sample, predicted ns per block per worker count."""

    total_ns: float  # estimated work per sample
    critical_ns: float  # longest dependency chain of parts per sample
    block: int
    ns_per_block: dict[int, float]
    balance: dict[int, float]

    @property
    def amdahl(self) -> float:
        """total / critical path: the most parallelism the parts allow within one block."""
        return self.total_ns / self.critical_ns if self.critical_ns > 0 else 1.0

    def ns_per_sample(self, workers: int) -> float:
        return self.ns_per_block[workers] / self.block

    def speedup(self, workers: int, base: int = 1) -> float:
        """predicted(base) / predicted(workers)."""
        t = self.ns_per_block[workers]
        return self.ns_per_block[base] / t if t > 0 else 1.0


def _as_ug(graph_or_ug: SignalGraph | UnitGraph, sr: int) -> UnitGraph:
    return graph_or_ug if isinstance(graph_or_ug, UnitGraph) else unit_graph(graph_or_ug, sr)


def scaling(
    graph_or_ug: SignalGraph | UnitGraph,
    counts: Iterable[int] = DEFAULT_COUNTS,
    sr: int = 44100,
    block: int = 512,
    ring: int = RING,
) -> Scaling:
    """Predict every worker count in `counts` (1 is always added: speedups are against it)."""
    ug = _as_ug(graph_or_ug, sr)
    counts = sorted(set(counts) | {1})
    parts = structure(ug)  # the program's parts, before they are assigned to workers and merged
    times, balances = {}, {}
    for n in counts:
        assigned = plan(ug, n)
        times[n] = simulate(ug, assigned, block, ring)
        balances[n] = balance(assigned, n)
    return Scaling(total_cost(parts), critical_path(parts), block, times, balances)


def predicted_speedup(graph_or_ug: SignalGraph | UnitGraph, workers: int, sr: int = 44100, block: int = 512) -> float:
    """predicted(1) / predicted(workers)."""
    return scaling(graph_or_ug, [workers], sr, block).speedup(workers)


def suggested_workers(graph_or_ug: SignalGraph | UnitGraph, cores: int, sr: int = 44100, block: int = 512) -> int:
    """The smallest worker count whose predicted speedup is within 10% of the best up to `cores`; 1 for a
    light program, whose whole block costs less than coordinating processes could win back."""
    ug = _as_ug(graph_or_ug, sr)
    parts = structure(ug)
    if cores <= 1 or len(parts) <= 1 or total_cost(parts) * block < LIGHT_NS_PER_BLOCK:
        return 1
    counts = range(1, min(cores, len(parts)) + 1)  # more workers than parts would idle
    s = scaling(ug, counts, sr, block)
    best = max(s.speedup(n) for n in counts)
    return next(n for n in counts if s.speedup(n) >= 0.9 * best)
