"""`phonon graph`: what a program compiled to, as text or Graphviz."""

from __future__ import annotations

import os

from phonon.graph.plan.schedule import LoopStage, build_schedule
from phonon.graph.analysis import reachable
from phonon.graph.plan.cost_model import DEFAULT_COUNTS, scaling, suggested_workers
from phonon.graph.plan.partition import partition
from phonon.graph.signal_graph import Input, SignalGraph
from phonon.graph.plan.units import unit_graph


def _input(graph: SignalGraph, x: Input) -> str:
    if isinstance(x, float):
        return f"{x:g}"
    node = graph.nodes[x]
    return f"#{x}" + (f"(~{node.buses[0]})" if node.buses else "")


def plan_text(graph: SignalGraph, workers: int, sr: int = 44100, block: int = 512) -> list[str]:
    """The partition plan: parts, their nodes, estimated cost, stage and worker."""
    ug = unit_graph(graph, sr)
    parts = partition(ug, workers)
    lines = [f"partition plan for {workers} worker{'s' if workers != 1 else ''} (cost = estimated us per block):"]
    lines.append(f"  {'part':>4}  {'stage':>5}  {'worker':>6}  {'cost':>8}  {'nodes':>5}  name / depends on")
    for p in parts:
        nodes = ug.nodes_in_order(p.units)
        deps = f"  <- parts {', '.join(map(str, p.deps))}" if p.deps else ""
        lines.append(
            f"  {p.index:>4}  {p.stage:>5}  {p.worker:>6}  {p.cost_ns * block / 1000:>8.2f}  {len(nodes):>5}  {p.name}{deps}"
        )
    load = [sum(p.cost_ns for p in parts if p.worker == w) * block / 1000 for w in range(workers)]
    lines.append("  load per worker (us per block): " + ", ".join(f"{x:.1f}" for x in load))
    return lines


def scaling_text(graph: SignalGraph, workers: int, sr: int = 44100, block: int = 512) -> list[str]:
    """Predicted speedup per worker count (graph/plan/cost_model.py), so scaling can be read before running it."""
    ug = unit_graph(graph, sr)
    counts = sorted({n for n in DEFAULT_COUNTS if n <= 64} | {workers})
    s = scaling(ug, counts, sr, block)
    us = block / 1000
    lines = ["predicted scaling (estimated costs plus per-part, per-kernel-call, handoff and master overheads;"]
    lines.append("  a free core per worker assumed):")
    lines.append(
        f"  work {s.total_ns * us:.1f} us per block, critical path {s.critical_ns * us:.1f} us: "
        f"at most {s.amdahl:.1f}x within a block (work / critical path)"
    )
    lines.append(f"  balance of the plan for {workers}: {s.balance[workers]:.2f} (max worker load / mean load)")
    lines.append("  " + f"{'workers':<9}" + "".join(f"{n:>8}" for n in counts))
    lines.append("  " + f"{'us/block':<9}" + "".join(f"{s.ns_per_block[n] / 1000:>8.1f}" for n in counts))
    lines.append("  " + f"{'speedup':<9}" + "".join(f"{s.speedup(n):>7.2f}x" for n in counts))
    cores = os.cpu_count() or 1
    best = suggested_workers(ug, cores, sr, block)
    lines.append(f"  suggested on this machine ({cores} cores): {best} worker{'s' if best != 1 else ''}")
    return lines


