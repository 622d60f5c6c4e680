"""Can this machine run two copies of a kernel at twice the speed of one? Four numba kernels, each alone and
then P copies at once in P processes, so that "the machine cannot scale this kind of code" can be told from
"the engine does not scale".

    python -m benchmarks.contention [--seconds 2] [--repeat 3] [--processes 1,2] [--json]
                                    [--kernels reference,lanes,int-chain,fma-stream] [--cpus 0,1]
                                    [--wait 30] [--retries 2] [--no-asm]

WHY. On the 2-vCPU development VMs the hand-written reference (benchmarks/reference.py: one voice at a time,
a serial filter recurrence per voice) scaled about 1.9x from 1 to 2 threads while the engine's renders, whose
lane kernel (engine/kernels/chains.py `osc_svf`) keeps 8 voices per AVX-512 instruction busy, scaled 1.0-1.5x
from 1 to 2 workers. Two explanations predict different numbers here. If the two CPUs share one core's
execution units (SMT siblings, which a VM need not report), a latency-bound loop scales about 2x and a
SIMD-saturating one about 1x, whatever the engine does. If they do not, both scale about 2x in independent
processes, and a render that scales worse is limited by the engine, or by the CPUs' speed varying over time
(which the spread of the "alone" runs shows: a render's workers meet every step, so the slower CPU sets the
pace). Measured on those VMs (2026-11-29): both controls and the lane kernel scale 1.86-2.0x, so the CPUs do
not share units; but the SIMD kernels' rate alone varies by 19-52 % between runs against 3-5 % for the
latency-bound ones, with no steal time: something outside the guest's view (most likely a busy host SMT
sibling) takes SIMD units from one CPU or the other at times.

WHAT. Each kernel is a numba function (cache=True) called on fixed inputs, over and over, for --seconds of
wall time, in a forked child process pinned (os.sched_setaffinity) to its own CPU. The baseline is 1 child
alone; then P children run the same kernel at the same time, started together on an event, each on its own
CPU. The work rate is counted in the kernel's own unit (voice-samples, multiply steps, FMAs).
  reference   latency-bound:  benchmarks.reference's 1-thread kernel (`Reference("heavy")`): 100 voices of
              PolyBLEP saw -> TPT SVF, one voice at a time; scalar code.
  lanes       throughput-bound: the engine's lane kernel `osc_svf` on the same 100 voices, the ChainStage
              that the planner (graph/plan/schedule.py) builds for the "heavy" workload, bound to its code by
              engine/binding.py and called once per 512-sample block, as benchmarks/stages.py calls a stage
              alone; SIMD code.
  int-chain   machine control, latency-bound: one dependent chain of 64-bit integer multiply, add, xor.
  fma-stream  machine control, throughput-bound: in-place FMAs over a 4 KiB (L1-resident) array, vectorised
              (the "code" column shows the vector registers found in its machine code).
Measurements are interleaved (every kernel alone, then with P copies, kernel after kernel) and repeated
--repeat times; the table gives medians and min-max ranges. Any other process on the machine spoils the
comparison (a copy that shares its CPU with it runs at half speed), so each measurement first waits (up to
--wait seconds) for the machine to be idle, counts the CPU time that other processes used meanwhile
(/proc/stat), and is redone (up to --retries times) when that exceeds 0.25 CPUs; the verdict says
UNRELIABLE when disturbed measurements remain.

HOW TO READ IT. Per kernel, "alone" is the rate of one process; "per proc" is each of the P processes' rate
as a fraction of "alone" (1.00: no slowdown from sharing); "speedup" is the P processes' total rate over
"alone" (P on a machine whose CPUs are independent). The controls describe the machine and the other two
rows the engine's and reference's own code:
  - both controls near P: the CPUs are independent; a render that scales worse is limited by the engine;
  - int-chain near P, fma-stream near 1: the CPUs share execution units (SMT siblings, or a hypervisor that
    places vCPUs on them). Vectorised code cannot scale here whatever the engine does: compare the lanes'
    speedup with fma-stream's, and the reference's with int-chain's;
  - int-chain well below P as well: the CPUs are not even running at the same time (an overcommitted host,
    steal time, or other load on the machine: the notes under the table show steal and background load).
The notes also give each process's CPU time over its wall time (below 1.00: it was descheduled inside the
guest) and, for the two voice kernels, the rate as the heavy workload's realtime factor (voice-samples per
second / (100 voices * 44100 Hz)). Progress goes to stderr; --json prints one object instead of the table.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Callable

import numba as nb
import numpy as np

from benchmarks import reference

SR, BLOCK = 44100, 512
NOISE = 0.25  # CPUs of other load during a measurement above which it counts as disturbed
HEAVY_VOICES = reference.VOICES["heavy"]
START_TIMEOUT = 120.0  # seconds a child may take to get ready (a numba cache miss compiles)

# Each call of a control kernel does about 0.2 ms of work (2.6 GHz Zen 4), like one block of the voice kernels,
# so the Python call around it costs about 1%.
INT_STEPS = 100_000
FMA_LEN, FMA_DEPTH, FMA_REPS = 512, 8, 1000


# ---------------------------------------------------------------------------------------------- controls


@nb.njit(cache=True, nogil=True)
def int_chain(x, steps):
    """`steps` rounds of x = (x * A + C) ^ (x >> 29) on int64 (wrapping): every round waits on the last."""
    for _ in range(steps):
        x = (x * 6364136223846793005 + 1442695040888963407) ^ (x >> 29)
    return x


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def fma_stream(y, reps, a, b):
    """`reps` passes over y, FMA_DEPTH (8) multiply-adds per element per pass, written back in place. The
    elements are independent, so the loop vectorises and out-of-order execution overlaps the elements' chains:
    the FMA units, not latency, set the pace."""
    for _ in range(reps):
        for i in range(y.shape[0]):
            v = y[i]
            v = v * a + b
            v = v * a + b
            v = v * a + b
            v = v * a + b
            v = v * a + b
            v = v * a + b
            v = v * a + b
            v = v * a + b
            y[i] = v


# ---------------------------------------------------------------------------------------------- kernels


@dataclass
class Kernel:
    name: str
    bound: str  # "latency" or "throughput"
    unit: str
    about: str


KERNELS = {
    k.name: k
    for k in (
        Kernel("reference", "latency", "voice-samples", "benchmarks.reference 1 thread, heavy: voice after voice"),
        Kernel("lanes", "throughput", "voice-samples", "engine osc_svf, heavy: 100 voices in SIMD lanes"),
        Kernel("int-chain", "latency", "steps", "control: dependent int64 multiply chain"),
        Kernel("fma-stream", "throughput", "FMAs", f"control: in-place FMAs on {FMA_LEN * 8 // 1024} KiB, vectorised"),
    )
}


@dataclass
class Setup:
    call: Callable[[], object]  # one call of the kernel on its inputs (which it advances)
    work: int  # units of work per call
    dispatcher: object  # the numba dispatcher whose machine code the call runs


_SETUPS: dict[str, Setup] = {}  # made in the parent before it forks; children use their copies


def _setup_reference() -> Setup:
    ref = reference.Reference("heavy", SR, BLOCK, threads=1)
    dest = np.zeros(BLOCK)
    return Setup(lambda: ref.process(dest), HEAVY_VOICES * BLOCK, reference.voices_block_1t)


def _setup_lanes() -> Setup:
    from benchmarks.workloads import all_workloads
    from phonon.engine.binding import bind
    from phonon.engine.executor import BlockEvaluator
    from phonon.graph.compiler import compile_program
    from phonon.graph.plan.schedule import ChainStage, build_schedule

    schedule = build_schedule(compile_program(all_workloads()["heavy"], "heavy"), SR, BLOCK)
    arena = np.zeros(schedule.arena_shape())
    BlockEvaluator(schedule, arena).process(0, BLOCK)  # constant rows filled
    stages = [s for s in schedule.stages if isinstance(s, ChainStage)]
    if len(stages) != 1:
        raise RuntimeError(f"expected one lane (ChainStage) stage for heavy, the planner made {len(stages)}")
    bound = bind(stages[0])
    voices = len(stages[0].links[0].nodes)
    return Setup(lambda: bound.fn(arena, *bound.arrays, 0, BLOCK), voices * BLOCK, bound.fn)


def _setup_int_chain() -> Setup:
    state = np.array([12345], dtype=np.int64)

    def call() -> None:
        state[0] = int_chain(state[0], INT_STEPS)

    return Setup(call, INT_STEPS, int_chain)


def _setup_fma_stream() -> Setup:
    y = np.linspace(0.0, 1.0, FMA_LEN)
    return Setup(lambda: fma_stream(y, FMA_REPS, 0.999, 0.0005), FMA_LEN * FMA_DEPTH * FMA_REPS, fma_stream)


_MAKERS = {"reference": _setup_reference, "lanes": _setup_lanes, "int-chain": _setup_int_chain,
           "fma-stream": _setup_fma_stream}


def prepare(name: str) -> Setup:
    """The kernel's inputs, made once in this process, with the kernel loaded (or compiled) and called."""
    if name not in _SETUPS:
        setup = _MAKERS[name]()
        for _ in range(3):
            setup.call()
        _SETUPS[name] = setup
    return _SETUPS[name]


