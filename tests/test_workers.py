"""workers/: shared arena, lock-free handoff, multi-process runtime, supervision. Real processes, real shared memory.

Leak checks look at /dev/shm (the runtime never creates anything there) and at this process's children
(/proc, multiprocess.active_children()). Timings are never asserted except as loose upper bounds on failure
detection (seconds) and CPU use of waiting processes.
"""

from __future__ import annotations

import os
import random
import re
import resource
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import multiprocess

from phonon.workers import Handoff, Runtime, RuntimeStopped, SharedArena, Task, TaskFailed, WorkerDied, backend_name
from phonon.workers.handoff import default_context
from tests.processes import is_resource_tracker

ROOT = Path(__file__).resolve().parent.parent
W = 10  # int64 words per buffer: [block tag, task id, 8 values]


# ---------------------------------------------------------------------------------------------------------------
# leak helpers
# ---------------------------------------------------------------------------------------------------------------
_OURS = re.compile(r"^(?!jack)(.*phonon|sem\.mp-|psm_|mp-)")  # JACK servers in the play tests are not ours


def shm_entries() -> set[str]:
    try:
        return set(os.listdir("/dev/shm"))
    except FileNotFoundError:  # pragma: no cover
        return set()


def assert_no_new_shm(before: set[str]) -> None:
    """No entry created since ``before`` that looks like ours (other sessions may share /dev/shm)."""
    deadline = time.monotonic() + 1.0
    while True:
        new = {e for e in shm_entries() - before if _OURS.search(e)}
        if not new or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not new, f"leaked /dev/shm entries: {sorted(new)}"


def _proc_state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return data[data.rindex(")") + 2:].split()[0]


def children_of(pid: int) -> list[int]:
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                data = f.read()
        except OSError:
            continue
        fields = data[data.rindex(")") + 2:].split()
        if int(fields[1]) == pid and not is_resource_tracker(int(d)):  # the tracker outlives its spawner
            out.append(int(d))
    return out


def assert_gone(pids: list[int], timeout: float = 3.0) -> None:
    """Every pid has exited (absent, or a zombie left to a parent we do not control)."""
    deadline = time.monotonic() + timeout
    while True:
        alive = [p for p in pids if _proc_state(p) not in (None, "Z", "X")]
        if not alive or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not alive, f"processes still alive: {alive}"


def assert_no_children() -> None:
    assert multiprocess.active_children() == []
    assert children_of(os.getpid()) == [], f"child processes left: {children_of(os.getpid())}"


@pytest.fixture
def no_leaks():
    before = shm_entries()
    yield
    assert_no_children()
    assert_no_new_shm(before)


# ---------------------------------------------------------------------------------------------------------------
# a graph of tasks whose outputs are exactly predictable
# ---------------------------------------------------------------------------------------------------------------
def graph_deps(kind: str, n: int, seed: int = 1) -> list[tuple[int, ...]]:
    if kind == "chain":
        return [()] + [(i - 1,) for i in range(1, n)]
    if kind == "diamond":  # repeated diamonds: 0 -> (1, 2) -> 3 -> (4, 5) -> 6 ...
        deps: list[tuple[int, ...]] = [()]
        while len(deps) < n:
            top = len(deps) - 1
            deps += [(top,), (top,), (top + 1, top + 2)]
        return deps[:n]
    if kind == "dag":
        rng = random.Random(seed)
        deps = [()]
        for i in range(1, n):
            k = rng.randint(0, min(3, i))
            deps.append(tuple(sorted(rng.sample(range(i), k))))
        return deps
    raise ValueError(kind)


def expected(deps: list[tuple[int, ...]], k: int) -> list[np.ndarray]:
    vals: list[np.ndarray] = []
    for t, ds in enumerate(deps):
        v = np.arange(W - 2, dtype=np.int64) * 13 + (t + 1) * 1_000_003 + k * 7_919
        for d in ds:
            v = (v + vals[d] * (d + 3)) % 2_147_483_647
        vals.append(v)
    return vals


