"""Micro-benchmark of the handoff between processes: ``python -m phonon.workers.bench_handoff [--iters N]``.

1. ping-pong on two counters between the master and one forked process through ``Handoff`` (publish, then the
   other side's wait returns and publishes back): round trip, median and p99 in microseconds, with the default
   spin and with no spin (semaphore wake-ups only);
2. the same through ``Runtime``: a two-task chain split over two processes with ring 1 (every block is a full
   round trip) and ring 8 (pipelined), as microseconds of runtime overhead per block (tasks do nothing).

Prints a table and the atomics backend in use. Timings depend heavily on load: on a busy 2-core machine a
process that was descheduled adds milliseconds to single round trips (visible in p99).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from .handoff import Handoff, backend_name, default_context
from .runtime import Runtime, Task


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def ping_pong(iters: int, spin_us: float) -> list[float]:
    """Round-trip times (us) of a publish -> wait -> publish back -> wait cycle between two processes."""
    ctx = default_context()
    h = Handoff(2, 2, ctx=ctx, initial=-1, spin_us=spin_us)
    warm = min(200, iters // 10)

    def child() -> None:
        for i in range(iters + warm):
            h.wait(1, lambda i=i: h.load(0) >= i)
            h.publish(1, i, (0,))
        os._exit(0)

    proc = ctx.Process(target=child, daemon=True)
    proc.start()
    clock = time.perf_counter_ns
    rtt = []
    try:
        for i in range(iters + warm):
            t0 = clock()
            h.publish(0, i, (1,))
            h.wait(0, lambda i=i: h.load(1) >= i)
            if i >= warm:
                rtt.append((clock() - t0) / 1000.0)
    finally:
        proc.join(5)
        if proc.exitcode is None:
            proc.kill()
            proc.join()
        h.close()
    return rtt


def runtime_overhead(blocks: int, ring: int) -> float:
    """Microseconds per block for two no-op tasks a -> b, a in the master (worker slot 0), b in a worker."""
    noop = lambda k, slot: None  # noqa: E731
    tasks = [Task("a", noop, (), 0), Task("b", noop, (0,), 1)]
    with Runtime(tasks, 2, ring) as rt:
        n0 = min(200, blocks // 10)  # warm-up
        for k in rt.iter_blocks(n0):
            pass
        t0 = time.perf_counter()
        for k in range(n0, n0 + blocks):
            rt.wait_block(k)
            rt.release_block(k)
        dt = time.perf_counter() - t0
    return dt / blocks * 1e6


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=20000, help="round trips per measurement (default 20000)")
    ap.add_argument("--spin-us", type=float, default=50.0, help="longest spin before sleeping (default 50)")
    args = ap.parse_args(argv)
    print(f"atomics backend: {backend_name()}; cpus: {len(os.sched_getaffinity(0))}; iters: {args.iters}")
    print(f"{'mode':<34}{'median us':>10}{'p99 us':>10}{'mean us':>10}")
    for label, spin in ((f"handoff round trip, spin {args.spin_us:g} us", args.spin_us),
                        ("handoff round trip, no spin (sem)", 0.0)):
        r = ping_pong(args.iters, spin)
        print(f"{label:<34}{statistics.median(r):>10.1f}{_pct(r, 99):>10.1f}{statistics.fmean(r):>10.1f}")
    for ring in (1, 8):
        us = runtime_overhead(max(1000, args.iters // 4), ring)
        print(f"{f'runtime 2-proc chain, ring {ring}':<34}{'':>10}{'':>10}{us:>10.1f}  (us per block, mean)")


if __name__ == "__main__":
    main()