_FP_OP = re.compile(r"^\s*v(?:f?n?m(?:add|sub)\d*|add|sub|mul|div|min|max|sqrt)(pd|sd)\s+(.*)$")


def vector_code(name: str) -> dict:
    """What floating-point arithmetic the kernel's machine code does: packed (zmm, ymm, xmm) or scalar
    instructions, counted in a non-cached twin of the dispatcher (numba does not keep the assembly of cached
    code). A twin is the same Python function compiled with the same options, for the same signature."""
    disp = prepare(name).dispatcher
    options = {k: v for k, v in disp.targetoptions.items() if k not in ("cache", "nopython")}
    twin = nb.njit(**options)(disp.py_func)
    sig = disp.signatures[0]
    twin.compile(sig)
    counts = {"zmm": 0, "ymm": 0, "xmm": 0, "scalar": 0}
    for line in twin.inspect_asm(sig).splitlines():
        m = _FP_OP.match(line)
        if not m:
            continue
        if m.group(1) == "sd":
            counts["scalar"] += 1
        else:
            counts[next((r for r in ("zmm", "ymm") if "%" + r in m.group(2)), "xmm")] += 1
    # The widest vector registers its arithmetic uses, unless nearly all of it is scalar (the counts are of
    # instructions in the code, not of instructions run: a vectorised remainder or gain loop is not the hot loop).
    packed = sum(counts[r] for r in ("zmm", "ymm", "xmm"))
    widest = next((r for r in ("zmm", "ymm", "xmm") if counts[r]), None)
    if widest is None and not counts["scalar"]:
        counts["label"] = "no fp"
    elif widest is not None and packed >= 0.1 * counts["scalar"]:
        counts["label"] = f"{widest} {packed}/{counts['scalar']}"
    else:
        counts["label"] = f"scalar {packed}/{counts['scalar']}"
    return counts


