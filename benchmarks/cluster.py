"""Rendering on Dask (engine/cluster) against rendering here: what a job costs beyond its render, and a batch.

    python -m benchmarks.cluster [--workers 2] [--repeat 15] [--seconds 10] [--batch 20] [--json]

1. Per-job overhead: a tiny program (a sine, 0.1 s) rendered to a WAV file, median of `--repeat` runs, both
   warm (kernels loaded): here (compile, render, write: what `phonon render` does after start-up) against
   through the cluster (build the job, submit it, render on a worker, fetch the bytes, write them here). The
   difference is what the cluster path adds per job; where it goes is measured apart (building the job, the
   worker's run_job, Dask's round trip, writing).
2. A batch: `--batch` programs, the benchmark workloads (benchmarks/workloads.py) taken in turn, each
   rendered for `--seconds` seconds of audio, one after another in this process (kernels loaded, one worker
   each: what a loop over `phonon render` costs without its start-ups), against all submitted at once to
   local:N. The cluster's first batch (cold: each worker loads its kernels) and a second (warm) are both
   reported, and the cluster's start-up apart.

Everything is written to a temporary folder and removed."""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import tempfile
import time
from pathlib import Path

TINY = "out: sine 440 * 0.1\n"


def _render_here(text: str, name: str, path: Path, seconds: float) -> None:
    from phonon.engine.render import RenderSettings, duration_frames, render_to_file
    from phonon.graph.compiler import compile_program

    graph = compile_program(text, name)
    settings = RenderSettings()
    render_to_file(graph, path, duration_frames(graph, settings.sr, seconds, None), settings, workers=1)


def _render_there(client, programs: dict[str, str], folder: Path, seconds: float) -> dict[str, float]:
    """Build, submit, collect and write every program; each job's seconds on its worker."""
    from phonon.engine.cluster import build_job, render_jobs
    from phonon.engine.render import RenderSettings

    jobs = (build_job(text, f"{name}.wav", RenderSettings(), filename=f"{name}.phonon", seconds=seconds)
            for name, text in programs.items())  # each submitted as soon as it is built
    worker_seconds = {}
    for result in render_jobs(client, jobs):
        result.write(folder / result.output)
        worker_seconds[result.output] = result.seconds
    return worker_seconds


def _tiny_parts(client, folder: Path, repeat: int) -> dict[str, float]:
    """Where a tiny job's time goes, medians in ms: building it here, on its worker (run_job: unpack, compile,
    render, encode), the rest of the round trip (Dask: submit, schedule, transfer both ways), writing it."""
    from phonon.engine.cluster import build_job, render_jobs
    from phonon.engine.render import RenderSettings

    parts: dict[str, list[float]] = {"build_ms": [], "worker_ms": [], "dask_ms": [], "write_ms": []}
    for _ in range(repeat):
        t0 = time.perf_counter()
        job = build_job(TINY, "tiny.wav", RenderSettings(), filename="tiny.phonon", seconds=0.1)
        t1 = time.perf_counter()
        (result,) = render_jobs(client, [job])
        t2 = time.perf_counter()
        result.write(folder / "tiny.wav")
        t3 = time.perf_counter()
        parts["build_ms"].append(t1 - t0)
        parts["worker_ms"].append(result.seconds)
        parts["dask_ms"].append(t2 - t1 - result.seconds)
        parts["write_ms"].append(t3 - t2)
    return {name: 1e3 * statistics.median(values) for name, values in parts.items()}


def _median_ms(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return 1e3 * statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="local Dask worker processes (default 2)")
    parser.add_argument("--repeat", type=int, default=15, help="runs of the tiny job (default 15)")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of audio per workload (default 10)")
    parser.add_argument("--batch", type=int, default=20, help="programs in the batch, the workloads in turn (default 20)")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    args = parser.parse_args(argv)

    from benchmarks.workloads import all_workloads
    from phonon.engine.cluster import connect

    out: dict[str, object] = {"workers": args.workers, "seconds_of_audio": args.seconds}
    with tempfile.TemporaryDirectory(prefix="phonon-bench-cluster-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        client = connect(f"local:{args.workers}")
        out["cluster_start_s"] = time.perf_counter() - started
        try:
            # 1. Per-job overhead (both warmed up first).
            tiny = {"tiny": TINY}
            _render_here(TINY, "tiny.phonon", folder / "here.wav", 0.1)
            for _ in range(2 * args.workers):
                _render_there(client, tiny, folder, 0.1)
            here = _median_ms(lambda: _render_here(TINY, "tiny.phonon", folder / "here.wav", 0.1), args.repeat)
            there = _median_ms(lambda: _render_there(client, tiny, folder, 0.1), args.repeat)
            out.update(tiny_here_ms=here, tiny_cluster_ms=there, overhead_ms=there - here)
            out["tiny_cluster_parts_ms"] = _tiny_parts(client, folder, args.repeat)

            # 2. The workloads: one after another here, then all at once on the cluster (cold, then warm).
            workloads = list(all_workloads().items())
            programs = {f"{name}-{k + 1}": text
                        for k, (name, text) in zip(range(args.batch), itertools.cycle(workloads))}
            for name, text in workloads:  # kernels loaded (or compiled) before timing, as for the cluster
                _render_here(text, f"{name}.phonon", folder / f"{name}.wav", 0.1)
            each = {}
            started = time.perf_counter()
            for name, text in programs.items():
                t0 = time.perf_counter()
                _render_here(text, f"{name}.phonon", folder / f"{name}.wav", args.seconds)
                each[name] = time.perf_counter() - t0
            out["batch_here_s"] = time.perf_counter() - started
            out["batch_here_each_s"] = each
            for run in ("cold", "warm"):
                started = time.perf_counter()
                on_workers = _render_there(client, programs, folder, args.seconds)
                out[f"batch_cluster_{run}_s"] = time.perf_counter() - started
                out[f"batch_cluster_{run}_each_s"] = on_workers
        finally:
            client.close()
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"local:{args.workers} started in {out['cluster_start_s']:.2f} s")
    print(f"tiny job, median of {args.repeat}: here {out['tiny_here_ms']:.1f} ms, on the cluster "
          f"{out['tiny_cluster_ms']:.1f} ms: {out['overhead_ms']:.1f} ms more per job")
    print("  on the cluster: " + ", ".join(f"{k[:-3]} {v:.1f} ms" for k, v in out["tiny_cluster_parts_ms"].items()))
    print(f"{len(out['batch_here_each_s'])} programs x {args.seconds:g} s of audio: one after another here "
          f"{out['batch_here_s']:.2f} s; on local:{args.workers} {out['batch_cluster_cold_s']:.2f} s cold, "
          f"{out['batch_cluster_warm_s']:.2f} s warm ({out['batch_here_s'] / out['batch_cluster_warm_s']:.2f}x)")
    for name, s in out["batch_here_each_s"].items():
        worker = out["batch_cluster_warm_each_s"][f"{name}.wav"]
        print(f"  {name:18s} here {s:6.2f} s   on a worker {worker:6.2f} s (warm)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
