"""Run every benchmark of DESIGN.md and the issues, single worker, and print one table.

    python -m benchmarks.run [--duration 10] [--repeat 3] [--json]

Timings on the shared 2-core machines are noisy: figures are medians of several runs; compare ratios."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.workloads import all_workloads, dispatch_program, three_node_programs
from phonon.engine.bench import bench_program

ROOT = Path(__file__).resolve().parent.parent


def _timed_render(env: dict | None = None) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "phonon", "render", "-", "-o", os.path.join(tmp, "x.wav"), "-d", "1", "-q"],
            input="out: saw 110 # lpf 800 0.7 * 0.2\n", text=True, check=True, cwd=ROOT, env=env,
        )
        return time.perf_counter() - started


def startup_times() -> dict:
    """A one-line render from a cold numba cache (as after installing) and from a warm one."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PHONON_CACHE_DIR=cache)
        cold = _timed_render(env)
        warm = min(_timed_render(env) for _ in range(3))
    return {"first_render_s": cold, "warm_render_s": warm}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    opts = dict(seconds=args.duration, sr=44100, block=512, repeat=args.repeat)

    programs = dict(all_workloads())
    programs["loop3x20"], programs["chain3x20"] = three_node_programs()
    programs["dispatch1000"] = dispatch_program()
    results = [bench_program(text, name, **opts) for name, text in programs.items()]
    by_name = {r["program"]: r for r in results}
    derived = {
        "dispatch_us_per_node_block": by_name["dispatch1000"]["ms_per_block_median"] * 1000 / 1000,
        "bus8x_feedback_cost_ratio": by_name["bus8x_feedback"]["ms_per_block_median"]
        / by_name["bus8x"]["ms_per_block_median"],
        "loop3_vs_chain3_ratio": by_name["loop3x20"]["ms_per_block_median"] / by_name["chain3x20"]["ms_per_block_median"],
        **startup_times(),
    }
    if args.json:
        for r in results:
            print(json.dumps(r))
        print(json.dumps(derived))
        return 0
    print(f"{'program':<16} {'nodes':>6} {'batches':>8} {'realtime':>9} {'ms/block':>9} {'p99 ms':>8}")
    for r in results:
        print(
            f"{r['program']:<16} {r['nodes']:>6} {r['batches']:>8} {r['realtime']:>8.1f}x "
            f"{r['ms_per_block_median']:>9.3f} {r['ms_per_block_p99']:>8.3f}"
        )
    for key, value in derived.items():
        print(f"{key}: {value:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