# ---------------------------------------------------------------------------------------------- machine


def _cpu_ticks() -> dict[str, list[int]] | None:
    """/proc/stat's per-CPU counters ("cpu" is the total), or None where there is none."""
    try:
        with open("/proc/stat") as f:
            return {p[0]: [int(x) for x in p[1:]] for p in (line.split() for line in f) if p and p[0].startswith("cpu")}
    except OSError:
        return None


def _usable_cpus() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # no affinity on this OS: the children run unpinned
        return list(range(os.cpu_count() or 1))


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def machine(cpus: list[int]) -> dict:
    """What the OS says about the CPUs used: model, hypervisor, and the SMT siblings it knows of."""
    info: dict = {"cpus": cpus, "model": None, "hypervisor": False}
    text = _read("/proc/cpuinfo") or ""
    for line in text.splitlines():
        if line.startswith("model name") and info["model"] is None:
            info["model"] = line.split(":", 1)[1].strip()
        if line.startswith("flags"):
            info["hypervisor"] = "hypervisor" in line.split()
    cores, siblings = {}, {}
    for c in cpus:
        base = f"/sys/devices/system/cpu/cpu{c}/topology/"
        cores[c] = (_read(base + "physical_package_id"), _read(base + "core_id"))
        siblings[c] = _read(base + "thread_siblings_list")
    info["core_of_cpu"] = {c: f"{p}/{k}" for c, (p, k) in cores.items()}
    info["thread_siblings"] = siblings
    shared = [c for c in cpus if sum(cores[d] == cores[c] for d in cpus) > 1 and cores[c] != (None, None)]
    info["os_sees_smt_among_cpus"] = bool(shared)
    return info


