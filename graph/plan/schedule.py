"""Turn a SignalGraph (or the units of one part of it) into a schedule: an arena layout of block rows and the
stages that fill them, in order. Plain data: the engine binds each stage to its code (engine/binding.py).

Each evaluated node owns one arena row (two for a stereo kind) and each distinct constant one row (filled
once). Nodes outside feedback loops are batched: all nodes of one kind on one level form one stage, called
once per block (a level never depends on itself), so Python's cost per block grows with the number of
(kind, level) pairs, not with the number of nodes. Chains of nodes that run in lanes (graph/plan/lanes.py)
form one chain stage, with the sums of them it computes. Each feedback loop is one stage stepped through the
block in steps no longer than the loop's delay (graph/plan/feedback.py)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from phonon.graph.kinds import KINDS
from phonon.graph.plan import lanes
from phonon.graph.plan.feedback import FeedbackPlan, Loop
from phonon.graph.plan.units import Unit, UnitGraph, unit_graph
from phonon.graph.signal_graph import Input, SignalGraph


@dataclass
class Batch:
    """Nodes of one kind evaluated together by one call of the kind's kernel."""

    kind: str
    nodes: list[int]
    wiring: np.ndarray  # int64 [batch, 1 + inputs]
    state: np.ndarray  # float64 [batch, width]: [sr, *consts, *mutable]
    level: int
    first_mutable: int = 0  # column where the mutable state starts (for resets)

    @property
    def host_filled(self) -> bool:
        """Filled by the host from pattern events (patterns, voices), not by a kernel."""
        return KINDS[self.kind].host_filled


@dataclass
class LoopStage:
    """A feedback loop: its nodes (one Batch each), stepped together through the block. `phases` is the call
    order within a step: the "read" half of each split node (its output, from stored state), the other nodes
    whole ("full"), then the "write" half of each split node (consuming its input)."""

    loop: Loop
    members: list[Batch]
    phases: list[tuple[str, Batch]]
    level: int


@dataclass
class ChainStage:
    """Chains of nodes run link after link by one lane kernel, many chains side by side: row i of each link's
    batch is chain i. It may also compute sums of its chains (`sums`): `source[s, 1 + k]` is the chain that
    input k of sum s reads (-1: another row)."""

    kind: str  # the links' kinds, e.g. "saw>svf", and ">mix" when it also computes sums of them
    links: list[Batch]  # one batch per link
    level: int
    sums: Batch | None = None
    source: np.ndarray | None = None
    owned: np.ndarray | None = None  # per chain: read only by the sums here, so its rows are never written
    guarded: np.ndarray | None = None  # per chain: silence its non-finite samples in the kernel (set at run time)
    constant: np.ndarray | None = None  # per arena row: True for constant rows

    @property
    def members(self) -> list[Batch]:
        return self.links + ([self.sums] if self.sums is not None else [])

    @property
    def nodes(self) -> list[int]:
        return [n for b in self.members for n in b.nodes]


Stage = Batch | LoopStage | ChainStage

NO_SUMS = Batch("mix", [], np.zeros((0, 1), dtype=np.int64), np.zeros((0, 2)), 0)


@dataclass
class Schedule:
    graph: SignalGraph
    sr: int
    block: int
    rows: int
    node_row: dict[int, int]
    const_rows: dict[float, int]
    stages: list[Stage]
    output_rows: dict[int, tuple[int, int]]  # output channel -> arena rows of its left and right
    order: list[int]  # evaluated nodes, in evaluation order
    feedback: FeedbackPlan
    node_batch: dict[int, tuple[Batch, int]] = field(default_factory=dict)  # node -> (its batch, index)

    @property
    def batches(self) -> list[Batch]:
        """Every batch, loop and chain members included, in evaluation order."""
        return [b for s in self.stages for b in (s.members if isinstance(s, (LoopStage, ChainStage)) else [s])]

    def stage_of(self, node_id: int) -> int:
        """Index in `stages` of the stage that computes a node."""
        batch = self.node_batch[node_id][0]
        for i, stage in enumerate(self.stages):
            if stage is batch or batch in getattr(stage, "members", ()):
                return i
        raise KeyError(node_id)


    def unit_of(self, node_id: int) -> object:
        """The node itself, or ("loop", i) for a node of feedback loop i."""
        for i, loop in enumerate(self.feedback.loops):
            if node_id in loop.nodes:
                return ("loop", i)
        return node_id

    def loop_description(self, node_id: int) -> str:
        """" in the feedback loop ~a, ~b" for a node inside a loop, else ""."""
        unit = self.unit_of(node_id)
        if isinstance(unit, tuple):
            return " in the feedback loop " + ", ".join("~" + b for b in self.feedback.loops[unit[1]].buses)
        return ""

    def arena_shape(self) -> tuple[int, int]:
        return (self.rows, self.block)

    def fill_constants(self, arena: np.ndarray) -> None:
        """Constant rows are written once; kernels only ever read them."""
        for value, row in self.const_rows.items():
            arena[row, :] = value


def _make_batch(graph: SignalGraph, kind_name: str, members: list[int], level: int, row_of: Callable, sr: int) -> Batch:
    kind = KINDS[kind_name]
    width_in = max(len(graph.nodes[n].inputs) for n in members)
    wiring = np.full((len(members), 1 + width_in), -1, dtype=np.int64)
    n_consts = max(len(graph.nodes[n].consts) for n in members)
    state = np.zeros((len(members), 1 + n_consts + kind.state_size(sr)), dtype=np.float64)
    for i, n in enumerate(members):
        node = graph.nodes[n]
        wiring[i, 0] = row_of(n)
        for j, x in enumerate(node.inputs):
            wiring[i, 1 + j] = row_of(x)
        state[i, 0] = sr
        state[i, 1 : 1 + len(node.consts)] = node.consts
    return Batch(kind_name, members, wiring, state, level, 1 + n_consts)


