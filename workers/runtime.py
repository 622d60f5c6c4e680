"""Generic multi-process block runtime: tasks with dependencies, run block after block by forked workers.

Nothing here knows about audio. A *task* is ``Task(name, run, deps, worker)``; ``run(block, slot)`` computes
block ``block`` into ring slot ``slot = block % ring`` of whatever shared memory the caller set up (usually a
``workers.SharedArena`` created *before* ``start()``, so the forked workers inherit it).

Scheduling rule (per task ``t`` and block ``k``)
-----------------------------------------------
``t`` runs block ``k`` only when

* every dep ``d`` of ``t`` has completed block ``k`` (its data for ``k`` is published);
* every consumer ``c`` of ``t`` (tasks listing ``t`` in their deps) has completed block ``k - ring``, and, if
  ``t`` is a *sink*, the master has released block ``k - ring`` (so ring slot ``k % ring`` is free again);
* ``k`` is below the block limit (``start(n_blocks)`` / ``set_limit``), if any.

Each process runs its own tasks in the order they appear in ``tasks``, block after block, as far ahead as those
rules allow; there is no barrier per block. The per-process orders, together with the dependencies, must be
acyclic (checked in the constructor): then no schedule can deadlock.

Pipelining: a task that reads another process's output runs one block behind it (its *lag* is one more than
that producer's). In its pass ``i`` over its tasks a process runs task ``t`` for block ``i - lag[t]``, so it never
waits for a block that another process is computing at the same moment: a whole pass of slack absorbs the
jitter of the other process, where without lags each cross-process dependency costs the difference in their
finishing times every block. Lags are used when the ring can hold them (``ring > max lag``), else all are 0.

Processes
---------
* ``n_workers == 1``: no fork at all; the master runs every task itself, inside ``wait_block``, through the
  same scheduling code (same readiness checks, same counters) as the parallel case.
* ``n_workers > 1`` and ``master_runs=None`` (the default): **worker slot 0 is the master process**. Tasks with
  ``worker == 0`` run in the master (inside ``wait_block`` / ``poll_block``; while it waits for sinks it runs
  its next tasks, possibly for later blocks, whenever they are ready); every other slot that has tasks is one
  forked process. So ``n_workers`` is the number of processes that compute, the natural meaning of
  ``--workers N`` on N cores.
* ``master_runs=[...]``: exactly those tasks run in the master; every slot ``0..n_workers-1`` that has other
  tasks is a forked process (``master_runs=[]`` gives ``n_workers`` forked workers and a master that only
  consumes).

Master API: ``start(n_blocks=None)``, ``wait_block(k, sinks=None)``, ``poll_block(k, sinks=None)``,
``release_block(k)``, ``iter_blocks(n)``, ``set_limit(n_blocks)``, ``stop()``, ``stats()``, context manager.
A ``Runtime`` is driven by one thread of the master.

Supervision
-----------
* A task that raises in a worker: the worker sends the traceback text through a pipe, flags the failure and
  exits; the master raises ``TaskFailed(task_name, traceback_text)`` at its next runtime call (or at once if it
  is waiting) after tearing everything down. A task that raises in the master is wrapped the same way.
* A worker that dies (``kill -9``, segfault, ``os._exit``): the master's waits wake at least every 50 ms and
  check the workers' exit codes every ``check_interval`` (0.1 s), so ``WorkerDied(task_names, exitcode)`` is
  raised well within a second; remaining workers are terminated (SIGTERM, then SIGKILL after a second) and
  joined. ``stop()`` gives workers ``stop_timeout`` to finish their task, then SIGKILLs them; a stopped worker
  (SIGSTOP, Ctrl-Z) cannot answer, so it is SIGKILLed at once and Ctrl-C stays prompt. A dead worker is not
  replaced: the render stops cleanly (the caller reports it), since the state of its tasks (filters,
  delays, voices) died with it and a replacement could not go on with the same samples.
* Workers ignore SIGINT (Ctrl-C reaches the whole process group: the master gets ``KeyboardInterrupt``, its
  ``with`` block tears the workers down, and workers never print tracebacks); they reset SIGTERM to default.
* Workers die with the master: ``PR_SET_PDEATHSIG(SIGKILL)`` (Linux, when ``start()`` runs on the main thread:
  the signal fires when the *forking thread* exits), plus a watchdog in every wait (parent pid changed ->
  exit), plus ``daemon=True`` (multiprocess's atexit terminates them).
* Shared memory: the counters and the arenas are anonymous mappings / memfds, so nothing is ever left in
  ``/dev/shm`` whatever happens (see ``workers.arena``).
"""