def make_tasks(arena: SharedArena, deps: list[tuple[int, ...]], nw: int, *, assign=None, slow: dict | None = None,
               fail: tuple[int, int] | None = None) -> list[Task]:
    a = arena.array
    slow = slow or {}
    tasks = []
    for t, ds in enumerate(deps):
        def run(k: int, slot: int, t=t, ds=ds) -> None:
            if fail is not None and (t, k) == fail:
                raise ValueError(f"boom in task {t} at block {k}")
            v = np.arange(W - 2, dtype=np.int64) * 13 + (t + 1) * 1_000_003 + k * 7_919
            for d in ds:
                src = a[d, slot]
                if src[0] != k or src[1] != d:  # producer/consumer protocol violated: wrong block in the slot
                    raise AssertionError(f"task {t} block {k}: slot {slot} of task {d} holds block {src[0]}")
                v = (v + src[2:] * (d + 3)) % 2_147_483_647
            if t in slow:
                time.sleep(slow[t])
            out = a[t, slot]
            out[2:] = v
            out[1] = t
            out[0] = k
        w = assign(t) if assign else t % nw
        tasks.append(Task(f"task{t}", run, ds, w))
    return tasks


# ---------------------------------------------------------------------------------------------------------------
# arena
# ---------------------------------------------------------------------------------------------------------------
def test_arena_shared_across_fork_and_nothing_in_dev_shm(no_leaks):
    before = shm_entries()
    with SharedArena((4, 256), np.float32) as arena:
        assert arena.name.startswith(f"phonon_{os.getpid()}_")
        assert arena.array.shape == (4, 256) and arena.array.dtype == np.float32
        assert not arena.array.any()
        assert shm_entries() == before or not {e for e in shm_entries() - before if "phonon" in e}
        pid = os.fork()
        if pid == 0:  # child: write, exit without cleanup
            arena.array[2, :] = 7.5
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        assert status == 0
        assert (arena.array[2] == 7.5).all() and not arena.array[1].any()
        # attach from a process that did not fork from us, by path
        path = arena.path
        assert path is not None and "memfd:phonon_" in os.readlink(path)
        other = SharedArena.attach(path, (4, 256), np.float32)
        other.array[3, 5] = 1.25
        assert arena.array[3, 5] == 1.25
        other.close()
    assert arena.closed and arena.path is None
    fds = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            fds.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass
    assert not [f for f in fds if arena.name in f]
    with open("/proc/self/maps") as f:
        assert arena.name not in f.read()


def test_arena_close_with_live_views_is_safe():
    arena = SharedArena(1024, np.int64)
    view = arena.array[10:20]
    view[:] = 3
    arena.close()
    arena.unlink()
    assert (view == 3).all()  # the mapping lives as long as a view does
    del view


# ---------------------------------------------------------------------------------------------------------------
# handoff
# ---------------------------------------------------------------------------------------------------------------
def test_handoff_ping_pong_no_lost_wakeups(no_leaks):
    """Semaphore path only (no spin) with a long timeout: a lost wake-up would stall a wait for 2 s."""
    ctx = default_context()
    h = Handoff(2, 2, ctx=ctx, initial=-1, spin_us=0, timeout=2.0)
    n = 1500

    def child():
        for i in range(n):
            h.wait(1, lambda i=i: h.load(0) >= i)
            h.publish(1, i, (0,))
        os._exit(0)

    proc = ctx.Process(target=child, daemon=True)
    proc.start()
    worst = 0.0
    for i in range(n):
        t0 = time.monotonic()
        h.publish(0, i, (1,))
        h.wait(0, lambda i=i: h.load(1) >= i)
        worst = max(worst, time.monotonic() - t0)
    proc.join(10)
    assert proc.exitcode == 0
    assert h.load(0) == n - 1 and h.load(1) == n - 1
    assert worst < 1.5, f"a round trip took {worst:.3f} s: lost wake-up"
    h.close()