# ---------------------------------------------------------------------------------------------- measurement


def _child(name: str, cpu: int | None, seconds: float, start, conn) -> None:
    """One process of a measurement: pin, warm up, say ready, wait for the start, run for `seconds`."""
    try:
        _die_with_parent()
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})
        setup = _SETUPS[name]
        for _ in range(3):  # the copied-on-write pages of its inputs become its own; caches warm
            setup.call()
        conn.send("ready")
        if not start.wait(START_TIMEOUT):
            return
        call = setup.call
        calls = 0
        c0, t0 = time.process_time(), time.perf_counter()
        deadline = t0 + seconds
        while True:
            call()
            calls += 1
            t = time.perf_counter()
            if t >= deadline:
                break
        wall, cpu_time = t - t0, time.process_time() - c0
        pinned = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        conn.send({"pid": os.getpid(), "cpus": pinned, "calls": calls, "work": calls * setup.work,
                   "wall": wall, "cpu_time": cpu_time, "rate": calls * setup.work / wall})
    except KeyboardInterrupt:
        pass
    except BaseException as e:  # noqa: BLE001 - reported to the parent, which raises
        try:
            conn.send({"error": f"{type(e).__name__}: {e}"})
        except OSError:
            pass
    finally:
        conn.close()


def _die_with_parent() -> None:
    """Linux: the kernel kills this child when its parent dies, however the parent dies (SIGKILL included)."""
    parent = os.getppid()
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _recv(conn, proc, timeout: float):
    """The child's next message, or an error when it dies or stays silent."""
    deadline = time.monotonic() + timeout
    while not conn.poll(0.05):
        if not proc.is_alive() and not conn.poll(0):
            raise RuntimeError(f"child {proc.pid} exited (code {proc.exitcode}) without reporting")
        if time.monotonic() > deadline:
            raise RuntimeError(f"child {proc.pid} did not report within {timeout:.0f} s")
    msg = conn.recv()
    if isinstance(msg, dict) and "error" in msg:
        raise RuntimeError(f"child {proc.pid}: {msg['error']}")
    return msg


def _reap(procs, patience: float) -> None:
    """Join every child, giving it `patience` seconds to exit by itself before it is terminated (0 when the
    measurement is being abandoned: Ctrl-C, SIGTERM, an error)."""
    for p in procs:
        p.join(timeout=patience)
        if p.is_alive():
            p.terminate()
            p.join(timeout=2.0)
        if p.is_alive():
            p.kill()
            p.join()


def measure(name: str, processes: int, seconds: float, cpus: list[int] | None = None) -> dict:
    """Run kernel `name` in `processes` forked processes at once for `seconds` each; their rates (units per
    second), pids, CPUs, wall and CPU times, and the steal time and background load seen meanwhile.
    Each process is pinned to its own CPU of `cpus` (default: the CPUs this process may use) when there are
    enough of them, otherwise none is pinned. Every child is reaped before this returns or raises."""
    setup = prepare(name)
    del setup
    cpus = cpus or _usable_cpus()
    pin = processes <= len(cpus) and hasattr(os, "sched_setaffinity")
    ctx = mp.get_context("fork")
    start = ctx.Event()
    procs, conns = [], []
    done = False
    try:
        for k in range(processes):
            parent_end, child_end = ctx.Pipe(duplex=False)
            p = ctx.Process(target=_child, args=(name, cpus[k] if pin else None, seconds, start, child_end),
                            daemon=True, name=f"contention-{name}-{k}")
            p.start()
            child_end.close()
            procs.append(p)
            conns.append(parent_end)
        for conn, p in zip(conns, procs):
            if _recv(conn, p, START_TIMEOUT) != "ready":
                raise RuntimeError(f"child {p.pid} sent an unexpected message")
        before, t0 = _cpu_ticks(), time.perf_counter()
        start.set()
        runs = [_recv(conn, p, seconds + START_TIMEOUT) for conn, p in zip(conns, procs)]
        after, window = _cpu_ticks(), time.perf_counter() - t0
        done = True
    finally:
        start.set()  # a child still waiting returns at once
        for conn in conns:
            conn.close()
        _reap(procs, 5.0 if done else 0.0)
    result = {"kernel": name, "processes": processes, "seconds": seconds, "pinned": pin,
              "pids": [r["pid"] for r in runs], "cpus": [r["cpus"] for r in runs],
              "rates": [r["rate"] for r in runs], "wall": [r["wall"] for r in runs],
              "cpu_time": [r["cpu_time"] for r in runs], "steal": None, "background": None}
    if before and after:
        hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        keys = [f"cpu{c}" for c in (cpus[:processes] if pin else cpus)]
        d = {k: [b - a for a, b in zip(before[k], after[k])] for k in keys if k in before and k in after}
        total = sum(sum(v) for v in d.values())
        if total > 0 and all(len(v) > 7 for v in d.values()):
            result["steal"] = sum(v[7] for v in d.values()) / total  # user nice system idle iowait irq softirq steal
        whole = [b - a for a, b in zip(before["cpu"], after["cpu"])]
        busy = sum(whole[i] for i in (0, 1, 2, 5, 6) if i < len(whole)) / hz
        result["background"] = max(0.0, (busy - sum(result["cpu_time"])) / window)  # in CPUs
    return result


