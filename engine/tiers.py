"""Tiered execution: a part runs its batched kernels at once, and its fused runner (engine/fused.py: one
compiled call per block) as soon as that exists, never waiting for a compiler.

Before a render starts (before workers fork, so they inherit it), each part whose fused runner is in the
disk cache gets it: loading costs milliseconds. The others keep their batched kernels, and one compiler
process (forked, so the render's cores and the GIL stay free) compiles their runners into the cache. Parts
that run in this process swap to the fused runner between steps once it is compiled; parts in worker
processes get it on the next render. A fused runner calls the same kernels on the same arena, tile by tile,
so the swap changes no sample. If the render ends first, the compiler is stopped and the next render starts
it again (a long render is where it pays)."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from typing import Callable

import numba

from phonon.engine.executor import BlockEvaluator
from phonon.workers import die_with_parent


def _signature(call: tuple) -> tuple:
    """The numba signature of a part runner's call (BlockEvaluator.runner_call)."""
    return tuple(numba.typeof(a) for a in call)


def _load(runner: Callable, signature: tuple) -> bool:
    """Load a compiled runner from numba's disk cache; False when it is not there (nothing is compiled)."""
    if signature in runner.overloads:
        return True
    cres = runner._cache.load_overload(signature, runner.targetctx)
    if cres is None:
        return False
    runner.add_overload(cres)
    return True


def _yield_to_the_render() -> None:
    """The compiler runs only on time the render does not use: Linux's idle class where there is one (a
    real-time `play` on busy cores keeps every cycle it needs), else the lowest priority."""
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        os.nice(19)


@dataclass
class Tiers:
    """The fused runners of a render's parts: loaded, being compiled, or swapped in."""

    evaluators: list[BlockEvaluator]
    local: set[int]  # parts that run in this process (their evaluators can swap mid-render)
    loaded: int = 0
    load_s: float = 0.0
    waiting: dict[int, tuple[Callable, tuple, int, tuple]] = field(default_factory=dict)  # runner, args, version, sig
    compiler: int | None = None  # pid
    started: float = 0.0
    compiled_s: float | None = None
    swapped: int = 0

    @classmethod
    def prepare(cls, evaluators: list[BlockEvaluator], local: set[int]) -> "Tiers":
        tiers = cls(evaluators, local)
        t0 = time.perf_counter()
        for i, evaluator in enumerate(evaluators):
            fused = evaluator.fused_runner()
            if fused is None:
                continue
            runner, args, version = fused
            signature = _signature(evaluator.runner_call(args))
            if _load(runner, signature):
                evaluator.install(runner, args, version)
                tiers.loaded += 1
            else:
                tiers.waiting[i] = (runner, args, version, signature)
        tiers.load_s = time.perf_counter() - t0
        return tiers

    def start_compiler(self) -> None:
        """Fork the process that compiles the waiting runners into the cache (after the workers forked)."""
        if not self.waiting or self.compiler is not None:
            return
        self.started = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # the compiler: no signal of the render's may stop it half-way through a cache write
            code = 1
            try:
                for sig in (signal.SIGINT, signal.SIGTERM):
                    signal.signal(sig, signal.SIG_DFL)
                die_with_parent(signal.SIGKILL)  # a render killed with -9 leaves no compiler behind
                _yield_to_the_render()
                for runner, _, _, signature in self.waiting.values():
                    runner.compile(signature)
                code = 0
            finally:
                os._exit(code)
        self.compiler = pid

    def poll(self) -> None:
        """Between steps: once the compiler is done, swap the parts of this process to their fused runners."""
        if self.compiler is None or self.compiled_s is not None:
            return
        pid, status = os.waitpid(self.compiler, os.WNOHANG)
        if pid == 0:
            return
        self.compiled_s = time.perf_counter() - self.started
        if os.waitstatus_to_exitcode(status) != 0:
            return  # a runner that did not compile: the batched kernels stay
        for i, (runner, args, version, signature) in self.waiting.items():
            if i in self.local and _load(runner, signature) and self.evaluators[i].install(runner, args, version):
                self.swapped += 1

    def wait(self, timeout: float = 600.0) -> bool:
        """Block until the compiler is done (a benchmark measures the fused code, not the compiler)."""
        deadline = time.monotonic() + timeout
        while self.compiler is not None and self.compiled_s is None and time.monotonic() < deadline:
            self.poll()
            time.sleep(0.02)
        return self.compiler is None or self.compiled_s is not None

    def close(self) -> None:
        """Stop a compiler that is still running (the next render starts it again)."""
        if self.compiler is not None and self.compiled_s is None:
            try:
                os.kill(self.compiler, signal.SIGKILL)
                os.waitpid(self.compiler, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.compiler = None

    def summary(self) -> str | None:
        """One line for the render's report when fused code was compiled (or still compiling); None when every
        part's was in the cache, or no part has any."""
        total = self.loaded + len(self.waiting)
        if not self.waiting:
            return None
        if self.compiled_s is None:
            return (f"fused code: {self.loaded} of {total} parts from the cache; the rest was still compiling in the "
                    f"background when the render ended (batched kernels meanwhile; a longer render finishes it)")
        return (f"fused code: {self.loaded} of {total} parts from the cache, {len(self.waiting)} compiled in the "
                f"background in {self.compiled_s:.1f} s ({self.swapped} swapped in mid-render, the rest next time); "
                "compile time is not render time")