@pytest.mark.parametrize("nw,spin", [(4, 0.0), (3, 30.0)])
def test_runtime_no_lost_wakeups_under_oversubscription(nw, spin, no_leaks):
    """Tiny tasks, more processes than cores, a 3 s wake-up timeout: every handoff must be woken by its writer
    (a lost wake-up would stall a block for the whole timeout)."""
    deps = graph_deps("dag", 12, seed=5)
    with SharedArena((12, 2, W), np.int64) as arena:
        tasks = make_tasks(arena, deps, nw, assign=lambda t: (t * 5 + 1) % nw)
        worst = 0.0
        with Runtime(tasks, nw, 2, spin_us=spin, wake_timeout=3.0) as rt:
            for k in range(int(os.environ.get("PHONON_STRESS_BLOCKS", 400))):
                t0 = time.monotonic()
                rt.wait_block(k)
                worst = max(worst, time.monotonic() - t0)
                rt.release_block(k)
            sleeps = sum(s.sleeps for s in rt.stats())
        assert worst < 2.0, f"a block took {worst:.2f} s: lost wake-up"
        assert sleeps > 0  # the semaphore path was exercised


def test_handoff_spin_adapts_to_long_waits(no_leaks):
    """Long waits (a busy producer) stop the spinning; waits that end within the window bring it back. The
    item becomes ready after a set time (long) or a set number of checks (short), in this process, so neither
    phase depends on how the machine schedules a producer process (one preempted for longer than the 2 ms
    window would make a short wait long)."""
    h = Handoff(2, 2, ctx=default_context(), initial=-1, spin_us=2000, timeout=0.002)

    def after_seconds(s):
        end = time.perf_counter() + s
        return lambda: time.perf_counter() >= end

    def after_checks(n):
        checks = iter(range(n))
        return lambda: next(checks, None) is None

    useful = []
    for _ in range(6):
        h.wait(0, after_seconds(0.02))  # 20 ms: far past the window
        useful.append(h._useful)
    for _ in range(16):
        h.wait(0, after_checks(3))  # ready on the third check: within the window
        useful.append(h._useful)
    assert useful[5] < 0.25  # after long waits: spins only min_spin_us, then sleeps
    assert useful[-1] >= 0.25  # short waits again: the spin window is back
    h.close()


def test_handoff_backend_is_usable():
    assert backend_name() in ("atomics", "numba")


# ---------------------------------------------------------------------------------------------------------------
# runtime: parallel equals serial
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind,n_tasks", [("chain", 6), ("diamond", 7), ("dag", 10)])
@pytest.mark.parametrize("nw", [1, 2, 3, 4])
@pytest.mark.parametrize("ring", [1, 2, 8])
def test_runtime_matches_serial(kind, n_tasks, nw, ring, no_leaks):
    deps = graph_deps(kind, n_tasks)
    blocks = 60
    with SharedArena((n_tasks, ring, W), np.int64) as arena:
        tasks = make_tasks(arena, deps, nw, assign=(lambda t: (t * 7 + 3) % nw) if kind == "dag" else None)
        rt = Runtime(tasks, nw, ring)
        with rt:
            for k in rt.iter_blocks(blocks):
                exp = expected(deps, k)
                slot = k % ring
                for s in rt.sinks:
                    got = arena.array[s, slot]
                    assert got[0] == k and got[1] == s
                    np.testing.assert_array_equal(got[2:], exp[s])
        stats = rt.stats()
    assert stats[0].process == 0
    assert sum(len(s.tasks) for s in stats) == n_tasks
    for s in stats:
        if s.tasks:
            assert s.blocks >= blocks - 1  # a process's last block may still be open when stop lands
    assert all(v >= 0 for v in rt.task_seconds().values())


def test_master_runs_explicit_and_all_workers_forked(no_leaks):
    deps = graph_deps("diamond", 7)
    with SharedArena((7, 2, W), np.int64) as arena:
        tasks = make_tasks(arena, deps, 2)
        # master_runs=[3]: task3 (the join of the first diamond) runs in the master, every slot is forked
        with Runtime(tasks, 2, 2, master_runs=[3]) as rt:
            assert rt.process_of("task3") == 0 and len(rt.pids) == 2
            for k in rt.iter_blocks(40):
                np.testing.assert_array_equal(arena.array[6, k % 2, 2:], expected(deps, k)[6])
        with Runtime(tasks, 2, 2, master_runs=[]) as rt:
            assert all(rt.process_of(t) != 0 for t in range(7))
            for k in rt.iter_blocks(40):
                np.testing.assert_array_equal(arena.array[6, k % 2, 2:], expected(deps, k)[6])


