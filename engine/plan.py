"""Turn a SignalGraph into a schedule of batched kernel calls over an arena of block buffers.

Each live node owns one arena row, each distinct constant one row (filled once), and nodes of the same kind
on the same level are one batch: one kernel call per block for all of them (a level never depends on
itself), so Python's cost per block grows with the number of (kind, level) pairs, not with the nodes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from engine.kernels import load_all
from graph.analysis import evaluation_order, levels, reachable
from graph.kinds import KINDS
from graph.signal_graph import Input, SignalGraph


@dataclass
class Batch:
    kind: str
    kernel: Callable | None  # None for host-filled kinds (patterns)
    nodes: list[int]
    wiring: np.ndarray  # int64 [batch, 1 + inputs]
    state: np.ndarray  # float64 [batch, width]: [sr, *consts, *mutable]
    level: int
    first_mutable: int = 0  # column where the mutable state starts (for resets)


@dataclass
class Schedule:
    graph: SignalGraph
    sr: int
    block: int
    rows: int
    node_row: dict[int, int]
    const_rows: dict[float, int]
    batches: list[Batch]
    output_rows: dict[int, int]  # channel -> arena row
    order: list[int]  # live nodes in evaluation order
    node_batch: dict[int, tuple[int, int]] = field(default_factory=dict)  # node -> (batch index, index in batch)

    def arena_shape(self) -> tuple[int, int]:
        return (self.rows, self.block)

    def fill_constants(self, arena: np.ndarray) -> None:
        """Constant rows are written once; kernels only ever read them."""
        for value, row in self.const_rows.items():
            arena[row, :] = value


def build_schedule(graph: SignalGraph, sr: int, block: int) -> Schedule:
    kernels = load_all()
    live = reachable(graph)
    order = evaluation_order(graph, live)
    level = levels(graph, live)

    node_row = {n: i for i, n in enumerate(order)}
    const_rows: dict[float, int] = {}

    def row_of(x: Input) -> int:
        if isinstance(x, int):
            return node_row[x]
        if x not in const_rows:
            const_rows[x] = len(node_row) + len(const_rows)
        return const_rows[x]

    output_rows = {ch: row_of(x) for ch, x in graph.outputs.items()}

    groups: dict[tuple[int, str], list[int]] = defaultdict(list)
    for n in order:
        groups[(level[n], graph.nodes[n].kind)].append(n)

    batches: list[Batch] = []
    node_batch: dict[int, tuple[int, int]] = {}
    for (lvl, kind_name), members in sorted(groups.items()):
        kind = KINDS[kind_name]
        width_in = max(len(graph.nodes[n].inputs) for n in members)
        wiring = np.full((len(members), 1 + width_in), -1, dtype=np.int64)
        n_consts = max(len(graph.nodes[n].consts) for n in members)
        mutable = kind.state_size(sr)
        state = np.zeros((len(members), 1 + n_consts + mutable), dtype=np.float64)
        for i, n in enumerate(members):
            node = graph.nodes[n]
            wiring[i, 0] = node_row[n]
            for j, x in enumerate(node.inputs):
                wiring[i, 1 + j] = row_of(x)
            state[i, 0] = sr
            state[i, 1 : 1 + len(node.consts)] = node.consts
            node_batch[n] = (len(batches), i)
        fn = None if kind.host_filled else kernels[kind_name]
        batches.append(Batch(kind_name, fn, members, wiring, state, lvl, 1 + n_consts))

    return Schedule(
        graph=graph,
        sr=sr,
        block=block,
        rows=len(node_row) + len(const_rows),
        node_row=node_row,
        const_rows=const_rows,
        batches=batches,
        output_rows=output_rows,
        order=order,
        node_batch=node_batch,
    )