from __future__ import annotations

import ctypes
import mmap
import os
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator, Sequence

from .handoff import Handoff, default_context

__all__ = ["Task", "Runtime", "WorkerDied", "TaskFailed", "ProcessStats", "RuntimeStopped"]

UNLIMITED = 1 << 62
_MAX_TB = 32_000

# extra cells of the handoff control block
_STOP, _FAILED = 0, 1
# per-process stats row (int64 cells)
_S_BLOCKS, _S_BUSY, _S_WAIT, _S_SLEEPS, _S_PID, _S_ROW = 0, 1, 2, 3, 4, 8


@dataclass(frozen=True)
class Task:
    """One schedulable unit. ``run(block, slot)``; ``deps`` are indices into the task list; ``worker`` is the
    slot (0..n_workers-1) whose process runs it."""

    name: str
    run: Callable[[int, int], None]
    deps: tuple[int, ...] = ()
    worker: int = 0


class WorkerDied(RuntimeError):
    """A worker process exited without being asked to (killed, crashed)."""

    def __init__(self, task_names: Sequence[str], exitcode: int | None, *, pid: int | None = None,
                 process: int | None = None):
        self.task_names = tuple(task_names)
        self.exitcode = exitcode
        self.pid = pid
        self.process = process
        how = f"exit code {exitcode}"
        if exitcode is not None and exitcode < 0:
            try:
                how += f" ({signal.Signals(-exitcode).name})"
            except ValueError:
                pass
        super().__init__(f"worker process {process} (pid {pid}) died with {how}; "
                         f"it ran tasks: {', '.join(self.task_names) or '(none)'}")


class TaskFailed(RuntimeError):
    """A task raised. ``traceback_text`` is the formatted traceback from the process that ran it."""

    def __init__(self, task_name: str, traceback_text: str):
        self.task_name = task_name
        self.traceback_text = traceback_text
        last = traceback_text.strip().splitlines()[-1] if traceback_text.strip() else ""
        super().__init__(f"task {task_name!r} failed: {last}\n{traceback_text}")


class RuntimeStopped(RuntimeError):
    """The runtime was used after ``stop()`` or after a failure tore it down."""


@dataclass
class ProcessStats:
    """Counters of one process. ``process`` 0 is the master; ``slot`` is the ``Task.worker`` slot it serves
    (None for the master when it runs no slot). ``wait_s`` is the time spent waiting in the handoff (spinning
    or sleeping), ``busy_s`` the time spent inside task ``run`` calls, ``blocks`` the number of blocks for which
    it completed all its tasks, ``sleeps`` how often it blocked on its semaphore."""

    process: int
    slot: int | None
    pid: int
    tasks: tuple[str, ...]
    blocks: int
    busy_s: float
    wait_s: float
    sleeps: int
    alive: bool = field(default=True)


class _Stop(BaseException):
    """Raised inside a worker to leave its loop (stop requested or master gone)."""


