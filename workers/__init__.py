"""Generic multi-process block runtime (knows nothing of DSP).

- ``SharedArena``: a shared-memory numpy array (memfd, inherited by forked workers, never in /dev/shm).
- ``Handoff``: single-writer sequence counters with spin-then-semaphore waits and no lost wake-ups.
- ``Ensemble``: the master's view of a runtime and its ring slots: start, wait for step k, release it, close.
- ``Runtime`` / ``Task``: run tasks with dependencies block after block in forked workers over rings of R slots;
  ``WorkerDied`` / ``TaskFailed`` report failures after everything is torn down.

Typical use (the master builds everything, then forks)::

    arena = SharedArena((n_buffers, ring, block), np.float32)      # before start(): workers inherit it
    tasks = [Task("lfo", run_lfo, (), 1), Task("bass", run_bass, (0,), 0), ...]   # run(block, slot)
    with arena, Runtime(tasks, n_workers=2, ring=ring).start(n_blocks) as rt:
        for k in range(n_blocks):
            slot = rt.wait_block(k)          # sinks done with block k (the master runs worker-0 tasks here)
            mix_and_write(arena.array[:, slot])
            rt.release_block(k)              # producers may now reuse the slot
        print(rt.stats())                    # per process: blocks, busy_s, wait_s, sleeps
"""

from .arena import SharedArena
from .ensemble import Ensemble
from .handoff import Handoff, backend_name
from .runtime import ProcessStats, Runtime, RuntimeStopped, Task, TaskFailed, WorkerDied, die_with_parent

__all__ = ["die_with_parent", "Ensemble", "SharedArena", "Handoff", "backend_name", "Runtime", "Task", "TaskFailed", "WorkerDied",
           "ProcessStats", "RuntimeStopped"]
