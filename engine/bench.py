"""`phonon bench`: realtime factor and milliseconds per block for programs and worker counts, medians of
several runs, with speedup and parallel efficiency against one worker and the runtime's wait times, and the
cost model's predicted speedup beside the measured one (graph/plan/cost_model.py), so a run comparing core counts
explains itself: a measured speedup far below the prediction points at the machine (busy cores, slow
handoffs), one matching it at the program's structure (too few or unequal parts)."""

from __future__ import annotations

import csv
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from phonon.engine.render import SPAN_OFFLINE, Renderer, RenderSettings
from phonon.graph.compiler import compile_program
from phonon.graph.plan.cost_model import scaling


def bench_program(
    text: str, name: str, *, seconds: float, sr: int, block: int, repeat: int, workers: int = 1
) -> dict:
    graph = compile_program(text, name)
    frames = int(seconds * sr)
    dest = np.zeros((SPAN_OFFLINE * block, 2), dtype=np.float64)
    for count in sorted({1, workers}):  # numba loads its kernels; the fused code of each plan gets compiled
        with Renderer(graph, RenderSettings(sr=sr, block=block), block, count, tiered=True) as warm:
            warm.render_into(dest, block)
            warm.tiers.wait()
    runs, block_ms, waits, busy = [], [], [], []
    for _ in range(repeat):
        with Renderer(graph, RenderSettings(sr=sr, block=block), frames, workers, tiered=True) as renderer:
            times = []  # per runtime step (the workers hand over steps of SPAN_OFFLINE blocks): ms per block
            started = time.perf_counter()
            done = 0
            while done < frames:
                n = min(renderer.step, frames - done)
                t0 = time.perf_counter()
                renderer.render_into(dest, n)
                times.append((time.perf_counter() - t0) * 1000 * block / n)
                done += n
            runs.append(time.perf_counter() - started)
            block_ms.extend(times)
            blocks = -(-frames // block)
            stats = renderer.ensemble.stats()
            waits.append(1e6 * statistics.median(s.wait_s for s in stats) / blocks)
            busy.append(1e3 * max(s.busy_s for s in stats) / blocks)
            nodes, parts = len(renderer.schedule.order), len(renderer.parts.parts)
            batches = sum(len(s.stages) for s in renderer.parts.schedules)
    wall = statistics.median(runs)
    ms = statistics.median(block_ms)
    return {
        "program": name,
        "workers": workers,
        "nodes": nodes,
        "parts": parts,
        "batches": batches,
        "seconds": seconds,
        "realtime": seconds / wall,
        "realtime_min": seconds / max(runs),  # the spread across the repeats: the slowest run
        "realtime_max": seconds / min(runs),  # and the fastest
        "ms_per_block_median": ms,
        "ms_per_block_p99": float(np.percentile(block_ms, 99)),
        "wait_us_per_block": statistics.median(waits),
        "overhead_ms_per_block": max(0.0, wall * 1000 / (frames / block) - statistics.median(busy)),
        "budget_ms": block / sr * 1000,
    }


@dataclass(frozen=True)
class Column:
    """A column of the table: its title and the result's fields it shows, formatted by `fmt`."""

    title: str
    keys: tuple[str, ...]
    fmt: str

    def text(self, result: dict) -> str:
        return self.fmt.format(*(result[k] for k in self.keys))


COLUMNS = (
    Column("program", ("program",), "{}"),
    Column("workers", ("workers",), "{}"),
    Column("parts", ("parts",), "{}"),
    Column("realtime", ("realtime",), "{:.1f}x"),
    Column("min..max", ("realtime_min", "realtime_max"), "{:.1f}..{:.1f}x"),
    Column("ms/block", ("ms_per_block_median",), "{:.3f}"),
    Column("p99 ms", ("ms_per_block_p99",), "{:.3f}"),
    Column("speedup", ("speedup",), "{:.2f}x"),
    Column("predicted", ("predicted_speedup",), "{:.2f}x"),
    Column("efficiency", ("efficiency",), "{:.0%}"),
    Column("wait us", ("wait_us_per_block",), "{:.0f}"),
)


def bench_files(
    programs: list[tuple[str, str]],
    *,
    seconds: float,
    sr: int,
    block: int,
    repeat: int,
    workers: list[int],
    as_json: bool = False,
    as_csv: bool = False,
    plot: str | None = None,
) -> int:
    results = []
    for text, name in programs:
        model = scaling(compile_program(text, name), workers, sr, block)
        for w in workers:
            r = bench_program(text, name, seconds=seconds, sr=sr, block=block, repeat=repeat, workers=w)
            # Speedup against the first worker count given (1 unless told otherwise).
            base = next((x for x in results if x["program"] == name and x["workers"] == workers[0]), r)
            r["speedup"] = r["realtime"] / base["realtime"]
            r["predicted_speedup"] = model.speedup(w, base=workers[0])
            r["efficiency"] = r["speedup"] * workers[0] / w
            results.append(r)
    if plot:
        speedup_figure(results, workers[0]).savefig(plot)
        print(f"wrote {plot}", file=sys.stderr)
    title = (f"block {block} at {sr} Hz (budget {block / sr * 1000:.2f} ms), median of {repeat} runs "
             "(min..max: the slowest and the fastest)")
    if as_json:
        for r in results:
            print(json.dumps(r))
    elif as_csv:
        write_csv(results, sys.stdout)
    elif sys.stdout.isatty():
        _print_rich(title, results)
    else:
        print(text_table(title, results))
    return 0


def write_csv(results: list[dict], out: TextIO) -> None:
    """Every field of every result (the JSON lines' fields), one row per program and worker count."""
    writer = csv.DictWriter(out, fieldnames=list(results[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(results)


def text_table(title: str, results: list[dict]) -> str:
    """The table as plain text, for a pipe or a file: every name and number whole, columns aligned."""
    rows = [[c.title for c in COLUMNS]] + [[c.text(r) for c in COLUMNS] for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = [title]
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _print_rich(title: str, results: list[dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for c in COLUMNS:
        table.add_column(c.title, justify="left" if c is COLUMNS[0] else "right", no_wrap=c is COLUMNS[0])
    for r in results:
        table.add_row(*(c.text(r) for c in COLUMNS))
    Console().print(table)


def speedup_figure(results: list[dict], base: int = 1):
    """The speedup-versus-workers chart (a matplotlib figure): one line per program, the ideal dotted, a tick
    at each worker count measured (whole numbers); speedups are over `base` workers."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        from phonon.graph.errors import PhononError

        raise PhononError("--plot needs matplotlib", hint="pip install matplotlib") from None
    fig, ax = plt.subplots(figsize=(6, 4))
    for name in dict.fromkeys(r["program"] for r in results):
        rows = [r for r in results if r["program"] == name]
        ax.plot([r["workers"] for r in rows], [r["speedup"] for r in rows], marker="o", label=Path(name).name)
    counts = sorted({r["workers"] for r in results})
    ax.plot([counts[0], counts[-1]], [counts[0] / base, counts[-1] / base], linestyle=":", color="grey",
            label="ideal")
    ax.set_xticks(counts)
    ax.set_xlabel("workers")
    ax.set_ylabel(f"speedup over {base} worker{'s' * (base != 1)}")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
