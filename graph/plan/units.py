"""The units of evaluation: every live node that does work, with each feedback loop taken as one unit.

Views are not units: a feedback reference that is only an alias reads its bus's rows, and a `channel` node
names the second output row of a two-output node. `producer` resolves a view to the node whose rows hold
it. Units form a DAG; `level` is the longest distance from a source, so units on one level never depend on
each other."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from phonon.graph.analysis import reachable, strongly_connected
from phonon.graph.plan.feedback import FeedbackPlan, plan_feedback
from phonon.graph.plan.lanes import lane_nodes
from phonon.graph.signal_graph import Input, SignalGraph

Unit = int | tuple[str, int]  # a node id, or ("loop", index into feedback.loops)


@dataclass
class UnitGraph:
    graph: SignalGraph
    feedback: FeedbackPlan
    evaluated: list[int]  # nodes that do work (views excluded), by id
    loop_of: dict[int, int]
    level: dict[Unit, int] = field(default_factory=dict)
    members: dict[Unit, list[int]] = field(default_factory=dict)
    order: list[Unit] = field(default_factory=list)  # by level, then deterministically
    node_cost: dict[int, float] = field(default_factory=dict)  # estimated ns per sample, lanes included

    def producer(self, x: Input) -> Input:
        """The evaluated node (or constant) whose rows hold x."""
        x = self.feedback.resolve(x)
        while isinstance(x, int) and self.graph.nodes[x].kind == "channel":
            x = self.feedback.resolve(self.graph.nodes[x].inputs[0])
        return x

    def inputs_of(self, n: int) -> list[int]:
        return [r for x in self.graph.nodes[n].inputs if isinstance(r := self.producer(x), int)]

    def unit(self, n: int) -> Unit:
        return ("loop", self.loop_of[n]) if n in self.loop_of else n

    def cost(self, u: Unit) -> float:
        """Estimated ns per sample of a unit."""
        return sum(self.node_cost[n] for n in self.members[u])

    def unit_inputs(self, u: Unit) -> set[Unit]:
        return {self.unit(i) for n in self.members[u] for i in self.inputs_of(n)} - {u}

    def nodes_in_order(self, units: list[Unit] | None = None) -> list[int]:
        """Nodes of the given units (all by default) in evaluation order; a loop's in its step order."""
        chosen = self.order if units is None else [u for u in self.order if u in set(units)]
        return [n for u in chosen for n in (self.feedback.loops[u[1]].nodes if isinstance(u, tuple) else [u])]


def unit_graph(graph: SignalGraph, sr: int) -> UnitGraph:
    live = reachable(graph)
    fplan = plan_feedback(graph, live, sr)
    views = {n for n in live if n in fplan.aliases or graph.nodes[n].kind == "channel"}
    evaluated = [n for n in sorted(live) if n not in views]
    loop_of = {n: i for i, loop in enumerate(fplan.loops) for n in loop.nodes}
    ug = UnitGraph(graph, fplan, evaluated, loop_of)
    members: dict[Unit, list[int]] = defaultdict(list)
    for n in evaluated:
        members[ug.unit(n)].append(n)
    ug.members = dict(members)
    for component in strongly_connected(set(evaluated), ug.inputs_of):  # inputs first; a loop is one component
        u = ug.unit(component[0])
        ug.level[u] = 1 + max((ug.level[d] for d in ug.unit_inputs(u)), default=-1)
    ug.order = sorted(ug.level, key=lambda u: (ug.level[u], str(u)))
    in_lanes = lane_nodes(ug)
    ug.node_cost = {n: graph.nodes[n].cost(lanes=n in in_lanes) for n in evaluated}
    return ug