def test_explicit_sinks_and_block_limit(no_leaks):
    deps = graph_deps("chain", 4)
    with SharedArena((4, 2, W), np.int64) as arena:
        tasks = make_tasks(arena, deps, 3)
        with Runtime(tasks, 3, 2, sinks=["task1", 3]).start(n_blocks=20) as rt:
            for k in range(30):
                if k == 20:
                    time.sleep(0.05)
                    assert max(rt.done(t) for t in range(4)) == 19  # nothing ran past the limit
                    with pytest.raises(ValueError, match="limit"):
                        rt.wait_block(20)
                    rt.set_limit(30)
                rt.wait_block(k, ["task1"])
                np.testing.assert_array_equal(arena.array[1, k % 2, 2:], expected(deps, k)[1])
                rt.wait_block(k)
                np.testing.assert_array_equal(arena.array[3, k % 2, 2:], expected(deps, k)[3])
                rt.release_block(k)
            with pytest.raises(ValueError, match="not a sink"):
                rt.wait_block(5, ["task2"])
            with pytest.raises(ValueError, match="limit"):
                rt.wait_block(30)
            time.sleep(0.05)
            assert max(rt.done(t) for t in range(4)) == 29  # nothing ran past the limit


def test_a_task_reading_another_process_runs_a_step_behind_and_a_growing_limit_never_deadlocks(no_leaks):
    # 0 (process 1) -> 1 (master) -> 2 (process 1) -> 3 (master): each hop crosses processes, so the lags are
    # 0, 1, 2, 3; the limit grows a few blocks at a time, as playback raises it, while the master waits on the
    # most lagged sink and on task1, whose pass may hold items beyond the limit before it.
    deps = graph_deps("chain", 4)
    with SharedArena((4, 4, W), np.int64) as arena:
        tasks = make_tasks(arena, deps, 2, assign=lambda t: 1 - t % 2)
        for step in (3, 1):  # the limit grows 3 blocks at a time, then one block at a time (the tightest)
            with Runtime(tasks, 2, 4, sinks=["task1", "task3"]).start(n_blocks=step) as rt:
                assert rt.lags == {"task0": 0, "task1": 1, "task2": 2, "task3": 3}
                for k in range(40):
                    if k % step == 0:
                        time.sleep(0.002)
                        assert max(rt.done(t) for t in range(4)) <= k + step - 1  # nothing ran past the limit
                        rt.set_limit(k + step)
                    rt.wait_block(k)
                    for t in (1, 3):
                        np.testing.assert_array_equal(arena.array[t, k % 4, 2:], expected(deps, k)[t])
                    rt.release_block(k)
    with SharedArena((4, 2, W), np.int64) as arena:  # a ring of 2 cannot hold lag 3: no lags
        assert set(Runtime(make_tasks(arena, deps, 2, assign=lambda t: 1 - t % 2), 2, 2).lags.values()) == {0}


# ---------------------------------------------------------------------------------------------------------------
# backpressure: a slow consumer, producers never overwrite an unconsumed slot
# ---------------------------------------------------------------------------------------------------------------
def test_ring_backpressure_slow_master(no_leaks):
    deps = graph_deps("chain", 4)
    ring = 2
    with SharedArena((4, ring, W), np.int64) as arena:
        tasks = make_tasks(arena, deps, 4)
        with Runtime(tasks, 4, ring) as rt:
            for k in range(25):
                rt.wait_block(k)
                slot = arena.array[3, k % ring].copy()
                time.sleep(0.004)  # everyone else could run far ahead now
                assert rt.done(3) <= k + ring - 1, "the sink ran into a slot the master still holds"
                for t in range(3):  # producer t may lead its consumer by at most ring blocks
                    assert rt.done(t) <= rt.done(t + 1) + ring
                np.testing.assert_array_equal(arena.array[3, k % ring], slot)  # unchanged while held
                assert slot[0] == k
                np.testing.assert_array_equal(slot[2:], expected(deps, k)[3])
                rt.release_block(k)


