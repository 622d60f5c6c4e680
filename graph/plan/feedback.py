"""Feedback loops: how each strongly connected component of the graph is evaluated exactly.

A component is evaluated in steps no longer than its shortest loop delay. Inside a step its nodes run in a
fixed order; a node that delays its input by at least the step ("split" node) runs in two phases: it
produces the step's output from what it has stored before anything else runs, and stores the step's input
after everything else ran. So a loop through `delay 0.1 ... 1.0` (a pure delay: mix 1) steps by up to
0.1 s and echoes exactly every 0.1 s, whatever the block size.

A loop with no pure delay on it gets an implicit one-sample delay on the back reference that closes it
(the `feedback` node the compiler made for the reference that closes the loop in source order) and is
stepped one sample at a time. A back reference that is not needed as a cut (its loops all pass through a
pure delay) is an alias: it reads the bus directly."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from phonon.graph.analysis import strongly_connected
from phonon.graph.kinds import KINDS
from phonon.graph.signal_graph import Input, SignalGraph


@dataclass
class Loop:
    """One strongly connected component and how to step it."""

    nodes: list[int]  # every node, in evaluation order within a step
    split: list[int]  # nodes run in two phases: output at the start of a step, input at its end
    step: int  # samples per step (before capping at the block size)
    loop_delay: int  # shortest loop delay in samples (1 when implicit)
    implicit: list[int] = field(default_factory=list)  # feedback nodes acting as one-sample delays
    buses: list[str] = field(default_factory=list)


@dataclass
class FeedbackPlan:
    loops: list[Loop]
    aliases: dict[int, Input]  # feedback node -> what it reads (a node or a constant)

    def resolve(self, x: Input) -> Input:
        while isinstance(x, int) and x in self.aliases:
            x = self.aliases[x]
        return x


def _pure_delay_samples(graph: SignalGraph, node_id: int, component: set[int], sr: int) -> int | None:
    """Minimum delay in samples of a delay node that can close a loop (wet only, parameters from outside the
    loop), or None when its output depends on its input without delay."""
    node = graph.nodes[node_id]
    if node.kind != "delay":
        return None
    time, feedback, mix = (node.inputs[KINDS["delay"].inputs.index(p)] for p in ("time", "feedback", "mix"))
    if mix != 1.0 or any(isinstance(p, int) and p in component for p in (time, feedback)):
        return None
    if isinstance(time, float):
        return max(1, int(math.floor(_clamped_delay_time(time) * sr + 1e-9)))
    return 1  # a time signal may be anything; the kernel never delays by less than one sample


def _clamped_delay_time(seconds: float) -> float:
    """A constant delay time as the delay kernel uses it: clamped to its parameter's range (so 1e300 or -1e308
    is the longest or shortest delay there is, not a loop step past any integer, or an OverflowError)."""
    param = next(p for f in KINDS["delay"].functions for p in f.params if p.name == "time")
    lo = param.lo if param.lo is not None else 0.0
    hi = param.hi if param.hi is not None else math.inf
    return min(max(seconds, lo), hi) if seconds == seconds else lo


def _components(graph: SignalGraph, nodes: set[int], skip: dict[int, set[int]]) -> tuple[list[list[int]], set[int]]:
    """Components of `nodes` ignoring the input ports in `skip`, and the nodes that still lie on a cycle."""

    def inputs_of(n: int) -> list[int]:
        ports = skip.get(n, ())
        return [x for p, x in enumerate(graph.nodes[n].inputs) if isinstance(x, int) and p not in ports]

    components = strongly_connected(nodes, inputs_of)
    cyclic = {n for c in components for n in c if len(c) > 1 or c[0] in inputs_of(c[0])}
    return components, cyclic


def plan_feedback(graph: SignalGraph, live: set[int], sr: int) -> FeedbackPlan:
    loops: list[Loop] = []
    aliases: dict[int, Input] = {}
    feedback_nodes = [n for n in live if graph.nodes[n].kind == "feedback"]
    _, on_cycles = _components(graph, live, {})
    for component in strongly_connected(live, lambda n: [x for x in graph.nodes[n].inputs if isinstance(x, int)]):
        if component[0] not in on_cycles:
            continue
        members = set(component)
        # Pure delays close loops without any extra latency: their signal input is not a dependency.
        delays = {n: d for n in component if (d := _pure_delay_samples(graph, n, members, sr)) is not None}
        skip = {n: {0} for n in delays}
        cut: list[int] = []
        residual, cyclic = _components(graph, members, skip)
        if cyclic:
            # Loops with no pure delay: their back references become one-sample delays.
            cut = sorted(n for n in cyclic if graph.nodes[n].kind == "feedback")
            skip.update({n: {0} for n in cut})
            residual, cyclic = _components(graph, members, skip)
            assert not cyclic, "every loop passes through a back reference"
        split = sorted(delays) + cut
        step = 1 if cut else min(delays.values())
        order = [c[0] for c in residual]
        buses = sorted({b for n in component for b in graph.nodes[n].buses})
        loops.append(Loop(order, split, step, 1 if cut else step, cut, buses))
    for n in feedback_nodes:
        if not any(n in loop.implicit for loop in loops):
            aliases[n] = graph.nodes[n].inputs[0]
    for loop in loops:
        loop.nodes = [n for n in loop.nodes if n not in aliases]
    return FeedbackPlan(loops, aliases)
