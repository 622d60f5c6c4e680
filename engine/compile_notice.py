"""Saying when numba compiles. The first render after install compiles every kernel it calls (numba's
`cache=True` keeps them on disk, so later runs load them in milliseconds): seconds that look like a hang
unless the command says what it is doing. numba fires its "numba:compile" event around a real compile only,
never around a load from its cache, so a listener on it names what is compiled and times it, and the render's
speed can leave that time out.

The listener is process-wide while installed; a process forked meanwhile (a worker, the background compiler
of fused code, engine/tiers.py) inherits it but is not the process that installed it, and is ignored."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

from numba.core import event

from phonon.engine.timings import Timings

COMPILE_EVENT = "numba:compile"
FIRST_RUN = "first run after install; numba keeps them for the next runs"


def kernel_name(dispatcher: object) -> str:
    """What a compiled function is to a user: a node kind's name for its kernel (a generated step kernel's
    module is `phonon_step_KIND_HASH`, engine/fused.py), "feedback loop" or "fused part" for generated
    runners, else the function's own name (the master's mixer, a voice kernel)."""
    from phonon.graph.kinds import KINDS

    py = getattr(dispatcher, "py_func", None)
    if py is None:
        return str(dispatcher)
    module = py.__module__ or ""
    if module.startswith("phonon_step_"):
        return module[len("phonon_step_"):].rsplit("_", 1)[0]
    generated = {"phonon_loop_": "feedback loop", "phonon_part_": "fused part"}
    for prefix, name in generated.items():
        if module.startswith(prefix):
            return name
    kinds = [kind.name for kind in KINDS.values() if kind.kernel is dispatcher]
    return "/".join(kinds) if kinds else py.__name__


class CompileWatch(event.Listener):
    """What numba compiles in this process while installed: the outermost compiles (a kernel's callees are
    compiled within it), named and timed. `started` and `ended` are called around each."""

    def __init__(self, timings: Timings | None = None) -> None:
        self.names: list[str] = []
        self.seconds = 0.0
        self.timings = timings  # gets each compile's time as it ends (Timings.compile_s)
        self._pid = os.getpid()
        self._depth = 0
        self._since = 0.0

    def on_start(self, ev: event.Event) -> None:
        if os.getpid() != self._pid:
            return
        self._depth += 1
        if self._depth == 1:
            self._since = time.perf_counter()
            name = kernel_name(ev.data["dispatcher"])
            if name not in self.names:
                self.names.append(name)
            self.started(name)

    def on_end(self, ev: event.Event) -> None:
        if os.getpid() != self._pid or self._depth == 0:
            return
        self._depth -= 1
        if self._depth == 0:
            spent = time.perf_counter() - self._since
            self.seconds += spent
            if self.timings is not None:
                self.timings.compile_s += spent
            self.ended()

    @property
    def compiling(self) -> bool:
        return self._depth > 0

    def started(self, name: str) -> None:
        """A compile of `name` began (nothing here; a subclass shows it)."""

    def ended(self) -> None:
        """The compile that began last ended."""

    def __enter__(self) -> "CompileWatch":
        event.register(COMPILE_EVENT, self)
        return self

    def __exit__(self, *exc: object) -> None:
        event.unregister(COMPILE_EVENT, self)


class CompileNotice(CompileWatch):
    """A CompileWatch that tells the user: on a terminal a spinner naming the kernel being compiled, else a
    plain line as compiling starts; and once the render goes on (`settle`, between steps) one line naming
    everything compiled and how long it took. Silent with `show` False (it still counts, for the summary)."""

    def __init__(self, show: bool = True, stream: TextIO | None = None, timings: Timings | None = None) -> None:
        super().__init__(timings)
        self.show = show
        self.stream = stream if stream is not None else sys.stderr
        self._told = 0  # names already in a "compiled" line
        self._told_s = 0.0
        self._status = None

    def started(self, name: str) -> None:
        if not self.show:
            return
        count = len(self.names) - self._told
        text = f"compiling kernels (first run after install): {name}" + (f", {count} so far" if count > 1 else "")
        if self._status is not None:
            self._status.update(text)
        elif self.stream.isatty():
            from rich.console import Console

            self._status = Console(file=self.stream).status(text)
            self._status.start()
        elif len(self.names) == self._told + 1:  # a plain line once per burst: a log shows why it waits
            print(f"compiling kernels ({FIRST_RUN}) ...", file=self.stream, flush=True)

    def settle(self) -> None:
        """Between compiles (the render went on): say what was compiled since the last time, if anything."""
        if self.compiling or len(self.names) == self._told:
            return
        if self._status is not None:
            self._status.stop()
            self._status = None
        new, seconds = self.names[self._told:], self.seconds - self._told_s
        self._told, self._told_s = len(self.names), self.seconds
        if self.show:
            print(f"compiled {len(new)} kernel{'s' * (len(new) != 1)} in {seconds:.1f} s ({FIRST_RUN}): "
                  + ", ".join(new), file=self.stream, flush=True)

    def __exit__(self, *exc: object) -> None:
        try:
            if not self.compiling:
                self.settle()
            elif self._status is not None:  # stopped mid-compile (an error, Ctrl-C): only clear the spinner
                self._status.stop()
        finally:
            super().__exit__(*exc)