def test_ring_backpressure_slow_worker_consumer(no_leaks):
    """A slow consumer in a worker re-reads its input after a pause: a producer overwriting early shows."""
    ring = 2
    with SharedArena((3, ring, W), np.int64) as arena:
        a = arena.array

        def produce(k, slot):
            a[0, slot, 2:] = k * 3 + np.arange(W - 2)
            a[0, slot, 0] = k

        def consume(k, slot):
            first = a[0, slot].copy()
            time.sleep(0.002)
            again = a[0, slot].copy()
            if first[0] != k or not np.array_equal(first, again):
                raise AssertionError(f"slot overwritten while block {k} was being read")
            a[1, slot] = again
            a[1, slot, 1] = 1

        tasks = [Task("produce", produce, (), 1), Task("consume", consume, (0,), 2)]
        with Runtime(tasks, 3, ring) as rt:
            for k in rt.iter_blocks(40):
                assert a[1, k % ring, 0] == k
                np.testing.assert_array_equal(a[1, k % ring, 2:], k * 3 + np.arange(W - 2))
                assert rt.done(0) <= rt.done(1) + ring


# ---------------------------------------------------------------------------------------------------------------
# waiting processes block instead of burning a core
# ---------------------------------------------------------------------------------------------------------------
def test_waiting_worker_uses_little_cpu(no_leaks):
    blocks, nap = 12, 0.03
    with SharedArena((2, 1, W), np.int64) as arena, SharedArena(4, np.float64) as cpu:
        a, c = arena.array, cpu.array

        def slow(k, slot):  # sleeps: no CPU
            time.sleep(nap)
            a[0, slot, 0] = k

        def waiter(k, slot):
            ru = resource.getrusage(resource.RUSAGE_SELF)
            if k == 1:
                c[0], c[1] = ru.ru_utime + ru.ru_stime, time.monotonic()
            if k == blocks - 1:
                c[2], c[3] = ru.ru_utime + ru.ru_stime, time.monotonic()
            a[1, slot, 0] = a[0, slot, 0]

        tasks = [Task("slow", slow, (), 1), Task("waiter", waiter, (0,), 2)]
        ru0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.monotonic()
        with Runtime(tasks, 3, 1, master_runs=[]) as rt:
            for k in rt.iter_blocks(blocks):
                assert a[1, 0, 0] == k
            stats = {s.tasks: s for s in rt.stats()}
        ru1 = resource.getrusage(resource.RUSAGE_SELF)
        wall = time.monotonic() - t0
        worker_cpu, worker_wall = c[2] - c[0], c[3] - c[1]
        assert worker_wall > 0.2
        assert worker_cpu < 0.25 * worker_wall, f"waiting worker used {worker_cpu:.3f} s CPU in {worker_wall:.3f} s"
        master_cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
        assert master_cpu < 0.5 * wall, f"waiting master used {master_cpu:.3f} s CPU in {wall:.3f} s"
        assert stats[("waiter",)].wait_s > 0.5 * worker_wall
        assert stats[("waiter",)].sleeps > 0