def build_schedule(
    graph: SignalGraph, sr: int, block: int, only: set[Unit] | None = None, ug: UnitGraph | None = None
) -> Schedule:
    """The schedule of a whole program, or of the units `only` (one part of a parallel render). Rows are
    laid out for the whole program either way, so every part addresses the same arena the same way.
    `ug` is the program's unit graph when the caller already has it (one per part otherwise)."""
    ug = ug or unit_graph(graph, sr)
    fplan = ug.feedback
    all_order = ug.nodes_in_order()
    ordered_units = ug.order if only is None else [u for u in ug.order if u in only]
    order = ug.nodes_in_order(ordered_units)
    unit_level = ug.level

    node_row: dict[int, int] = {}
    node_rows = 0
    for n in all_order:  # a node with two outputs owns two consecutive rows
        node_row[n] = node_rows
        node_rows += graph.nodes[n].rows
    const_rows: dict[float, int] = {}

    def row_of(x: Input) -> int:
        x = fplan.resolve(x)
        if isinstance(x, int):
            node = graph.nodes[x]
            if node.kind == "channel":
                return row_of(node.inputs[0]) + int(node.consts[0])
            return node_row[x]
        if x not in const_rows:
            const_rows[x] = node_rows + len(const_rows)
        return const_rows[x]

    for x in [x for n in all_order for x in graph.nodes[n].inputs] + [x for pair in graph.outputs.values() for x in pair]:
        row_of(x)  # every constant gets its row now, so all parts agree on the layout
    output_rows = {ch: (row_of(left), row_of(right)) for ch, (left, right) in graph.outputs.items()}

    readers = lanes.readers(ug)
    chained = lanes.chains(ug, ordered_units, readers)  # second link -> first link
    summed = lanes.sums(ug, ordered_units, chained)  # sum -> (level, kinds) of the lane kernel that computes it
    firsts = set(chained.values())
    groups: dict[tuple[int, str], list[int]] = defaultdict(list)
    for u in ordered_units:
        if isinstance(u, tuple) or u in firsts or u in summed:
            continue
        kind = graph.nodes[u].kind
        if u in chained:
            kind = graph.nodes[chained[u]].kind + ">" + kind
        groups[(unit_level[u], kind)].append(u)

    stages: list[tuple[tuple, Stage]] = []
    node_batch: dict[int, tuple[Batch, int]] = {}
    constant = None
    for (lvl, kind_name), nodes in sorted(groups.items()):
        if ">" in kind_name:  # chains: one batch per link, the lane kernel runs them together
            links = [[chained[n] for n in nodes], nodes]
            members = [_make_batch(graph, k, ns, lvl, row_of, sr) for k, ns in zip(kind_name.split(">"), links)]
            sums = [m for m in order if summed.get(m) == (lvl, kind_name)]
            sum_batch = _make_batch(graph, "mix", sums, lvl, row_of, sr) if sums else NO_SUMS
            source = np.full(sum_batch.wiring.shape, -1, dtype=np.int64)
            chain_of = {n: i for i, n in enumerate(nodes)}
            for s_i, m in enumerate(sums):
                for k, x in enumerate(graph.nodes[m].inputs):
                    source[s_i, 1 + k] = chain_of.get(ug.producer(x), -1)
            summed_chains = {int(i) for i in source[source >= 0]}
            owned = np.array([readers[n] == 1 and i in summed_chains for i, n in enumerate(nodes)], dtype=np.bool_)
            for b in members + ([sum_batch] if sums else []):
                node_batch.update({n: (b, i) for i, n in enumerate(b.nodes)})
            if constant is None:
                constant = np.zeros(node_rows + len(const_rows), dtype=np.bool_)
                constant[list(const_rows.values())] = True
            stage = ChainStage(
                kind_name + (">mix" if sums else ""), members, lvl, sum_batch if sums else None, source, owned,
                np.zeros(len(nodes), dtype=np.bool_), constant,
            )
            stages.append(((lvl, 0, stage.kind), stage))
            continue
        batch = _make_batch(graph, kind_name, nodes, lvl, row_of, sr)
        node_batch.update({n: (batch, i) for i, n in enumerate(nodes)})
        stages.append(((lvl, 0, kind_name), batch))
    for i, loop in enumerate(fplan.loops):
        if ("loop", i) not in ordered_units:
            continue
        lvl = unit_level[("loop", i)]
        loop_batches = []
        for n in loop.nodes:
            b = _make_batch(graph, graph.nodes[n].kind, [n], lvl, row_of, sr)
            node_batch[n] = (b, 0)
            loop_batches.append(b)
        split = set(loop.split)
        phases = [("read", b) for b in loop_batches if b.nodes[0] in split]
        phases += [("full", b) for b in loop_batches if b.nodes[0] not in split]
        phases += [("write", b) for b in loop_batches if b.nodes[0] in split]
        stage = LoopStage(loop, loop_batches, phases, lvl)
        stages.append(((lvl, 1, str(loop.nodes[0])), stage))

    return Schedule(
        graph=graph,
        sr=sr,
        block=block,
        rows=node_rows + len(const_rows),
        node_row=node_row,
        const_rows=const_rows,
        stages=[s for _, s in sorted(stages, key=lambda t: t[0])],
        output_rows=output_rows,
        order=order,
        feedback=fplan,
        node_batch=node_batch,
    )

