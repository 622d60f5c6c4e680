"""`phonon bench`: realtime factor and milliseconds per block for programs, median of several runs."""

from __future__ import annotations

import json
import statistics
import time

import numpy as np

from engine.render import Renderer, RenderSettings
from graph.compiler import compile_program


def bench_program(text: str, name: str, *, seconds: float, sr: int, block: int, repeat: int) -> dict:
    graph = compile_program(text, name)
    frames = int(seconds * sr)
    dest = np.zeros((block, 2), dtype=np.float64)
    Renderer(graph, RenderSettings(sr=sr, block=block)).render_into(dest, block)  # warm up (numba load)
    runs, block_ms = [], []
    for _ in range(repeat):
        renderer = Renderer(graph, RenderSettings(sr=sr, block=block))
        times = []
        started = time.perf_counter()
        done = 0
        while done < frames:
            n = min(block, frames - done)
            t0 = time.perf_counter()
            renderer.render_into(dest, n)
            times.append(time.perf_counter() - t0)
            done += n
        runs.append(time.perf_counter() - started)
        block_ms.extend(t * 1000 for t in times)
    wall = statistics.median(runs)
    return {
        "program": name,
        "nodes": len(renderer.schedule.order),
        "batches": len(renderer.schedule.batches),
        "seconds": seconds,
        "realtime": seconds / wall,
        "ms_per_block_median": statistics.median(block_ms),
        "ms_per_block_p99": float(np.percentile(block_ms, 99)),
        "budget_ms": block / sr * 1000,
    }


def bench_files(programs: list[tuple[str, str]], *, seconds: float, sr: int, block: int, repeat: int, as_json: bool) -> int:
    results = [bench_program(t, n, seconds=seconds, sr=sr, block=block, repeat=repeat) for t, n in programs]
    if as_json:
        for r in results:
            print(json.dumps(r))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"block {block} at {sr} Hz (budget {block / sr * 1000:.2f} ms), 1 worker, median of {repeat}")
    for col in ("program", "nodes", "batches", "realtime", "ms/block", "p99 ms"):
        table.add_column(col, justify="left" if col == "program" else "right")
    for r in results:
        table.add_row(
            r["program"], str(r["nodes"]), str(r["batches"]), f"{r['realtime']:.1f}x",
            f"{r['ms_per_block_median']:.3f}", f"{r['ms_per_block_p99']:.3f}",
        )
    Console().print(table)
    return 0