def _busy_cpus(interval: float) -> float | None:
    """How many CPUs' worth of work the whole machine did over the next `interval` seconds (None: unknown)."""
    a = _cpu_ticks()
    time.sleep(interval)
    b = _cpu_ticks()
    if not a or not b:
        return None
    d = [y - x for x, y in zip(a["cpu"], b["cpu"])]
    hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    return sum(d[i] for i in (0, 1, 2, 5, 6) if i < len(d)) / hz / interval


def wait_quiet(limit: float, log: Callable[[str], None] | None = None) -> bool:
    """Wait (up to `limit` seconds) until the machine is idle for half a second; False if it never was."""
    deadline = time.monotonic() + limit
    said = False
    while True:
        busy = _busy_cpus(0.5)
        if busy is None or busy < NOISE / 2:
            return True
        if time.monotonic() > deadline:
            return False
        if log and not said:
            log(f"  waiting for the machine to go quiet (other processes use {busy:.2f} CPUs)")
            said = True


def run(names: list[str], processes: list[int], seconds: float, repeat: int, cpus: list[int] | None = None,
        log: Callable[[str], None] | None = None, wait: float = 0.0, retries: int = 0) -> dict:
    """Every kernel with every process count, interleaved, `repeat` rounds; the summary per kernel.

    In each round a kernel runs alone on each CPU that the largest process count uses (the first half of
    them before the runs with several processes, the other half after, so the baselines bracket them in
    time), then with each count P > 1. A process's share is its rate over the rate alone on its own CPU in
    that round; the speedup is the P processes' total rate over the mean rate alone on their CPUs.
    With `wait` > 0, each measurement first waits (up to `wait` seconds) for the machine to be idle, and one
    that other processes disturbed (background load above NOISE) is redone, up to `retries` times."""
    processes = sorted(set(processes) | {1})
    cpus = cpus or _usable_cpus()
    top = max(processes)
    pinned = top <= len(cpus) and hasattr(os, "sched_setaffinity")
    home = cpus[:top] if pinned else cpus[:1]  # the CPUs that get a baseline alone
    half = (len(home) + 1) // 2
    plan = [("alone", c) for c in home[:half]] + [("together", p) for p in processes if p > 1]
    plan += [("alone", c) for c in home[half:]]
    for name in names:  # load or compile every kernel before any timing, and before any fork
        prepare(name)
    alone_raw: dict[str, dict[int, list[dict]]] = {n: {c: [] for c in home} for n in names}
    raw: dict[str, dict[int, list[dict]]] = {n: {p: [] for p in processes if p > 1} for n in names}

    def one(r: int, name: str, what: str, x: int) -> dict:
        for _ in range(1 + max(0, retries)):
            if wait > 0:
                wait_quiet(wait, log)
            m = measure(name, 1, seconds, [x]) if what == "alone" else measure(name, x, seconds, cpus)
            noisy = m["background"] is not None and m["background"] > NOISE
            if log:
                label = f"alone@cpu{x}" if what == "alone" else f"x{x}"
                rates = ", ".join(f"{v / 1e6:.1f}" for v in m["rates"])
                bg = f", other load {m['background']:.2f} CPUs" if m["background"] is not None else ""
                log(f"round {r + 1}/{repeat} {name:<10} {label:<11} {rates} M{KERNELS[name].unit}/s{bg}"
                    + (" (disturbed)" if noisy else ""))
            if not noisy:
                break
        return m

    for r in range(repeat):
        for name in names:
            for what, x in plan:
                (alone_raw[name][x] if what == "alone" else raw[name][x]).append(one(r, name, what, x))
    kernels = {}
    for name in names:
        by_cpu = {c: [m["rates"][0] for m in ms] for c, ms in alone_raw[name].items()}
        alone = [v for vs in by_cpu.values() for v in vs]
        row = {"bound": KERNELS[name].bound, "unit": KERNELS[name].unit, "about": KERNELS[name].about,
               "alone": statistics.median(alone), "alone_runs": alone,
               "alone_by_cpu": {c: statistics.median(v) for c, v in by_cpu.items()},
               "alone_spread": (max(alone) - min(alone)) / statistics.median(alone), "by_processes": {}}
        for p, ms in raw[name].items():
            speedups, per = [], []
            for r, m in enumerate(ms):
                base = {c: by_cpu[c][r] for c in home}
                used = [c for c in cpus[:p] if c in base] if m["pinned"] else list(base)
                mean = statistics.fmean(base[c] for c in used)
                speedups.append(sum(m["rates"]) / mean)
                own = [base[c] for c in cpus[:p]] if m["pinned"] else [mean] * p
                per += [x / b for x, b in zip(m["rates"], own)]
            shares = [c / w for m in ms for c, w in zip(m["cpu_time"], m["wall"])]
            row["by_processes"][p] = {
                "speedup": statistics.median(speedups), "speedup_runs": speedups,
                "per_process": statistics.median(per), "per_process_range": [min(per), max(per)],
                "cpu_share_min": min(shares), "pinned": all(m["pinned"] for m in ms),
                "pids": [m["pids"] for m in ms], "cpus": [m["cpus"] for m in ms], "rates": [m["rates"] for m in ms],
            }
        every = [m for ms in alone_raw[name].values() for m in ms] + [m for ms in raw[name].values() for m in ms]
        row["steal"] = _median_of([m["steal"] for m in every])
        row["background"] = _median_of([m["background"] for m in every])
        row["background_max"] = max((m["background"] for m in every if m["background"] is not None), default=None)
        kernels[name] = row
    out = {"seconds": seconds, "repeat": repeat, "processes": processes, "cpus": cpus, "kernels": kernels}
    out["verdict"] = verdict(kernels, processes[-1])
    return out


