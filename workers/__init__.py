"""Generic multi-process block runtime (knows nothing of DSP).

- ``SharedArena``: a shared-memory numpy array (memfd, inherited by forked workers, never in /dev/shm).
- ``Handoff``: single-writer sequence counters with spin-then-semaphore waits and no lost wake-ups.
- ``Runtime`` / ``Task``: run tasks with dependencies block after block in forked workers over rings of R slots;
  ``WorkerDied`` / ``TaskFailed`` report failures after everything is torn down.
"""

from .arena import SharedArena
from .handoff import Handoff, backend_name
from .runtime import ProcessStats, Runtime, RuntimeStopped, Task, TaskFailed, WorkerDied

__all__ = ["SharedArena", "Handoff", "backend_name", "Runtime", "Task", "TaskFailed", "WorkerDied",
           "ProcessStats", "RuntimeStopped"]
