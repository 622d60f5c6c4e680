"""Where the time of one command went (`phonon render --timings`): consecutive phases, each measured from the
end of the one before, plus time added to a phase from inside another (writing, which happens between
rendering chunks). The clock starts when the interpreter started, so what Python itself costs shows too."""

from __future__ import annotations

import os
import time


def _since_process_start() -> float:
    """Seconds since this process started (Linux: /proc; elsewhere 0, so the first phase starts at import)."""
    try:
        with open("/proc/self/stat") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        return max(0.0, time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return 0.0


class Timings:
    def __init__(self) -> None:
        now = time.perf_counter()
        self.phases: dict[str, float] = {"interpreter": _since_process_start()}
        self._last = now
        self._added = 0.0
        self.first_frames = 0  # frames rendered in the "load kernels" phase (the render's first step)
        self.compile_s = 0.0  # of the phases' time, what numba spent compiling (engine/compile_notice.py adds it)
        self.compiled_in: dict[str, float] = {}  # compile_s by the phase it fell in (a lap's, added time included)
        self._compiled_before = 0.0

    def lap(self, phase: str) -> None:
        """The time since the last lap, less what was added to other phases meanwhile, goes to `phase`."""
        now = time.perf_counter()
        self.phases[phase] = self.phases.get(phase, 0.0) + now - self._last - self._added
        self._last, self._added = now, 0.0
        if self.compile_s > self._compiled_before:
            self.compiled_in[phase] = self.compiled_in.get(phase, 0.0) + self.compile_s - self._compiled_before
            self._compiled_before = self.compile_s

    def add(self, phase: str, seconds: float) -> None:
        self.phases[phase] = self.phases.get(phase, 0.0) + seconds
        self._added += seconds

    def line(self) -> str:
        parts = ", ".join(f"{name} {seconds:.3f} s" for name, seconds in self.phases.items())
        compiled = f" (compiling kernels {self.compile_s:.3f} s of it)" if self.compile_s else ""
        return f"timings: {parts}; total {sum(self.phases.values()):.3f} s{compiled}"


TIMINGS = Timings()  # this process's, started when the command line imported it
