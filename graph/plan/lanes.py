"""Which nodes run in SIMD lanes (engine/kernels/chains.py): chains, and sums of chains.

A chain is a node whose first input is a node of a kind it pairs with (`LANE_CHAINS`, e.g. a saw feeding a
filter) and read by nothing else; many chains of one level run side by side, voices in SIMD lanes. A sum
(`mix`) that reads chains of one level, and otherwise only what an earlier level computed, is computed by
their lane kernel from its tile of outputs. The choice depends only on the graph (and on which units share
a part, which the graph fixes too), so every worker count runs the same lanes. The planner
(graph/plan/schedule.py) makes its stages from it, engine/binding.py the kernels' arguments; the cost model
costs lane nodes at their lane cost.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # units builds on this module (lane costs), so the types only
    from phonon.graph.plan.units import Unit, UnitGraph

# (first kind, second kind) pairs that a lane kernel runs (engine/kernels/chains.py: an oscillator into a filter).
LANE_CHAINS = {("saw", "svf"), ("square", "svf"), ("tri", "svf")}


def lane_nodes(ug: UnitGraph) -> set[int]:
    """Every node that runs in lanes when the whole program is one part."""
    chained = chains(ug, ug.order, readers(ug))
    return set(chained) | set(chained.values()) | set(sums(ug, ug.order, chained))


def readers(ug: UnitGraph) -> dict[int, int]:
    """How many inputs (outputs included) read each node, in the whole program."""
    readers: dict[int, int] = defaultdict(int)
    for n in ug.evaluated:
        for i in ug.inputs_of(n):
            readers[i] += 1
    for pair in ug.graph.outputs.values():
        for x in pair:
            if isinstance(p := ug.producer(x), int):
                readers[p] += 1
    return readers


def chains(ug: UnitGraph, units: list[Unit], readers: dict[int, int]) -> dict[int, int]:
    """The chains among `units` (one part) that a lane kernel runs: second link -> first link, where the
    first's only reader in the whole program (outputs included) is the second, and both are in this part.
    The choice depends only on the graph, so every worker count runs the same chains."""
    graph = ug.graph
    here = set(units)
    found = {}
    for u in units:
        if isinstance(u, tuple) or not graph.nodes[u].inputs:
            continue
        first = ug.producer(graph.nodes[u].inputs[0])
        if (
            isinstance(first, int)
            and first in here
            and (graph.nodes[first].kind, graph.nodes[u].kind) in LANE_CHAINS
            and readers[first] == 1
        ):
            found[u] = first
    return found


def sums(ug: UnitGraph, units: list[Unit], chained: dict[int, int]) -> dict[int, tuple[int, str]]:
    """The sums among `units` that the lane kernel of the chains they read computes: sum -> (level, kinds) of
    that kernel's chains (kinds as "saw>svf"). A sum qualifies when the chains it reads are of one level and
    one kind, so one lane kernel holds them all, and everything else it reads is computed on an earlier level
    (or is a constant), so all of it is ready when that kernel runs."""
    graph, level = ug.graph, ug.level
    found = {}
    for u in units:
        if isinstance(u, tuple) or graph.nodes[u].kind != "mix":
            continue
        producers = [p for p in (ug.producer(x) for x in graph.nodes[u].inputs) if isinstance(p, int)]
        stages = {(level[p], f"{graph.nodes[chained[p]].kind}>{graph.nodes[p].kind}") for p in producers if p in chained}
        if len(stages) == 1:
            stage = stages.pop()
            if all(p in chained or level[ug.unit(p)] < stage[0] for p in producers):
                found[u] = stage
    return found