# ---------------------------------------------------------------------------------------------------------------
# supervision
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ring", [1, 4])
def test_sigkill_worker_raises_worker_died(ring, no_leaks):
    deps = graph_deps("diamond", 7)
    with SharedArena((7, ring, W), np.int64) as arena:
        tasks = make_tasks(arena, deps, 3, slow={t: 0.001 for t in range(7)})
        rt = Runtime(tasks, 3, ring)
        victim_tasks = tuple(t.name for t in tasks if t.worker == 2)
        with pytest.raises(WorkerDied) as info:
            with rt:
                pids = rt.pids
                victim = pids[1]
                assert rt.stats()[2].tasks == victim_tasks
                k = 0
                killed_at = None
                while True:
                    rt.wait_block(k)
                    rt.release_block(k)
                    k += 1
                    if k == 15:
                        os.kill(victim, signal.SIGKILL)
                        killed_at = time.monotonic()
        elapsed = time.monotonic() - killed_at
        assert elapsed < 2.0, f"noticed after {elapsed:.2f} s"
        assert info.value.task_names == victim_tasks
        assert info.value.exitcode == -signal.SIGKILL
        assert "SIGKILL" in str(info.value) and victim_tasks[0] in str(info.value)
        assert_gone(pids)
        with pytest.raises(RuntimeStopped):
            rt.wait_block(k)


@pytest.mark.parametrize("nw,where", [(1, 0), (2, 0), (3, 2), (3, 1)])
def test_task_exception_surfaces_as_task_failed(nw, where, no_leaks):
    deps = graph_deps("chain", 3)
    with SharedArena((3, 2, W), np.int64) as arena:
        # task `where` runs on process `where` (worker 0 is the master when nw > 1)
        tasks = make_tasks(arena, deps, nw, assign=lambda t: t % nw, fail=(where, 5))
        t0 = time.monotonic()
        with pytest.raises(TaskFailed) as info:
            with Runtime(tasks, nw, 2) as rt:
                for _ in rt.iter_blocks(1000):
                    pass
        assert time.monotonic() - t0 < 5
        assert info.value.task_name == f"task{where}"
        assert "boom in task" in info.value.traceback_text and "ValueError" in info.value.traceback_text
        assert "boom in task" in str(info.value)


def test_worker_exiting_on_its_own_is_worker_died(no_leaks):
    def bye(k, slot):
        if k == 3:
            os._exit(7)

    tasks = [Task("bye", bye, (), 1), Task("sink", lambda k, s: None, (0,), 0)]
    with pytest.raises(WorkerDied) as info:
        with Runtime(tasks, 2, 2) as rt:
            for _ in rt.iter_blocks(1000):
                pass
    assert info.value.exitcode == 7 and info.value.task_names == ("bye",)


def test_stop_reports_a_failure_the_master_did_not_wait_for(no_leaks):
    def bad(k, slot):
        if k == 2:
            raise KeyError("late failure")

    tasks = [Task("bad", bad, (), 1), Task("sink", lambda k, s: None, (), 0)]
    rt = Runtime(tasks, 2, 4, sinks=["sink"])
    with pytest.raises(TaskFailed, match="late failure"):
        with rt:
            rt.wait_block(0)
            time.sleep(0.3)  # the worker fails meanwhile; the master never waits on it
    assert rt.stats()[1].tasks == ("bad",)


def test_validation_errors():
    noop = lambda k, s: None  # noqa: E731
    with pytest.raises(ValueError, match="cycle"):
        Runtime([Task("a", noop, (1,), 0), Task("b", noop, (0,), 1)], 2, 2)
    with pytest.raises(ValueError, match="order"):  # b depends on a but runs before it in the same process
        Runtime([Task("b", noop, (1,), 0), Task("a", noop, (), 0)], 1, 2)
    with pytest.raises(ValueError, match="order"):  # cross-process cycle through the run orders
        Runtime([Task("x", noop, (3,), 0), Task("y", noop, (), 0), Task("p", noop, (1,), 1),
                 Task("q", noop, (), 1)], 2, 2)
    with pytest.raises(ValueError, match="worker"):
        Runtime([Task("a", noop, (), 2)], 2, 2)
    with pytest.raises(ValueError, match="unique"):
        Runtime([Task("a", noop, (), 0), Task("a", noop, (), 0)], 1, 2)
    with pytest.raises(ValueError, match="ring"):
        Runtime([Task("a", noop, (), 0)], 1, 0)


