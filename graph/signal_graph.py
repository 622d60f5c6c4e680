"""The compiled signal graph: typed nodes whose inputs are constants or other nodes' outputs.

A pattern used as a signal is a node of kind `pattern` (a stepped control signal the engine fills once per
block), so every input is either a constant (a float) or a node (an int id)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from phonon.graph.ast import Pos
from phonon.graph.kinds import KINDS

Input = int | float  # int: a node id; float: a constant


@dataclass
class Node:
    id: int
    kind: str
    inputs: tuple[Input, ...]
    consts: tuple[float, ...] = ()
    label: str = ""  # what the program called: "lpf", "+", "pattern"
    pos: Pos | None = None
    buses: list[str] = field(default_factory=list)  # buses whose value is this node
    pattern: Any = None  # the Pattern of a `pattern` node, or the events of a voice node
    params: tuple = ()  # a voice node's (name, pattern) parameters, sampled at each event's onset
    signal_controls: tuple[str, ...] = ()  # a voice node's controls read from its inputs at each onset sample
    text: str = ""  # the pattern's source text
    # a voice node's sends (graph/orbits.py): (orbit, effect) for each pair of rows after its own two
    sends: tuple[tuple[int, int], ...] = ()

    @property
    def rows(self) -> int:
        """The arena rows it owns: its kind's outputs, and a pair per send of a voice node."""
        return KINDS[self.kind].outputs + 2 * len(self.sends)

    def where(self) -> str:
        at = f"line {self.pos.line} col {self.pos.col}" if self.pos else "?"
        name = self.label + (f' "{self.text}"' if self.text else "")
        bus = f" in ~{self.buses[0]}" if self.buses else ""
        return f"{name} ({at}){bus}"

    @property
    def cost_ns(self) -> float:
        """Estimated cost per sample, run by its kind's kernel."""
        return self.cost()

    def cost(self, lanes: bool = False) -> float:
        """Estimated cost per sample; `lanes`: run in SIMD lanes with others of its kind (graph/plan/lanes.py)."""
        kind = KINDS[self.kind]
        each = kind.lane_cost_ns if lanes and kind.lane_cost_ns is not None else kind.cost_ns
        return each * (max(1, len(self.inputs)) if kind.variadic else 1)


OUTMIX_MODES = ("none", "gain", "sqrt", "tanh", "hard")
PARTIAL_SUM = "partial sum"  # label of the partial sums a wide sum is split into (each gets its own part)


@dataclass
class SignalGraph:
    nodes: list[Node]
    outputs: dict[int, tuple[Input, Input]]  # output (0 = out, N = oN/dN/outN) -> (left, right) it plays
    cps: Fraction = Fraction(1, 2)
    outmix: str = "none"
    buses: dict[str, Input] = field(default_factory=dict)  # buses used as signals
    source: str = ""
    filename: str = "<program>"
    # compile-time remarks, each the line to show: `note: ...` (auto-routing, hush) or `FILE:LINE:COL: warning: ...`
    # (a constant clamped to its parameter's range)
    notes: list[str] = field(default_factory=list)
    tempo: str = ""  # how the program gave its tempo, when it did (`phonon graph` says it)
    output_names: dict[int, str] = field(default_factory=dict)  # output -> its statement (`o1`, `d2`, `out`)

    def output_name(self, channel: int) -> str:
        """The name an output's stem is written under: its statement's, or `out`/`oN` when auto-routed."""
        return self.output_names.get(channel) or ("out" if channel == 0 else f"o{channel}")

    def only_output(self, name: str) -> "SignalGraph":
        """The program with this output alone (a stem rendered by itself): planning evaluates only what it
        reaches (graph.analysis.reachable), and every node it keeps computes the same numbers."""
        channel = next((c for c in self.outputs if self.output_name(c) == name), None)
        if channel is None:
            known = ", ".join(self.output_name(c) for c in sorted(self.outputs))
            raise KeyError(f"no output {name!r}; the outputs: {known}")
        return replace(self, outputs={channel: self.outputs[channel]}, output_names={channel: name})

    def node(self, node_id: int) -> Node:
        return self.nodes[node_id]
