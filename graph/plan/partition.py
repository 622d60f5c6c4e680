"""The partition plan: which units run together as one part, in which dependency stage, on which worker.

Parts follow the program's structure, never the worker count: each unit belongs with the *anchors* it
feeds (outputs, and the partial sums a wide sum was split into): what only one output uses goes with that
output, what several use becomes a shared part of an earlier stage, and each partial sum of a wide sum is
a part of its own, so a single heavy bus spreads over workers too. Parts then go to workers by estimated
cost, longest first within each stage (feedback loops are units, so they always stay whole), and the parts
one worker runs in one stage become one task: one call per worker, stage and block instead of one per part
(parts of one stage never read each other, and a node computes the same numbers in any part)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from phonon.graph.signal_graph import PARTIAL_SUM, SignalGraph
from phonon.graph.plan.units import Unit, UnitGraph


@dataclass
class Part:
    index: int
    name: str
    units: list[Unit]
    cost_ns: float  # estimated per sample
    deps: list[int] = field(default_factory=list)  # parts whose outputs this one reads
    stage: int = 0
    worker: int = 0


def _anchor_name(graph: SignalGraph, ug: UnitGraph, u: Unit, outputs: dict[Unit, list[int]]) -> str:
    if u in outputs:
        return "+".join("out" if ch == 0 else f"o{ch}" for ch in outputs[u])
    node = graph.nodes[ug.members[u][0]]
    bus = f"~{node.buses[0]} " if node.buses else ""
    return f"{bus}{node.label} #{node.id}"


def parts_for(ug: UnitGraph, workers: int) -> list[Part]:
    """The parts the runtime runs on `workers` processes: the partition when it has more than one part, else
    one part with everything, run in-process as with one worker (also for a constant program: no units)."""
    parts = partition(ug, workers) if workers > 1 else []
    if len(parts) > 1:
        return parts
    return [Part(0, "all", list(ug.order), sum(ug.cost(u) for u in ug.order))]


def partition(ug: UnitGraph, workers: int) -> list[Part]:
    """The plan the runtime runs on `workers` processes: the program's parts, assigned and merged."""
    return assign(structure(ug), workers)


def structure(ug: UnitGraph) -> list[Part]:
    """The program's parts in (stage, first unit) order, before any assignment to workers."""
    graph = ug.graph
    outputs: dict[Unit, list[int]] = defaultdict(list)
    for ch, pair in sorted(graph.outputs.items()):
        for x in dict.fromkeys(pair):
            if isinstance(p := ug.producer(x), int):
                outputs[ug.unit(p)].append(ch)
    anchors = set(outputs) | {
        u for u in ug.order if not isinstance(u, tuple) and graph.nodes[u].label == PARTIAL_SUM
    }
    consumers: dict[Unit, set[Unit]] = defaultdict(set)
    for u in ug.order:
        for d in ug.unit_inputs(u):
            consumers[d].add(u)
    feeds: dict[Unit, frozenset] = {}
    for u in reversed(ug.order):  # consumers first
        if u in anchors:
            feeds[u] = frozenset([u])
        else:
            feeds[u] = frozenset().union(*(feeds[c] for c in consumers[u]))

    def feeds_output(u: Unit) -> str:
        """The output(s) a partial sum ends up in, for naming its part."""
        seen, todo = set(), [u]
        while todo:
            v = todo.pop()
            if v in outputs:
                return _anchor_name(graph, ug, v, outputs)
            seen.add(v)
            todo.extend(c for c in sorted(consumers[v], key=str) if c not in seen)
        return "?"

    partial_index: dict[Unit, str] = {}
    for u in ug.order:
        if u in anchors and u not in outputs:
            target = feeds_output(u)
            count = sum(1 for v in partial_index.values() if v.startswith(target + " "))
            partial_index[u] = f"{target} partial sum {count + 1}"

    groups: dict[frozenset, list[Unit]] = defaultdict(list)
    for u in ug.order:
        groups[feeds[u]].append(u)
    part_of: dict[Unit, int] = {}
    parts: list[Part] = []
    # Parts in the order of their first unit: a deterministic topological order.
    for key, units in sorted(groups.items(), key=lambda kv: ug.order.index(kv[1][0])):
        names = sorted(partial_index.get(a) or _anchor_name(graph, ug, a, outputs) for a in key)
        name = names[0] if len(names) == 1 else "shared by " + ", ".join(names)
        part = Part(len(parts), name, units, sum(ug.cost(u) for u in units))
        parts.append(part)
        for u in units:
            part_of[u] = part.index
    deps = {p.index: sorted({part_of[d] for u in p.units for d in ug.unit_inputs(u)} - {p.index}) for p in parts}
    stage: dict[int, int] = {}
    remaining = [p.index for p in parts]
    while remaining:  # stages by fixed point (parts are few)
        for i in list(remaining):
            if all(d in stage for d in deps[i]):
                stage[i] = 1 + max((stage[d] for d in deps[i]), default=-1)
                remaining.remove(i)
    # Renumber in (stage, original order): every process can then run its parts in index order.
    order = sorted(parts, key=lambda p: (stage[p.index], p.index))
    renumber = {p.index: i for i, p in enumerate(order)}
    for p in order:
        p.deps = sorted(renumber[d] for d in deps[p.index])
        p.stage = stage[p.index]
    for p in order:
        p.index = renumber[p.index]
    return order


def assign(parts: list[Part], workers: int) -> list[Part]:
    """Parts to workers by estimated cost, longest first per stage; then the parts of one worker and stage
    merged into one (same stage: they never read each other, so no order between them is lost)."""
    load = [0.0] * max(1, workers)
    worker: dict[int, int] = {}
    for part in sorted(parts, key=lambda p: (p.stage, -p.cost_ns, p.index)):
        worker[part.index] = min(range(len(load)), key=lambda w: (load[w], w))
        load[worker[part.index]] += part.cost_ns
    groups: dict[tuple[int, int], list[Part]] = defaultdict(list)
    for p in parts:  # parts are in (stage, index) order, so groups come out in a topological order
        groups[p.stage, worker[p.index]].append(p)
    merged_index = {p.index: i for i, group in enumerate(groups.values()) for p in group}
    merged = []
    for i, ((stage, w), group) in enumerate(groups.items()):
        deps = sorted({merged_index[d] for p in group for d in p.deps})
        name = _merged_name([p.name for p in group])
        units = [u for p in group for u in p.units]
        merged.append(Part(i, name, units, sum(p.cost_ns for p in group), deps, stage, w))
    return merged


def _merged_name(names: list[str]) -> str:
    """"out partial sums 1, 5, 7, o2" for ["out partial sum 1", "out partial sum 5", "out partial sum 7", "o2"]."""
    sums: dict[str, list[str]] = defaultdict(list)
    others = []
    for name in names:
        target, sep, number = name.rpartition(" partial sum ")
        if sep and number.isdigit():
            sums[target].append(number)
        else:
            others.append(name)
    merged = [f"{t} partial sum{'s' if len(ns) > 1 else ''} {', '.join(ns)}" for t, ns in sums.items()]
    return "; ".join(merged + others)