def test_api_misuse_is_reported_not_hung(no_leaks):
    noop = lambda k, s: None  # noqa: E731
    rt = Runtime([Task("a", noop, (), 1), Task("b", noop, (0,), 0)], 2, 2)
    with pytest.raises(RuntimeStopped):
        rt.wait_block(0)
    with rt:
        rt.wait_block(0)
        rt.wait_block(1)
        with pytest.raises(RuntimeError, match="deadlock"):
            rt.wait_block(3)  # block 0 was never released: ring 2 is full
        rt.release_block(1)
        assert rt.wait_block(3) == 1
        assert rt.poll_block(3)
        with pytest.raises(ValueError, match="already released"):
            rt.wait_block(1)
    with pytest.raises(RuntimeStopped):
        rt.wait_block(4)
    assert rt.stop() == rt.stats()  # idempotent


# ---------------------------------------------------------------------------------------------------------------
# signals: a render-like job in a subprocess
# ---------------------------------------------------------------------------------------------------------------
RENDER_SCRIPT = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {root!r})
    import numpy as np
    from phonon.workers import Runtime, SharedArena, Task

    arena = SharedArena((4, 2, 512), np.float64)
    a = arena.array

    def make(t, deps):
        def run(k, slot):
            x = np.sin(np.arange(512) * 0.01 * (t + 1) + k)
            for d in deps:
                x = x + a[d, slot]
            a[t, slot] = x
            time.sleep(0.0005)
        return run

    deps = [(), (0,), (0,), (1, 2)]
    tasks = [Task(f"t{{i}}", make(i, d), d, i % 3) for i, d in enumerate(deps)]
    with arena, Runtime(tasks, 3, 2) as rt:
        print("PIDS", *rt.pids, flush=True)
        k = 0
        try:
            while True:
                rt.wait_block(k)
                rt.release_block(k)
                k += 1
                if k == 20:
                    print("RUNNING", flush=True)
        except KeyboardInterrupt:
            print("INTERRUPTED", k, flush=True)
            raise SystemExit(130)
""")


@pytest.mark.parametrize("how", ["sigint-group", "sigterm-master", "sigkill-master"])
def test_signals_to_a_render_leave_nothing_behind(how, tmp_path):
    script = tmp_path / "render.py"
    script.write_text(RENDER_SCRIPT.format(root=str(ROOT)))
    before = shm_entries()
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        pids_line = proc.stdout.readline()
        assert pids_line.startswith("PIDS"), pids_line + proc.stderr.read()
        pids = [int(p) for p in pids_line.split()[1:]]
        assert len(pids) == 2
        assert proc.stdout.readline().strip() == "RUNNING"
        if how == "sigint-group":
            os.killpg(proc.pid, signal.SIGINT)
        elif how == "sigterm-master":
            os.kill(proc.pid, signal.SIGTERM)
        else:
            os.kill(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    if how == "sigint-group":
        assert proc.returncode == 130, err
        assert "INTERRUPTED" in out
        assert "Traceback" not in err, err
        assert "KeyboardInterrupt" not in err, err
    elif how == "sigterm-master":
        assert proc.returncode == -signal.SIGTERM
    else:
        assert proc.returncode == -signal.SIGKILL
    assert_gone(pids)
    assert_no_new_shm(before)


def test_numba_atomics_backend_in_subprocess():
    """The fallback backend (no `atomics` package) runs the same runtime correctly."""
    code = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(ROOT)!r})
        import numpy as np
        from phonon.workers import Runtime, SharedArena, Task, backend_name
        arena = SharedArena((3, 2), np.int64)
        a = arena.array
        def t0(k, s): a[0, s] = k
        def t1(k, s): a[1, s] = a[0, s] * 2
        def t2(k, s): a[2, s] = a[1, s] + a[0, s]
        tasks = [Task("a", t0, (), 1), Task("b", t1, (0,), 2), Task("c", t2, (1, 0), 0)]
        with arena, Runtime(tasks, 3, 2) as rt:
            for k in rt.iter_blocks(300):
                assert a[2, k % 2] == 3 * k, (k, a[2, k % 2])
        print(backend_name())
    """)
    env = dict(os.environ, PHONON_ATOMICS="numba")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "numba"
