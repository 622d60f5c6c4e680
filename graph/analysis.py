"""Graph analysis: what the outputs reach, strongly connected components, evaluation order and levels."""

from __future__ import annotations

from typing import Callable

from phonon.graph.signal_graph import SignalGraph


def node_inputs(graph: SignalGraph, node_id: int) -> list[int]:
    return [i for i in graph.nodes[node_id].inputs if isinstance(i, int)]


def reachable(graph: SignalGraph) -> set[int]:
    """Nodes the outputs depend on; everything else is dead and never evaluated."""
    seen: set[int] = set()
    stack = [i for pair in graph.outputs.values() for i in pair if isinstance(i, int)]
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(node_inputs(graph, n))
    return seen


def strongly_connected(nodes: set[int], inputs_of: Callable[[int], list[int]]) -> list[list[int]]:
    """Tarjan's algorithm (iterative) over `nodes`, edges from a node to `inputs_of(node)` (others ignored).
    Components come inputs first (a topological order of the condensed graph)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    components: list[list[int]] = []
    counter = 0
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(inputs_of(root)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            advanced = False
            for w in children:
                if w not in nodes:
                    continue
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(inputs_of(w))))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                components.append(sorted(component))
    return components


def levels(graph: SignalGraph, nodes: set[int]) -> dict[int, int]:
    """Longest distance from a source: nodes on the same level never depend on each other, so the engine
    may run all nodes of one kind on one level in a single kernel call. Requires an acyclic graph."""
    level: dict[int, int] = {}
    for component in strongly_connected(nodes, lambda n: node_inputs(graph, n)):  # inputs first
        (n,) = component
        level[n] = 1 + max((level[i] for i in node_inputs(graph, n) if i in nodes), default=-1)
    return level


def evaluation_order(graph: SignalGraph, nodes: set[int]) -> list[int]:
    """A deterministic topological order: by level, then by node id."""
    level = levels(graph, nodes)
    return sorted(nodes, key=lambda n: (level[n], n))