def _noise_warning(kernels: dict) -> str:
    worst = max((k["background_max"] for k in kernels.values() if k["background_max"] is not None), default=None)
    if worst is None or worst <= NOISE:
        return ""
    return (f"UNRELIABLE, other processes used up to {worst:.2f} CPUs during the measurements (rerun on a quiet "
            f"machine): ")


def _median_of(xs: list) -> float | None:
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# ---------------------------------------------------------------------------------------------- verdict

GOOD = 0.85  # speedup / P at or above this: the kind of code scales on this machine


def verdict(kernels: dict, p: int) -> str:
    """One line: what the controls say about the machine at P processes, and where the engine's kernel sits."""
    if p < 2:
        return "only 1 process measured: nothing to compare"
    return _noise_warning(kernels) + _verdict(kernels, p)


def _verdict(kernels: dict, p: int) -> str:
    s = {n: k["by_processes"][p]["speedup"] for n, k in kernels.items() if p in k["by_processes"]}
    lat_name = "int-chain" if "int-chain" in s else "reference"
    thr_name = "fma-stream" if "fma-stream" in s else "lanes"
    lat, thr = s.get(lat_name), s.get(thr_name)
    engine = f"; the engine's lane kernel scales {s['lanes']:.2f}x" if "lanes" in s and thr_name != "lanes" else ""
    if "reference" in s and lat_name != "reference":
        engine += f", the reference {s['reference']:.2f}x"
    if lat is None or thr is None:
        return (f"need a latency-bound and a throughput-bound kernel for a verdict; speedups at {p} processes: "
                + ", ".join(f"{n} {v:.2f}x" for n, v in s.items()))
    if lat >= GOOD * p and thr >= GOOD * p:
        line = (f"throughput-bound SIMD code scales {thr:.2f}x on {p} processes and latency-bound code {lat:.2f}x: "
                f"these CPUs do not share execution units with each other, so a render that scales worse is "
                f"limited by the engine, by other load, or by waiting on its slowest worker" + engine)
    elif lat >= GOOD * p:
        line = (f"throughput-bound SIMD code scales {thr:.2f}x on {p} processes while latency-bound code scales "
                f"{lat:.2f}x: the cores share execution units (SMT-like); expect worker scaling of vectorised "
                f"renders to be capped near {thr:.2f}x here" + engine)
    else:
        line = (f"even latency-bound scalar code scales only {lat:.2f}x on {p} processes (SIMD code {thr:.2f}x): "
                f"the CPUs do not run at full speed at the same time here (time-shared vCPUs, steal or other "
                f"load: see the notes), so no code can scale on this machine" + engine)
    # Alone, a kernel's rate should not move between runs. If the SIMD control's does and the latency control's
    # does not, something this machine cannot see shares the SIMD units with it at times.
    sl, st = kernels.get(lat_name, {}).get("alone_spread"), kernels.get(thr_name, {}).get("alone_spread")
    if sl is not None and st is not None and st > 0.15 and st > 2 * sl:
        runs = kernels[thr_name]["alone_runs"]
        line += (f". But alone, the SIMD control's rate varied by {st:.0%} between runs (its slowest run "
                 f"{max(runs) / min(runs):.2f}x slower than its fastest) against {sl:.0%} for the latency-bound "
                 f"one: something outside this machine's view (a busy SMT sibling on the host) takes SIMD units at "
                 f"times, so single timings of vectorised code are noisy here, and workers that wait for each "
                 f"other every block go at the pace of whichever is slowed")
    return line


