"""`phonon graph`: what a program compiled to, as text or Graphviz."""

from __future__ import annotations

from engine.plan import build_schedule
from graph.analysis import reachable
from graph.signal_graph import Input, SignalGraph


def _input(graph: SignalGraph, x: Input) -> str:
    if isinstance(x, float):
        return f"{x:g}"
    node = graph.nodes[x]
    return f"#{x}" + (f"(~{node.buses[0]})" if node.buses else "")


def _channel(ch: int) -> str:
    return "out" if ch == 0 else f"o{ch}"


def graph_text(graph: SignalGraph, sr: int = 44100, block: int = 512) -> str:
    schedule = build_schedule(graph, sr, block)
    live = reachable(graph)
    lines = [f"program {graph.filename}: tempo {float(graph.cps):g} cps, outmix {graph.outmix}"]
    lines += [f"note: {n}" for n in graph.notes]
    lines.append("")
    lines.append("outputs:")
    for ch, x in sorted(graph.outputs.items()):
        lines.append(f"  {_channel(ch):<6} <- {_input(graph, x)}")
    lines.append("")
    lines.append("buses:")
    for name, x in sorted(graph.buses.items()):
        lines.append(f"  ~{name:<12} = {_input(graph, x)}")
    lines.append("")
    total = 0.0
    lines.append(f"nodes (cost = estimated us per {block}-sample block):")
    lines.append(f"  {'id':>4}  {'kind':<10} {'call':<10} {'inputs':<40} {'cost':>7}  where")
    for node in graph.nodes:
        cost = node.cost_ns * block / 1000
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
        lines.append(f"  {node.id:>4}  {node.kind:<10} {node.label:<10} {inputs[:40]:<40} {cost:>7.2f}  {where}{bus}{dead}")
    lines.append("")
    lines.append("evaluation order (one kernel call per batch per block):")
    for i, batch in enumerate(schedule.batches):
        members = " ".join(f"#{n}" for n in batch.nodes)
        lines.append(f"  {i:>3}. level {batch.level:<3} {batch.kind:<10} x{len(batch.nodes):<4} {members[:60]}")
    lines.append("")
    lines.append(
        f"{len(live)} live nodes in {len(schedule.batches)} batches, arena {schedule.rows} rows x {block}; "
        f"estimated {total:.1f} us of {block / sr * 1e6:.0f} us per block"
    )
    return "\n".join(lines)


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
    for ch, x in sorted(graph.outputs.items()):
        out.append(f'  {_channel(ch)} [shape=doublecircle];')
        src = f"n{x}" if isinstance(x, int) else f'"{x:g}"'
        out.append(f"  {src} -> {_channel(ch)};")
    out.append("}")
    return "\n".join(out)
