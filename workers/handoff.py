"""Lock-free handoff between processes: single-writer sequence counters plus a no-lost-wake-up sleep protocol.

Counters
--------
``Handoff`` owns a small shared control block (an anonymous ``MAP_SHARED`` mapping, inherited by forked
children; nothing in ``/dev/shm``) made of 64-byte cells, one int64 per cell so two counters never share a cache
line. A *counter* has exactly one writer and only grows: the writer stores block ``k`` after it has written the
data of block ``k`` (``publish``); a reader that loads a value ``>= k`` may read the data of block ``k``.
No mutex guards the data: ordering comes from the atomics.

Memory ordering
---------------
Stores and exchanges are sequentially consistent atomic operations from the ``atomics`` package (libpatomic),
called through its raw function pointers (the package's Python wrappers cost ~5-8 us per operation; the raw
call ~0.4 us). A seq_cst store is a release: every write the writer made before it (numpy, numba kernels) is
visible to a process that observes the new value.

Loads are the hot path (a waiter re-checks several counters per spin iteration). On x86-64 a plain aligned
8-byte load *is* what a seq_cst/acquire load compiles to (x86-TSO never reorders loads with loads or stores
with stores, and seq_cst stores carry the full fence), so loads there read the cell directly through a
``memoryview`` (~40 ns). On any other architecture loads go through libpatomic as well.

If the ``atomics`` package is not installed, the same operations are generated with numba (LLVM
``atomicrmw xchg`` / ``load atomic`` with seq_cst ordering); ``PHONON_ATOMICS=atomics|numba`` forces a backend.

Waking (no lost wake-up)
------------------------
Every process ``p`` has a POSIX semaphore ``sem[p]`` and a shared flag ``sleeping[p]``. A waiter:

1. checks its condition; if true, returns (the common case: no atomic RMW, no syscall);
2. spins re-checking for up to ``spin_us`` microseconds (adaptive, see below);
3. loop: ``exchange(sleeping[p], 1)``; re-check the condition (return if true, clearing the flag);
   ``sem[p].acquire(timeout)``; re-check (spurious wake-ups and timeouts are harmless); call ``poll()``
   (which may raise: stop request, dead peer...).

A writer: ``store(counter, k)`` (seq_cst), then for every process ``q`` that may wait on this counter:
``if sleeping[q] and exchange(sleeping[q], 0) == 1: sem[q].release()``.

Both sides do a seq_cst write and then read the other side's location (Dekker), so at least one of them sees
the other: either the waiter's re-check sees the new counter value, or the writer sees ``sleeping[q] == 1`` and
posts. Only the writer that wins the exchange posts, so at most one token is outstanding per sleep; a stale
token only causes one extra re-check. The acquire timeout (default 50 ms) is a safety net, and the hook where
a waiter notices a dead peer or a stop request.

Adaptive spin
-------------
Spinning only pays when the peer answers within the spin window. When it does not (the peer is itself asleep,
or busy for longer), spinning is worse than useless on a VM: the wake-up then has to reach another, idle vCPU
(~35 us measured here) instead of being handed to the waker's CPU (~5 us). Measured on these 2-vCPU machines, a
fixed 30 us spin could lock two processes into a ~76 us round trip against ~10 us without spin and ~2-3 us when
both spin in time. So the default window (50 us) exceeds that cross-CPU wake-up, and each process adapts: it
keeps a moving average of how often a wait ended within the window (spinning would have caught it); while that
is rare (long waits for a busy producer) it spins only ``min_spin_us`` and goes to sleep at once.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import platform
import time
from typing import Callable, Iterable

__all__ = ["Handoff", "AtomicCells", "backend_name", "CELL"]

CELL = 64  # bytes per cell: one cache line per counter / flag
_X86_64 = platform.machine().lower() in ("x86_64", "amd64")


# ---------------------------------------------------------------------------------------------------------------
# atomic primitives on raw addresses: store(addr, v), exchange(addr, v) -> old, load(addr) -> v (all seq_cst)
# ---------------------------------------------------------------------------------------------------------------
def _patomic_ops():
    from atomics._impl.patomic import Patomic  # raw libpatomic function table shipped with `atomics`
    import atomics

    ops = Patomic().ops(8)
    fstore, fload, fxchg = ops.fp_store, ops.fp_load, ops.xchg_ops.fp_exchange
    if not (fstore and fload and fxchg):
        raise ImportError("libpatomic lacks 8-byte store/load/exchange on this platform")
    seq = int(atomics.MemoryOrder.SEQ_CST)
    c_int64 = ctypes.c_int64
    byref = ctypes.byref

    def store(addr: int, value: int) -> None:
        fstore(addr, byref(c_int64(value)), seq)

    def exchange(addr: int, value: int) -> int:
        res = c_int64()
        fxchg(addr, byref(c_int64(value)), seq, byref(res))
        return res.value

    def load(addr: int) -> int:
        res = c_int64()
        fload(addr, seq, byref(res))
        return res.value

    return store, exchange, load


def _numba_ops():
    from . import _numba_atomics as na

    return na.store, na.exchange, na.load


_OPS: tuple | None = None
_BACKEND = ""


def _ops():
    global _OPS, _BACKEND
    if _OPS is None:
        choice = os.environ.get("PHONON_ATOMICS", "").strip().lower()
        errors = []
        for name, make in (("atomics", _patomic_ops), ("numba", _numba_ops)):
            if choice and choice != name:
                continue
            try:
                _OPS = make()
                _BACKEND = name
                break
            except Exception as exc:  # ImportError or a platform without the operation
                errors.append(f"{name}: {exc}")
        if _OPS is None:
            raise RuntimeError("no atomic operations available for the handoff (" + "; ".join(errors) + ")")
    return _OPS


def backend_name() -> str:
    """Which implementation of the atomic operations is in use: 'atomics' or 'numba'."""
    _ops()
    return _BACKEND


class AtomicCells:
    """``n`` int64 cells, one per 64-byte cache line, in an anonymous shared mapping inherited across fork."""

    def __init__(self, n: int, initial: int = 0):
        self.n = int(n)
        self._store, self._exchange, self._patomic_load = _ops()
        self._mmap = mmap.mmap(-1, max(self.n, 1) * CELL, flags=mmap.MAP_SHARED,
                               prot=mmap.PROT_READ | mmap.PROT_WRITE)
        self._anchor = ctypes.c_char.from_buffer(self._mmap)  # exported until close(): gives the address
        self.base = ctypes.addressof(self._anchor)
        self._q = memoryview(self._mmap).cast("q")
        for i in range(self.n):
            self._q[i * (CELL // 8)] = initial

    def addr(self, i: int) -> int:
        return self.base + i * CELL

    def load(self, i: int) -> int:
        if not 0 <= i < self.n or self._q is None:
            raise ValueError(f"AtomicCells.load: cell {i} out of range or block closed")
        if _X86_64:
            return self._q[i * (CELL // 8)]
        return self._patomic_load(self.base + i * CELL)

    def loader(self) -> Callable[[int], int]:
        """A fast ``load(i)`` bound to this block (a closure without attribute look-ups)."""
        if _X86_64:
            q = self._q
            return lambda i: q[i << 3]
        pl, base, n, cells = self._patomic_load, self.base, self.n, self

        def load(i: int) -> int:
            if cells._q is None or not 0 <= i < n:
                raise ValueError("AtomicCells: load from a closed block or out of range")
            return pl(base + i * CELL)
        return load

    def store(self, i: int, value: int) -> None:
        if not 0 <= i < self.n or self._q is None:
            raise ValueError(f"AtomicCells.store: cell {i} out of range or block closed")
        self._store(self.base + i * CELL, value)

    def exchange(self, i: int, value: int) -> int:
        if not 0 <= i < self.n or self._q is None:
            raise ValueError(f"AtomicCells.exchange: cell {i} out of range or block closed")
        return self._exchange(self.base + i * CELL, value)

    @property
    def closed(self) -> bool:
        return self._q is None

    def close(self) -> None:
        """Unmap (in this process). Safe to call twice."""
        q, self._q = self._q, None
        if q is not None:
            q.release()
        self._anchor = None
        try:
            self._mmap.close()
        except BufferError:  # pragma: no cover - an outside view still exists; GC unmaps later
            pass


class Handoff:
    """Monotonic single-writer counters + per-process semaphores implementing spin-then-sleep waits.

    ``Handoff(n_counters, n_procs, ctx=..., initial=-1, extra=0)`` must be created before forking; process ids
    are ``0..n_procs-1`` (the caller decides which OS process is which). ``extra`` additional plain cells (for
    flags such as "stop") are addressed with ``cell(j)`` / ``set_cell(j, v)``.
    """

    def __init__(self, n_counters: int, n_procs: int, *, ctx=None, initial: int = -1, extra: int = 0,
                 spin_us: float = 50.0, timeout: float = 0.05, min_spin_us: float = 1.0):
        if ctx is None:
            ctx = default_context()
        self.n_counters = int(n_counters)
        self.n_procs = int(n_procs)
        self.n_extra = int(extra)
        self.spin_ns = int(spin_us * 1000)  # upper bound of the adaptive spin
        self.min_spin_ns = min(self.spin_ns, int(min_spin_us * 1000))
        self._useful = 1.0  # moving average of "the wait ended within the spin window" (per process after fork)
        self.timeout = float(timeout)
        self.cells = AtomicCells(self.n_counters + self.n_procs + self.n_extra, initial=0)
        for i in range(self.n_counters):
            self.cells.store(i, initial)
        self._sleep0 = self.n_counters
        self._extra0 = self.n_counters + self.n_procs
        self.sems = [ctx.Semaphore(0) for _ in range(self.n_procs)]
        self.load = self.cells.loader()  # load(counter_index) -> int

    # -- counters ------------------------------------------------------------------------------------------
    def publish(self, i: int, value: int, notify: Iterable[int] = ()) -> None:
        """Store ``value`` into counter ``i`` (release), then wake every process in ``notify`` that sleeps."""
        cells = self.cells
        cells.store(i, value)
        load = self.load
        s0 = self._sleep0
        for q in notify:
            if load(s0 + q) and cells.exchange(s0 + q, 0):
                self.sems[q].release()

    def wake(self, procs: Iterable[int]) -> None:
        """Post to processes unconditionally (stop requests, error reports)."""
        for q in procs:
            self.sems[q].release()

    # -- extra cells (flags) ---------------------------------------------------------------------------------
    def cell(self, j: int) -> int:
        return self.load(self._extra0 + j)

    def set_cell(self, j: int, value: int) -> None:
        self.cells.store(self._extra0 + j, value)

    # -- waiting -------------------------------------------------------------------------------------------
    def wait(self, proc: int, ready: Callable[[], bool], poll: Callable[[], None] | None = None,
             spin_ns: int | None = None) -> tuple[int, int]:
        """Return once ``ready()`` is true. Spins (adaptive budget, or ``spin_ns`` if given) then sleeps on
        ``sem[proc]`` (timeout ``timeout``); ``poll()`` runs after every sleep (wake-up or timeout) and may raise to
        abort the wait.

        Returns ``(waited_ns, sleeps)``; ``(0, 0)`` when ready at once.
        """
        if ready():
            return 0, 0
        clock = time.perf_counter_ns
        t0 = clock()
        adaptive = spin_ns is None
        if adaptive:
            spin = self.spin_ns if self._useful >= 0.25 else self.min_spin_ns
        else:
            spin = spin_ns
        if spin > 0:
            deadline = t0 + spin
            while clock() < deadline:
                if ready():
                    waited = clock() - t0
                    if adaptive:
                        self._useful = 0.75 * self._useful + 0.25
                    return waited, 0
        flag = self._sleep0 + proc
        cells = self.cells
        sem = self.sems[proc]
        timeout = self.timeout
        sleeps = 0
        try:
            while True:
                cells.exchange(flag, 1)
                if ready():
                    break
                sleeps += 1
                sem.acquire(True, timeout)
                if ready():
                    break
                if poll is not None:
                    poll()
        finally:  # also on KeyboardInterrupt / an error raised by poll(); the block may be closed by then
            if not cells.closed and self.load(flag):
                cells.exchange(flag, 0)
        waited = clock() - t0
        if adaptive:
            self._useful = 0.75 * self._useful + (0.25 if waited <= self.spin_ns else 0.0)
        return waited, sleeps

    def close(self) -> None:
        self.cells.close()


def default_context():
    """The fork context of ``multiprocess`` (falls back to the standard ``multiprocessing``)."""
    try:
        import multiprocess as mp
    except ImportError:  # pragma: no cover
        import multiprocessing as mp
    return mp.get_context("fork")