def die_with_parent(sig: int) -> None:
    """Have the kernel send `sig` to this (forked) process when the thread that forked it ends (Linux)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(sig), 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except Exception:
        pass


class Runtime:
    """See the module docstring. ``sinks``: tasks whose outputs the master reads (default: the tasks no other
    task depends on); they are the only ones ``wait_block`` accepts, and their ring slots are held until
    ``release_block``. ``spin_us``: longest spin before sleeping (default 50 us, adaptive, see ``workers.handoff``;
    0 when there are more processes than CPUs). ``check_interval``: how often the master checks worker liveness while waiting. ``wake_timeout``: the
    longest a process sleeps on its semaphore before re-checking (safety net; liveness checks ride on it).
    ``stop_timeout``: how long ``stop()`` waits for workers to finish before killing them."""

    def __init__(self, tasks: Sequence[Task], n_workers: int, ring: int, *, master_runs: Iterable[int] | None = None,
                 sinks: Iterable[int | str] | None = None, spin_us: float | None = None,
                 check_interval: float = 0.1, stop_timeout: float = 2.0, wake_timeout: float = 0.05):
        self.tasks: list[Task] = list(tasks)
        self.n_workers = int(n_workers)
        self.ring = int(ring)
        self.check_interval = float(check_interval)
        self.stop_timeout = float(stop_timeout)
        T = len(self.tasks)
        if self.n_workers < 1:
            raise ValueError("Runtime: n_workers must be >= 1")
        if self.ring < 1:
            raise ValueError("Runtime: ring must be >= 1")
        names = [t.name for t in self.tasks]
        if len(set(names)) != T:
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"Runtime: task names must be unique (duplicated: {', '.join(dup)})")
        self._index = {n: i for i, n in enumerate(names)}
        deps: list[tuple[int, ...]] = []
        for i, t in enumerate(self.tasks):
            if not callable(t.run):
                raise TypeError(f"Runtime: task {t.name!r}: run is not callable")
            if not (0 <= int(t.worker) < self.n_workers):
                raise ValueError(f"Runtime: task {t.name!r}: worker {t.worker} is not in 0..{self.n_workers - 1}")
            ds = []
            for d in t.deps:
                d = int(d)
                if not 0 <= d < T:
                    raise ValueError(f"Runtime: task {t.name!r}: dep {d} is not a task index (0..{T - 1})")
                if d == i:
                    raise ValueError(f"Runtime: task {t.name!r} depends on itself")
                if d not in ds:
                    ds.append(d)
            deps.append(tuple(ds))
        self._deps = deps
        consumers: list[list[int]] = [[] for _ in range(T)]
        for i, ds in enumerate(deps):
            for d in ds:
                consumers[d].append(i)
        self._consumers = [tuple(c) for c in consumers]

        # -- sinks -----------------------------------------------------------------------------------------
        if sinks is None:
            self.sinks = tuple(i for i in range(T) if not consumers[i])
        else:
            self.sinks = tuple(sorted({self._resolve(s) for s in sinks}))
        self._sink_set = frozenset(self.sinks)

        # -- processes ---------------------------------------------------------------------------------------
        master_set: set[int]
        if self.n_workers == 1:
            master_set = set(range(T))
            self._master_slot: int | None = 0
        elif master_runs is None:
            master_set = {i for i, t in enumerate(self.tasks) if t.worker == 0}
            self._master_slot = 0
        else:
            master_set = {self._resolve(i) for i in master_runs}
            self._master_slot = None
        slots_forked = sorted({t.worker for i, t in enumerate(self.tasks) if i not in master_set})
        self._proc_slot: list[int | None] = [self._master_slot] + list(slots_forked)
        slot_proc = {s: p + 1 for p, s in enumerate(slots_forked)}
        self._task_proc = [0 if i in master_set else slot_proc[t.worker] for i, t in enumerate(self.tasks)]
        self.n_procs = 1 + len(slots_forked)
        self._order: list[tuple[int, ...]] = [tuple(i for i in range(T) if self._task_proc[i] == p)
                                              for p in range(self.n_procs)]
        self._check_deadlock_free()
        self._lag = self._lags()

        # -- counters: task done counters, then RELEASED, then LAST (last block allowed) ---------------------
        self._RELEASED = T
        self._LAST = T + 1
        # needs[t]: ((counter, offset), ...): counter >= k - offset is required to run block k
        needs: list[tuple[tuple[int, int], ...]] = []
        waiters: list[set[int]] = [set() for _ in range(T + 2)]
        order_pos = {t: n for p in range(self.n_procs) for n, t in enumerate(self._order[p])}
        for t in range(T):
            p = self._task_proc[t]
            req: list[tuple[int, int]] = []
            for d in deps[t]:
                if self._task_proc[d] == p and order_pos[d] < order_pos[t]:
                    continue  # same process, earlier in its order: always done already
                req.append((d, 0))
            for c in self._consumers[t]:
                if self._task_proc[c] == p:
                    continue  # same process: it finished block k-1 (>= k-ring) before starting block k
                req.append((c, self.ring))
            if t in self._sink_set:
                req.append((self._RELEASED, self.ring))
            req.append((self._LAST, 0))
            needs.append(tuple(req))
            for cnt, _ in req:
                waiters[cnt].add(p)
        for s in self.sinks:
            waiters[s].add(0)  # the master waits on sinks in wait_block
        self._needs = needs
        self._notify = [tuple(sorted(w - ({self._task_proc[i]} if i < T else {0}))) for i, w in enumerate(waiters)]

        if spin_us is None:
            try:
                ncpu = len(os.sched_getaffinity(0))
            except (AttributeError, OSError):  # pragma: no cover
                ncpu = os.cpu_count() or 1
            spin_us = 50.0 if self.n_procs <= ncpu else 0.0
        self.spin_us = float(spin_us)
        self._ctx = default_context()
        self._h: Handoff | None = Handoff(T + 2, self.n_procs, ctx=self._ctx, initial=-1, extra=2,
                                          spin_us=self.spin_us, timeout=wake_timeout)
        self._load = self._h.load
        # stats: one row of _S_ROW int64 per process, then one int64 (busy ns) per task; each cell has one writer
        self._task_off = self.n_procs * _S_ROW
        self._stats_mm = mmap.mmap(-1, (self._task_off + T + 1) * 8, flags=mmap.MAP_SHARED,
                                   prot=mmap.PROT_READ | mmap.PROT_WRITE)
        self._statq = memoryview(self._stats_mm).cast("q")
        self._final_task_seconds: dict[str, float] = {}
        self._pdeathsig = False
        self._seen = [-1] * (T + 2)

        self._procs: list = [None] * self.n_procs  # multiprocess.Process per forked worker
        self._conns: list = [None] * self.n_procs
        self._state = "new"  # new -> running -> stopped
        self._proc_id = 0  # which process this object lives in (changes in forked workers)
        self._master_pid = os.getpid()
        self._master_nxt = [0] * len(self._order[0])  # next block of each of the master's tasks
        self._cursor = 0  # position of the master's next item in its order
        self._last_check = 0.0
        self._final_stats: list[ProcessStats] | None = None
        self._error: BaseException | None = None

    # -----------------------------------------------------------------------------------------------------
    # construction helpers
    # -----------------------------------------------------------------------------------------------------
    def _resolve(self, t: int | str) -> int:
        if isinstance(t, str):
            try:
                return self._index[t]
            except KeyError:
                raise ValueError(f"Runtime: no task named {t!r}") from None
        t = int(t)
        if not 0 <= t < len(self.tasks):
            raise ValueError(f"Runtime: {t} is not a task index (0..{len(self.tasks) - 1})")
        return t

    @property
    def lags(self) -> dict[str, int]:
        """Task name -> how many steps behind the first pass it runs (see "Pipelining" above)."""
        return {t.name: lag for t, lag in zip(self.tasks, self._lag)}

    def _lags(self) -> list[int]:
        """lag[t]: 0 without cross-process deps, else one more than its highest lagging cross-process dep
        (same-process deps: as high as theirs). All 0 when the ring cannot hold the largest lag."""
        lag: dict[int, int] = {}

        def of(t: int) -> int:
            if t not in lag:
                lag[t] = max((of(d) + (self._task_proc[d] != self._task_proc[t]) for d in self._deps[t]), default=0)
            return lag[t]

        lags = [of(t) for t in range(len(self.tasks))]
        return lags if max(lags, default=0) < self.ring else [0] * len(lags)

    def _check_deadlock_free(self) -> None:
        """Dependencies plus each process's run order must form a DAG, else some schedule deadlocks."""
        T = len(self.tasks)
        succ: list[set[int]] = [set() for _ in range(T)]
        for t, ds in enumerate(self._deps):
            for d in ds:
                succ[d].add(t)
        for order in self._order:
            for a, b in zip(order, order[1:]):
                succ[a].add(b)
        indeg = [0] * T
        for s in succ:
            for b in s:
                indeg[b] += 1
        stack = [t for t in range(T) if indeg[t] == 0]
        seen = 0
        while stack:
            a = stack.pop()
            seen += 1
            for b in succ[a]:
                indeg[b] -= 1
                if indeg[b] == 0:
                    stack.append(b)
        if seen != T:
            stuck = [self.tasks[t].name for t in range(T) if indeg[t] > 0]
            raise ValueError("Runtime: the dependencies form a cycle, or a process's task order contradicts them "
                             "(a task must come after every task it depends on, directly or through other "
                             f"processes); involved tasks: {', '.join(stuck)}")

    # -----------------------------------------------------------------------------------------------------
    # readiness and execution (shared by master and workers)
    # -----------------------------------------------------------------------------------------------------
    def _ready(self, t: int, k: int) -> bool:
        seen = self._seen
        load = self._load
        for cnt, off in self._needs[t]:
            need = k - off
            if seen[cnt] < need:
                v = load(cnt)
                seen[cnt] = v
                if v < need:
                    return False
        return True

    def _run_item(self, t: int, k: int) -> None:
        """Run task ``t`` for block ``k`` (it is ready) and publish it."""
        clock = time.perf_counter_ns
        t0 = clock()
        self.tasks[t].run(k, k % self.ring)
        dt = clock() - t0
        q = self._statq
        row = self._proc_id * _S_ROW
        q[row + _S_BUSY] += dt
        q[self._task_off + t] += dt
        self._h.publish(t, k, self._notify[t])

    def _account_wait(self, waited: tuple[int, int]) -> None:
        if waited[0]:
            q = self._statq
            row = self._proc_id * _S_ROW
            q[row + _S_WAIT] += waited[0]
            q[row + _S_SLEEPS] += waited[1]

    # -----------------------------------------------------------------------------------------------------
    # worker side
    # -----------------------------------------------------------------------------------------------------
    def _worker_main(self, p: int, conn) -> None:  # runs in the forked child
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if hasattr(signal, "pthread_sigmask"):  # start() forked with SIGINT blocked (no window for a traceback)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        if self._pdeathsig:
            die_with_parent(signal.SIGKILL)
        if os.getppid() != self._master_pid:  # the master died before prctl took effect
            os._exit(0)
        self._proc_id = p
        for c in self._conns:  # the master's read ends
            if c is not None:
                try:
                    c.close()
                except OSError:
                    pass
        self._statq[p * _S_ROW + _S_PID] = os.getpid()
        code = 0
        try:
            self._worker_loop(p)
        except _Stop:
            code = 0
        except BaseException as exc:  # a task raised: report, then exit
            name = getattr(exc, "_phonon_task", "(worker runtime)")
            tb = traceback.format_exc()
            if len(tb) > _MAX_TB:
                tb = tb[:2000] + "\n...\n" + tb[-(_MAX_TB - 2000):]
            try:
                conn.send((name, tb))
            except Exception:
                pass
            try:
                self._h.cells.store(self._h._extra0 + _FAILED, p)
                self._h.wake([0])
            except Exception:
                pass
            code = 1
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
        os._exit(code)

    def _worker_poll(self) -> None:
        if self._h.cell(_STOP):
            raise _Stop
        if os.getppid() != self._master_pid:
            raise _Stop

    def _pick(self, p: int, nxt: list[int]) -> int:
        """Position in process ``p``'s order of its next item, given each task's next block ``nxt``: the
        earliest in pass order (block + lag, then position) within the block limit, else the earliest (it
        waits for the limit to grow). A task's item never depends on a same-process item later in pass order,
        nor on one beyond the limit when its own block is within it, so this order never deadlocks, and the
        master may need an item within the limit before it raises the limit."""
        last = self._load(self._LAST)
        lag = self._lag
        order = self._order[p]
        best, best_key, first, first_key = -1, 0, 0, nxt[0] + lag[order[0]]
        for pos, t in enumerate(order):
            key = nxt[pos] + lag[t]
            if nxt[pos] <= last and (best < 0 or key < best_key):
                best, best_key = pos, key
            if key < first_key:
                first, first_key = pos, key
        return best if best >= 0 else first

    def _worker_loop(self, p: int) -> None:
        h = self._h
        ready = self._ready
        wait = h.wait
        poll = self._worker_poll
        q = self._statq
        row = p * _S_ROW
        tasks = self.tasks
        order = self._order[p]
        nxt = [0] * len(order)  # each task's next block
        while True:
            if h.cell(_STOP):
                raise _Stop
            pos = self._pick(p, nxt)
            t, k = order[pos], nxt[pos]
            if not ready(t, k):
                self._account_wait(wait(p, lambda t=t, k=k: ready(t, k), poll))
            try:
                self._run_item(t, k)
            except BaseException as exc:
                try:
                    exc._phonon_task = tasks[t].name
                except Exception:
                    pass
                raise
            nxt[pos] += 1
            q[row + _S_BLOCKS] = min(nxt)

    # -----------------------------------------------------------------------------------------------------
    # master side
    # -----------------------------------------------------------------------------------------------------
    def start(self, n_blocks: int | None = None) -> "Runtime":
        """Fork the workers (after the tasks and their shared memory exist). ``n_blocks``: run blocks
        ``0..n_blocks-1`` only (default: unlimited; extend with ``set_limit``)."""
        if self._state != "new":
            raise RuntimeStopped("Runtime.start: already started")
        if n_blocks is not None:
            self.set_limit(n_blocks)
        elif self._load(self._LAST) < 0:
            self._h.publish(self._LAST, UNLIMITED - 1)
        self._statq[_S_PID] = os.getpid()
        self._pdeathsig = threading.current_thread() is threading.main_thread()
        self._state = "running"
        try:
            with _SigintDeferred():  # a Ctrl-C now is delivered to the master after the forks
                for p in range(1, self.n_procs):
                    r, w = self._ctx.Pipe(duplex=False)
                    self._conns[p] = r
                    proc = self._ctx.Process(target=self._worker_main, args=(p, w), daemon=True,
                                             name=f"phonon-worker-{p}")
                    proc.start()
                    w.close()
                    self._procs[p] = proc
        except BaseException:
            self._abort()
            raise
        self._last_check = time.monotonic()
        return self

    def set_limit(self, n_blocks: int) -> None:
        """Allow blocks up to ``n_blocks - 1`` (the limit only grows)."""
        last = int(n_blocks) - 1
        if last > self._load(self._LAST):
            self._h.publish(self._LAST, last)
            self._h.wake(range(1, self.n_procs))

    def release_block(self, k: int) -> None:
        """The master has consumed block ``k`` of the sinks (and every earlier block): their slots may be reused."""
        self._check_running()
        if k > self._load(self._RELEASED):
            self._h.publish(self._RELEASED, int(k), self._notify[self._RELEASED])

    def _sink_list(self, sinks) -> tuple[int, ...]:
        if sinks is None:
            return self.sinks
        out = []
        for s in ([sinks] if isinstance(sinks, (int, str)) else sinks):
            i = self._resolve(s)
            if i not in self._sink_set:
                raise ValueError(f"Runtime: task {self.tasks[i].name!r} is not a sink: its ring slots are not held "
                                 "for the master (declare it in Runtime(..., sinks=...))")
            out.append(i)
        return tuple(out)

    def _sinks_done(self, S: tuple[int, ...], k: int) -> bool:
        seen = self._seen
        load = self._load
        for s in S:
            if seen[s] < k:
                v = load(s)
                seen[s] = v
                if v < k:
                    return False
        return True

    def _master_next(self) -> tuple[int, int] | None:
        order = self._order[0]
        if not order:
            return None
        self._cursor = self._pick(0, self._master_nxt)
        return order[self._cursor], self._master_nxt[self._cursor]

    def _master_advance(self) -> None:
        self._master_nxt[self._cursor] += 1
        self._statq[_S_BLOCKS] = min(self._master_nxt)

    def _master_run(self, t: int, k: int) -> None:
        try:
            self._run_item(t, k)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:
            tb = traceback.format_exc()
            self._abort()
            raise TaskFailed(self.tasks[t].name, tb) from exc
        self._master_advance()

    def poll_block(self, k: int, sinks: Iterable[int | str] | None = None) -> bool:
        """Non-blocking: run the master's ready tasks, then say whether the sinks have completed block ``k``."""
        self._check_running()
        self._master_poll(force=False)
        S = self._sink_list(sinks)
        while True:
            if self._sinks_done(S, k):
                return True
            item = self._master_next()
            if item is None or not self._ready(*item):
                return False
            self._master_run(*item)

    def wait_block(self, k: int, sinks: Iterable[int | str] | None = None) -> int:
        """Block until the sinks (default: all sinks) have completed block ``k``; the master runs its own tasks
        meanwhile. Returns the ring slot ``k % ring`` to read. Raises ``TaskFailed`` / ``WorkerDied`` (after
        tearing everything down), ``ValueError`` for a block already released or beyond the limit, and
        ``RuntimeError`` when waiting could never end (``release_block(k - ring)`` missing)."""
        self._check_running()
        k = int(k)
        S = self._sink_list(sinks)
        if S and k <= self._load(self._RELEASED):
            raise ValueError(f"Runtime.wait_block({k}): block {k} was already released; its slot may hold a later "
                             "block")
        if k > self._load(self._LAST):
            raise ValueError(f"Runtime.wait_block({k}): beyond the block limit ({self._load(self._LAST) + 1} blocks)")
        if S and self._load(self._RELEASED) < k - self.ring:
            raise RuntimeError(f"Runtime.wait_block({k}) would deadlock: release_block({k - self.ring}) first "
                               f"(ring {self.ring} holds only that many unreleased blocks)")
        self._master_poll(force=False)
        h = self._h
        ready = self._ready
        sinks_done = self._sinks_done
        while True:
            if sinks_done(S, k):
                return k % self.ring
            item = self._master_next()
            if item is not None and ready(*item):
                self._master_run(*item)
                continue
            if self.n_procs == 1:
                raise RuntimeError(f"Runtime.wait_block({k}): nothing can run (internal scheduling error)")
            if item is None:
                pred = lambda: sinks_done(S, k)  # noqa: E731
            else:
                t, b = item
                pred = lambda: sinks_done(S, k) or ready(t, b)  # noqa: E731
            self._account_wait(h.wait(0, pred, self._master_poll))
            self._master_poll(force=False)

    def iter_blocks(self, n_blocks: int, sinks: Iterable[int | str] | None = None) -> Iterator[int]:
        """``for k in rt.iter_blocks(n): read the sinks' slot k % ring`` (each block is released when the loop
        asks for the next one, and the last one at the end)."""
        for k in range(n_blocks):
            self.wait_block(k, sinks)
            yield k
            self.release_block(k)

    def _check_running(self) -> None:
        if self._state == "running":
            return
        if self._state == "new":
            raise RuntimeStopped("Runtime: call start() first (or use it as a context manager)")
        if self._error is not None:
            raise RuntimeStopped(f"Runtime: torn down after an error: {self._error}")
        raise RuntimeStopped("Runtime: already stopped")

    # -- supervision ------------------------------------------------------------------------------------
    def _master_poll(self, force: bool = False) -> None:
        """Raise TaskFailed / WorkerDied if a worker failed or died (cheap unless a check is due)."""
        if self.n_procs == 1:
            return
        if self._h.cell(_FAILED):
            self._collect_failure()
        now = time.monotonic()
        if force or now - self._last_check >= self.check_interval:
            self._last_check = now
            for p in range(1, self.n_procs):
                proc = self._procs[p]
                if proc is not None and proc.exitcode is not None:
                    self._collect_failure()  # its traceback, if it sent one
                    exc = WorkerDied(self._task_names(p), proc.exitcode, pid=proc.pid, process=p)
                    self._error = exc
                    self._abort()
                    raise exc

    def _task_names(self, p: int) -> tuple[str, ...]:
        return tuple(self.tasks[t].name for t in self._order[p])

    def _collect_failure(self) -> None:
        for p in range(1, self.n_procs):
            conn = self._conns[p]
            if conn is None:
                continue
            try:
                if not conn.poll(0):
                    continue
                name, tb = conn.recv()
            except (EOFError, OSError):
                continue
            exc = TaskFailed(name, tb)
            self._error = exc
            self._abort()
            raise exc

    # -- shutdown ---------------------------------------------------------------------------------------
    def stop(self, *, raise_errors: bool = True) -> list[ProcessStats]:
        """Graceful: workers finish the task they are running and exit; all are joined (terminated after
        ``stop_timeout``). Returns the final stats. Raises a pending TaskFailed/WorkerDied if ``raise_errors``."""
        if self._state == "new":
            self._state = "stopped"
            self._release_memory()
            return self._final_stats or []
        if self._state == "stopped":
            return self._final_stats or []
        pending: BaseException | None = None
        with _SigintDeferred():
            self._h.set_cell(_STOP, 1)
            self._h.wake(range(1, self.n_procs))
            deadline = time.monotonic() + self.stop_timeout
            for p in range(1, self.n_procs):
                proc = self._procs[p]
                if proc is not None:
                    _join(proc, deadline)
            for p in range(1, self.n_procs):
                proc = self._procs[p]
                if proc is None:
                    continue
                if proc.exitcode is None:  # it did not answer in time, or cannot (stopped): nothing to lose
                    pending = pending or WorkerDied(self._task_names(p), None, pid=proc.pid, process=p)
                    _kill(proc, grace=0.0)
                elif proc.exitcode != 0 and pending is None:
                    try:
                        self._collect_failure_no_abort()
                    except TaskFailed as exc:
                        pending = exc
                    else:
                        pending = WorkerDied(self._task_names(p), proc.exitcode, pid=proc.pid, process=p)
            self._finish()
        if pending is not None and raise_errors:
            raise pending
        return self._final_stats or []

    def _collect_failure_no_abort(self) -> None:
        for p in range(1, self.n_procs):
            conn = self._conns[p]
            try:
                if conn is not None and conn.poll(0):
                    name, tb = conn.recv()
                    raise TaskFailed(name, tb)
            except (EOFError, OSError):
                continue

    def _abort(self) -> None:
        """Tear down at once: terminate and join every worker, release the shared memory."""
        if self._state == "stopped" or self._proc_id != 0:
            return
        with _SigintDeferred():
            try:
                self._h.set_cell(_STOP, 1)
                self._h.wake(range(1, self.n_procs))
            except Exception:
                pass
            for p in range(1, self.n_procs):
                proc = self._procs[p]
                if proc is not None and proc.exitcode is None:
                    try:
                        proc.terminate()
                    except Exception:
                        pass
            for p in range(1, self.n_procs):
                proc = self._procs[p]
                if proc is not None:
                    _kill(proc)
            self._finish()

    def _finish(self) -> None:
        self._final_stats = self._read_stats()
        for p in range(1, self.n_procs):
            conn, self._conns[p] = self._conns[p], None
            if conn is not None:
                try:
                    conn.close()
                except OSError:
                    pass
            proc = self._procs[p]
            if proc is not None:
                try:
                    proc.close()
                except Exception:
                    pass
                self._procs[p] = None
        self._state = "stopped"
        self._release_memory()

    def _release_memory(self) -> None:
        h, self._h = self._h, None
        if h is None:
            return
        self._load = _dead_load
        self._statq.release()
        self._statq = None
        try:
            self._stats_mm.close()
        except BufferError:  # pragma: no cover
            pass
        h.close()

    def __enter__(self) -> "Runtime":
        if self._state == "new":
            self.start()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.stop()
        elif self._state == "running":
            self._abort()

    def __del__(self) -> None:
        try:
            if getattr(self, "_state", None) == "running" and self._proc_id == 0 and os.getpid() == self._master_pid:
                self._abort()
        except Exception:
            pass

    # -- introspection ----------------------------------------------------------------------------------
    @property
    def pids(self) -> list[int]:
        """PIDs of the forked workers (process 1..), in process order."""
        return [proc.pid for proc in self._procs[1:] if proc is not None]

    def process_of(self, task: int | str) -> int:
        """Which process runs a task (0 = the master)."""
        return self._task_proc[self._resolve(task)]

    def done(self, task: int | str) -> int:
        """Last block the task has completed (-1 before the first)."""
        return self._load(self._resolve(task))

    def stats(self) -> list[ProcessStats]:
        """Per-process counters (live while running, final after ``stop``)."""
        if self._h is None:
            return list(self._final_stats or [])
        return self._read_stats()

    def task_seconds(self) -> dict[str, float]:
        """Total time spent in each task's ``run`` so far (cost calibration for partitioning)."""
        if self._h is None:
            return dict(self._final_task_seconds)
        return {t.name: self._statq[self._task_off + i] / 1e9 for i, t in enumerate(self.tasks)}

    def _read_stats(self) -> list[ProcessStats]:
        q = self._statq
        self._final_task_seconds = {t.name: q[self._task_off + i] / 1e9 for i, t in enumerate(self.tasks)}
        out = []
        for p in range(self.n_procs):
            row = p * _S_ROW
            proc = self._procs[p] if p else None
            alive = True if p == 0 else (proc is not None and proc.exitcode is None)
            pid = q[row + _S_PID] or (proc.pid if proc else 0)
            out.append(ProcessStats(process=p, slot=self._proc_slot[p], pid=pid,
                                    tasks=self._task_names(p), blocks=q[row + _S_BLOCKS],
                                    busy_s=q[row + _S_BUSY] / 1e9, wait_s=q[row + _S_WAIT] / 1e9,
                                    sleeps=q[row + _S_SLEEPS], alive=alive))
        return out


