"""The processes that run a program's parts, as the master sees them: the ring slots and logs that cross
between processes (shared memory when there is more than one; plain arrays in this process otherwise), the
runtime that runs each part's task step after step, and four verbs: start, wait for step k, release it,
close. Knows nothing of DSP: a task is a callable `run(step, slot)` (workers/runtime.py)."""

from __future__ import annotations

import numpy as np

from phonon.workers.arena import SharedArena
from phonon.workers.runtime import ProcessStats, Runtime, Task


class Ensemble:
    """`slots` ([ring, rows, columns] float64) and `logs` ([parts, width] int64, zeroed) exist from the start, so
    the tasks can be built over views of them; `launch` then gives the tasks to a runtime (not started: it forks
    its workers at `start`, so they inherit everything loaded by then)."""

    def __init__(self, slot_shape: tuple[int, int, int], log_shape: tuple[int, int], workers: int) -> None:
        self.workers = workers
        self.ring = slot_shape[0]
        self._arenas: list[SharedArena] = []
        self.slots = self._array(slot_shape, np.float64)
        self.logs = self._array(log_shape, np.int64)
        self.runtime: Runtime | None = None
        self.sinks: list[int] = []

    def _array(self, shape: tuple[int, ...], dtype: type) -> np.ndarray:
        if self.workers == 1:
            return np.zeros(shape, dtype=dtype)
        arena = SharedArena(shape, dtype=dtype)
        self._arenas.append(arena)
        arena.array[...] = 0
        return arena.array

    def launch(self, tasks: list[Task], sinks: list[int]) -> None:
        """The runtime that will run `tasks`; the master waits for `sinks` before it reads a step's slot."""
        self.runtime = Runtime(tasks, self.workers, self.ring, sinks=sinks)
        self.sinks = sinks

    def start(self, steps: int | None) -> None:
        """Fork the workers and let them run up to `steps` steps (None: until stopped)."""
        self.runtime.start(steps)

    def wait(self, k: int) -> np.ndarray:
        """The slot of step k, once every sink has computed it (raises WorkerDied or TaskFailed)."""
        return self.slots[self.runtime.wait_block(k, self.sinks)]

    def release(self, k: int) -> None:
        """Step k's slot is read: the producers may reuse it."""
        self.runtime.release_block(k)

    def stats(self) -> list[ProcessStats]:
        return self.runtime.stats()

    def close(self) -> None:
        """Stop the workers (reaped, whatever state they are in) and release the shared memory now: the logs
        are kept as a private copy and the slots emptied (callers drop their own views of them first)."""
        try:
            if self.runtime is not None:
                self.runtime.stop(raise_errors=False)
        finally:
            if self._arenas:
                self.logs = np.array(self.logs)
                self.slots = np.zeros((0,) + self.slots.shape[1:], dtype=self.slots.dtype)
            for arena in self._arenas:
                arena.close()
                arena.unlink()
            self._arenas = []
