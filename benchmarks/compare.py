"""Phonon against the hand-written numba reference (benchmarks/reference.py), on the same machine, at the
same time, interleaved.

    python -m benchmarks.compare [--duration 20] [--repeat 3] [--workloads heavy,extreme,bus8x]
                                 [--workers 1,2] [--json]

Every round runs, for each workload in turn: the reference with 1 thread, the reference with 2 threads,
then Phonon (engine.bench.bench_program, repeat=1) with each worker count; `repeat` rounds. Interleaving
spreads the noise of a shared machine over all contenders instead of letting one of them draw a quiet or a
busy minute. The table gives the median realtime factor (seconds of audio per wall second, render loop
only: set-up, compilation and Phonon's start-up are excluded on both sides) of each, and the ratios
"phonon 1 worker / reference 1 thread" (how far from the hand-written loop) and "phonon N workers /
phonon 1 worker" (how Phonon scales). Progress goes to stderr; --json prints one object per workload."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from benchmarks import reference
from benchmarks.workloads import all_workloads
from phonon.engine.bench import bench_program

SR, BLOCK = 44100, 512


def _csv(text: str, kind=str) -> list:
    return [kind(x.strip()) for x in text.split(",") if x.strip()]


def measure(workloads: list[str], workers: list[int], seconds: float, repeat: int, log=None) -> list[dict]:
    programs = all_workloads()
    contenders = [("reference", 1), ("reference", 2)] + [("phonon", w) for w in workers]
    runs: dict[tuple[str, str, int], list[float]] = {(name, *c): [] for name in workloads for c in contenders}
    for name in workloads:  # compile or load every reference kernel before any timing
        for threads in (1, 2):
            reference.warm_up(name, threads, SR, BLOCK)
    for r in range(repeat):
        for name in workloads:
            for who, n in contenders:
                started = time.perf_counter()
                if who == "reference":
                    rt = reference.realtime_factor(name, seconds, threads=n, repeat=1, sr=SR, block=BLOCK)
                else:
                    result = bench_program(programs[name], name, seconds=seconds, sr=SR, block=BLOCK, repeat=1,
                                           workers=n)
                    rt = result["realtime"]
                runs[(name, who, n)].append(rt)
                if log:
                    log(f"round {r + 1}/{repeat} {name:<8} {who} x{n}: {rt:6.1f}x "
                        f"({time.perf_counter() - started:.1f} s)")
    results = []
    for name in workloads:
        row = {"workload": name, "seconds": seconds, "repeat": repeat, "runs": {}, "realtime": {}}
        for who, n in contenders:
            key = f"{who}_{n}{'t' if who == 'reference' else 'w'}"
            row["runs"][key] = runs[(name, who, n)]
            row["realtime"][key] = statistics.median(runs[(name, who, n)])
        rt = row["realtime"]
        row["ratios"] = {"reference_2t/reference_1t": rt["reference_2t"] / rt["reference_1t"]}
        if f"phonon_{workers[0]}w" in rt:
            base = rt[f"phonon_{workers[0]}w"]
            if workers[0] == 1:
                row["ratios"]["phonon_1w/reference_1t"] = base / rt["reference_1t"]
            for w in workers[1:]:
                row["ratios"][f"phonon_{w}w/phonon_{workers[0]}w"] = rt[f"phonon_{w}w"] / base
        results.append(row)
    return results


def print_table(results: list[dict], workers: list[int], seconds: float, repeat: int) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:  # a pipe or a file: plain text, wide enough not to wrap the columns
        console = Console(width=max(console.width, 100), color_system=None, force_terminal=False)
    table = Table(
        title=f"realtime factor, median of {repeat} interleaved runs of {seconds:g} s\n"
        f"block {BLOCK} at {SR} Hz, budget {BLOCK / SR * 1000:.2f} ms\n"
        "ref: hand-written numba, t = threads; ph: phonon, w = workers",
    )
    table.add_column("workload")
    keys = ["reference_1t", "reference_2t"] + [f"phonon_{w}w" for w in workers]
    labels = ["ref 1t", "ref 2t"] + [f"phonon {w}w" for w in workers]
    for label in labels:
        table.add_column(label, justify="right")
    ratio_keys = list(results[0]["ratios"]) if results else []
    for key in ratio_keys:
        a, b = key.split("/")
        table.add_column(f"{_short(a)}/{_short(b)}", justify="right", no_wrap=True)
    for r in results:
        cells = [f"{r['realtime'][k]:.1f}x" for k in keys]
        cells += [f"{r['ratios'][k]:.2f}" for k in ratio_keys]
        table.add_row(r["workload"], *cells)
    console.print(table)
    if repeat > 1:  # the spread says how much to trust the medians on a shared machine
        console.print("range over runs (min-max):")
        for r in results:
            spread = ", ".join(f"{_short(k)} {min(v):.1f}-{max(v):.1f}x" for k, v in r["runs"].items())
            console.print(f"  {r['workload']:<8} {spread}", soft_wrap=True)


def _short(key: str) -> str:
    who, n = key.split("_")
    return ("ref" if who == "reference" else "ph") + n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of audio per run (default 20)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--workloads", default="heavy,extreme,bus8x", help="from: " + ", ".join(reference.WORKLOADS))
    parser.add_argument("--workers", default="1,2", help="Phonon worker counts (default 1,2)")
    parser.add_argument("--json", action="store_true", help="one JSON object per workload")
    args = parser.parse_args(argv)
    workloads = _csv(args.workloads)
    unknown = [w for w in workloads if w not in reference.WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}: the reference has {', '.join(reference.WORKLOADS)}")
    workers = _csv(args.workers, int)
    if not workers or any(w < 1 for w in workers) or args.repeat < 1 or args.duration <= 0:
        parser.error("--workers needs positive counts, --repeat and --duration positive values")

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    results = measure(workloads, workers, args.duration, args.repeat, log=log)
    if args.json:
        for r in results:
            print(json.dumps(r))
    else:
        print_table(results, workers, args.duration, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