def graph_text(graph: SignalGraph, sr: int = 44100, block: int = 512, workers: int | None = None) -> str:
    ug = unit_graph(graph, sr)
    schedule = build_schedule(graph, sr, block, ug=ug)
    live = reachable(graph)
    lines = [f"program {graph.filename}: tempo {float(graph.cps):g} cps, outmix {graph.outmix}"]
    if graph.tempo:
        lines.append(f"tempo: {graph.tempo}")
    lines += graph.notes
    lines.append("")
    lines.append("outputs:")
    for ch, (left, right) in sorted(graph.outputs.items()):
        sides = _input(graph, left) if left == right else f"{_input(graph, left)} | {_input(graph, right)}"
        lines.append(f"  {graph.output_name(ch):<6} <- {sides}")
    lines.append("")
    lines.append("buses:")
    for name, x in sorted(graph.buses.items()):
        lines.append(f"  ~{name:<12} = {_input(graph, x)}")
    lines.append("")
    total = 0.0
    lines.append(f"nodes (cost = estimated us per {block}-sample block):")
    lines.append(f"  {'id':>4}  {'kind':<10} {'call':<10} {'inputs':<40} {'cost':>7}  where")
    for node in graph.nodes:
        cost = ug.node_cost.get(node.id, node.cost_ns) * block / 1000  # lane nodes at their lane cost
        if node.id in live:
            total += cost
        inputs = ", ".join(_input(graph, x) for x in node.inputs)
        if node.kind == "mix":
            gains = node.consts[1:]
            inputs = " + ".join(f"{g:g}*{_input(graph, x)}" for x, g in zip(node.inputs, gains))
            if node.consts[0]:
                inputs += f" + {node.consts[0]:g}"
        if node.kind == "pattern":
            inputs = f'"{node.text}"'
        where = f"{node.pos.line}:{node.pos.col}" if node.pos else ""
        dead = "" if node.id in live else "  (unused)"
        bus = f" ~{node.buses[0]}" if node.buses else ""
        shown = "view" if node.kind == "channel" else f"{cost:.2f}"  # a channel names a row, it does no work
        lines.append(f"  {node.id:>4}  {node.kind:<10} {node.label:<10} {inputs[:40]:<40} {shown:>7}  {where}{bus}{dead}")
    lines.append("")
    lines += _loops_text(graph, schedule, sr, block)
    lines.append("evaluation order (one kernel call per batch per block; a loop is one generated call):")
    for i, stage in enumerate(schedule.stages):
        if isinstance(stage, LoopStage):
            members = " ".join(f"#{b.nodes[0]}" for b in stage.members)
            lines.append(f"  {i:>3}. level {stage.level:<3} {'loop':<10} x{len(stage.members):<4} {members[:60]}")
        else:
            members = " ".join(f"#{n}" for n in stage.nodes)
            lines.append(f"  {i:>3}. level {stage.level:<3} {stage.kind:<10} x{len(stage.nodes):<4} {members[:60]}")
    if workers:
        lines.append("")
        lines += plan_text(graph, workers, sr, block)
        lines.append("")
        lines += scaling_text(graph, workers, sr, block)
    lines.append("")
    lines.append(
        f"{len(live)} live nodes in {len(schedule.batches)} batches, arena {schedule.rows} rows x {block}; "
        f"estimated {total:.1f} us of {block / sr * 1e6:.0f} us per block"
    )
    return "\n".join(lines)


PER_STEP_CALL_NS = 4.0  # measured overhead of one kernel call inside a loop step


def _loops_text(graph: SignalGraph, schedule, sr: int, block: int) -> list[str]:
    loops = schedule.feedback.loops
    if not loops:
        return []
    lines = ["feedback loops:"]
    for loop in loops:
        buses = ", ".join("~" + b for b in loop.buses) or "(no bus)"
        step = min(loop.step, block)
        lines.append(
            f"  {buses}: {len(loop.nodes)} nodes, shortest loop delay {loop.loop_delay} samples "
            f"({loop.loop_delay / sr * 1000:.3f} ms), evaluated in steps of {step} samples"
        )
        for n in loop.implicit:
            node = graph.nodes[n]
            lines.append(
                f"    implicit one-sample delay on {node.label} at line {node.pos.line} col {node.pos.col} "
                f"(closes {node.text})"
            )
        if step == 1:
            per_sample = sum(graph.nodes[n].cost_ns + PER_STEP_CALL_NS for n in loop.nodes) + PER_STEP_CALL_NS * len(
                loop.split
            )
            lines.append(
                f"    runs sample by sample: about {per_sample:.0f} ns per sample, "
                f"{per_sample * block / 1000:.1f} us per block"
            )
    lines.append("")
    return lines


def graph_dot(graph: SignalGraph) -> str:
    live = reachable(graph)
    out = ["digraph phonon {", "  rankdir=LR;", '  node [shape=box, fontname="monospace"];']
    for node in graph.nodes:
        if node.id not in live:
            continue
        label = node.label + (f'\\n\\"{node.text}\\"' if node.text else "")
        label += f"\\n~{node.buses[0]}" if node.buses else ""
        out.append(f'  n{node.id} [label="{label}"];')
        for port, x in enumerate(node.inputs):
            if isinstance(x, int):
                out.append(f"  n{x} -> n{node.id} [label={port}];")
            else:
                out.append(f'  c{node.id}_{port} [label="{x:g}", shape=plaintext];')
                out.append(f"  c{node.id}_{port} -> n{node.id} [label={port}];")
    for ch, pair in sorted(graph.outputs.items()):
        out.append(f'  {graph.output_name(ch)} [shape=doublecircle];')
        for x in dict.fromkeys(pair):
            src = f"n{x}" if isinstance(x, int) else f'"{x:g}"'
            out.append(f"  {src} -> {graph.output_name(ch)};")
    out.append("}")
    return "\n".join(out)