def _dead_load(i: int) -> int:
    raise RuntimeStopped("Runtime: already stopped")


def _kill(proc, grace: float = 1.0) -> None:
    """Join ``proc``; SIGKILL if it has not exited within ``grace`` seconds, or at once when it is stopped. A
    worker holds nothing that needs cleaning up (its shared memory goes with the last process that maps
    it), so SIGKILL loses nothing; and it is the one signal a stopped process (SIGSTOP, Ctrl-Z, a debugger)
    obeys at once: SIGTERM would only wait for it to be continued."""
    try:
        _join(proc, time.monotonic() + grace)
        if proc.exitcode is None:
            proc.kill()
            proc.join()
    except Exception:
        pass


def _join(proc, deadline: float) -> None:
    """Wait for ``proc`` to exit until ``deadline`` (``time.monotonic()``), but not for a stopped process:
    it cannot answer until someone continues it."""
    while proc.exitcode is None and not _stopped(proc.pid):
        left = deadline - time.monotonic()
        if left <= 0:
            return
        proc.join(min(left, 0.05))


def _stopped(pid: int | None) -> bool:
    """True when process ``pid`` is stopped (state T or t in /proc; always False where there is no /proc)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state in (b"T", b"t")


class _SigintDeferred:
    """Block SIGINT while tearing down (a second Ctrl-C must not leave workers behind); re-delivered after."""

    def __enter__(self):
        self._old = None
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "pthread_sigmask"):
            try:
                self._old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
            except (OSError, ValueError):
                self._old = None
        return self

    def __exit__(self, *exc):
        if self._old is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, self._old)
        return False