# ---------------------------------------------------------------------------------------------- output


def _rate(x: float) -> str:
    return f"{x / 1e9:.2f} G/s" if x >= 1e9 else f"{x / 1e6:.1f} M/s"


def print_table(result: dict, info: dict, vectors: dict[str, dict]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:  # a pipe or a file: plain text, wide enough not to wrap the columns
        console = Console(width=max(console.width, 150), color_system=None, force_terminal=False)
    ps = result["processes"][1:]
    table = Table(title=f"contention: each kernel alone vs P copies at once (P processes, one CPU each)\n"
                  f"median of {result['repeat']} interleaved runs of {result['seconds']:g} s")
    for col, just in (("kernel", "left"), ("bound", "left"), ("code", "left"), ("unit", "left"),
                      ("1 alone", "right"), ("alone spread", "right")):
        table.add_column(col, justify=just, no_wrap=True)
    for p in ps:
        table.add_column(f"{p}: per proc", justify="right", no_wrap=True)
        table.add_column(f"{p}: speedup (range)", justify="right", no_wrap=True)
    for name, k in result["kernels"].items():
        cells = [name, k["bound"], vectors.get(name, {}).get("label", "-"), k["unit"], _rate(k["alone"]),
                 f"{k['alone_spread']:.0%}"]
        for p in ps:
            b = k["by_processes"][p]
            lo, hi = min(b["speedup_runs"]), max(b["speedup_runs"])
            plo, phi = b["per_process_range"]
            cells += [f"{b['per_process']:.2f} ({plo:.2f}-{phi:.2f})", f"{b['speedup']:.2f}x ({lo:.2f}-{hi:.2f})"]
        table.add_row(*cells)
    console.print(table)
    cpus = ",".join(map(str, info["cpus"]))
    smt = "it knows SMT siblings among them" if info["os_sees_smt_among_cpus"] else "it sees no SMT siblings among them"
    console.print(f"machine: {info['model']}{' (virtual machine)' if info['hypervisor'] else ''}; CPUs {cpus}: "
                  f"{smt} (cores {', '.join(f'{c}->{v}' for c, v in info['core_of_cpu'].items())})", soft_wrap=True)
    console.print("alone spread: (max - min) / median of the rates alone; per proc: each process's rate / the rate "
                  "alone on its CPU in the same round; speedup: the processes' total rate / the mean rate alone on "
                  "their CPUs (ideal: P)", soft_wrap=True)
    for name, k in result["kernels"].items():
        notes = [k["about"]]
        if len(k["alone_by_cpu"]) > 1:
            notes.append("alone " + ", ".join(f"cpu{c} {_rate(v)}" for c, v in k["alone_by_cpu"].items()))
        if name in vectors:
            v = vectors[name]
            notes.append(f"fp ops zmm {v['zmm']} ymm {v['ymm']} xmm {v['xmm']} scalar {v['scalar']}")
        if k["unit"] == "voice-samples":
            per_rt = HEAVY_VOICES * SR
            rt = [f"alone {k['alone'] / per_rt:.0f}x"]
            rt += [f"{p} procs {k['alone'] * b['speedup'] / per_rt:.0f}x" for p, b in k["by_processes"].items()]
            notes.append("heavy realtime " + ", ".join(rt))
        for p, b in k["by_processes"].items():
            notes.append(f"{p} procs: cpu/wall >= {b['cpu_share_min']:.2f}" + ("" if b["pinned"] else ", unpinned"))
        if k["steal"] is not None:
            notes.append(f"steal {100 * k['steal']:.1f}%")
        if k["background"] is not None:
            notes.append(f"background load {k['background']:.2f} CPUs (max {k['background_max']:.2f})")
        console.print(f"  {name:<10} " + "; ".join(notes), soft_wrap=True)
    console.print(f"verdict: {result['verdict']}", soft_wrap=True)


def _csv(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="wall seconds per measurement (default 2)")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--processes", default="1,2", help="process counts, 1 always included (default 1,2)")
    parser.add_argument("--kernels", default=",".join(KERNELS), help="from: " + ", ".join(KERNELS))
    parser.add_argument("--cpus", default=None, help="CPUs to pin the processes to, in order (default: all usable)")
    parser.add_argument("--wait", type=float, default=30.0,
                        help="wait up to this many seconds for an idle machine before each measurement (default 30)")
    parser.add_argument("--retries", type=int, default=2, help="redo a disturbed measurement up to N times (default 2)")
    parser.add_argument("--no-asm", action="store_true", help="skip the machine-code check (saves compile time)")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    args = parser.parse_args(argv)
    names = [x.strip() for x in args.kernels.split(",") if x.strip()]
    unknown = [n for n in names if n not in KERNELS]
    if unknown or not names:
        parser.error(f"unknown kernel(s) {', '.join(unknown)}: from {', '.join(KERNELS)}")
    try:
        processes = _csv(args.processes)
        cpus = _csv(args.cpus) if args.cpus else _usable_cpus()
    except ValueError:
        parser.error("--processes and --cpus take comma-separated integers")
    if not processes or min(processes) < 1 or args.repeat < 1 or not args.seconds > 0 or not cpus:
        parser.error("--processes needs positive counts, --repeat and --seconds positive values")
    if max(processes) > len(cpus):
        print(f"note: {max(processes)} processes on {len(cpus)} CPUs: that count runs unpinned, oversubscribed",
              file=sys.stderr)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    def terminated(signum, frame):  # SIGTERM unwinds like Ctrl-C, so the children are reaped
        raise KeyboardInterrupt

    import signal

    signal.signal(signal.SIGTERM, terminated)
    try:
        vectors = {}
        if not args.no_asm:
            for n in names:
                vectors[n] = vector_code(n)
                log(f"machine code of {n}: {vectors[n]}")
        result = run(names, processes, args.seconds, args.repeat, cpus, log=log, wait=args.wait, retries=args.retries)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    info = machine(cpus)
    if args.json:
        result["machine"] = info
        result["vector_code"] = vectors
        print(json.dumps(result, default=lambda o: o if not isinstance(o, float) or math.isfinite(o) else None))
    else:
        print_table(result, info, vectors)
    return 0


if __name__ == "__main__":
    sys.exit(main())
