"""`phonon bench`: realtime factor and milliseconds per block for programs and worker counts, medians of
several runs, with speedup and parallel efficiency against one worker and the runtime's wait times, and the
cost model's predicted speedup beside the measured one (graph/plan/cost_model.py), so a run comparing core counts
explains itself: a measured speedup far below the prediction points at the machine (busy cores, slow
handoffs), one matching it at the program's structure (too few or unequal parts)."""

from __future__ import annotations

import json
import statistics
import time

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
        "ms_per_block_median": ms,
        "ms_per_block_p99": float(np.percentile(block_ms, 99)),
        "wait_us_per_block": statistics.median(waits),
        "overhead_ms_per_block": max(0.0, wall * 1000 / (frames / block) - statistics.median(busy)),
        "budget_ms": block / sr * 1000,
    }


def bench_files(
    programs: list[tuple[str, str]],
    *,
    seconds: float,
    sr: int,
    block: int,
    repeat: int,
    workers: list[int],
    as_json: bool,
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
        _plot(results, plot)
    if as_json:
        for r in results:
            print(json.dumps(r))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"block {block} at {sr} Hz (budget {block / sr * 1000:.2f} ms), median of {repeat}")
    columns = (
        "program", "workers", "parts", "realtime", "ms/block", "p99 ms", "speedup", "predicted", "efficiency", "wait us"
    )
    for col in columns:
        table.add_column(col, justify="left" if col == "program" else "right")
    for r in results:
        table.add_row(
            r["program"], str(r["workers"]), str(r["parts"]), f"{r['realtime']:.1f}x", f"{r['ms_per_block_median']:.3f}",
            f"{r['ms_per_block_p99']:.3f}", f"{r['speedup']:.2f}x", f"{r['predicted_speedup']:.2f}x",
            f"{r['efficiency']:.0%}", f"{r['wait_us_per_block']:.0f}",
        )
    Console().print(table)
    return 0


def _plot(results: list[dict], path: str) -> None:
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
        ax.plot([r["workers"] for r in rows], [r["speedup"] for r in rows], marker="o", label=name)
    top = max(r["workers"] for r in results)
    ax.plot([1, top], [1, top], linestyle=":", color="grey", label="ideal")
    ax.set_xlabel("workers")
    ax.set_ylabel("speedup over 1 worker")
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
