"""engine/compile_notice.py: what numba compiles is named and timed, said on a plain stream as a line when it
starts and one naming it all once the render goes on, silent when told, and a forked process's compiles are
not this process's. Each test compiles a tiny function of its own (no cache), in a fraction of a second; the
command's own cold-cache run is tests/test_cli.py's."""

from __future__ import annotations

import io
import os

import numba

from phonon.engine.compile_notice import CompileNotice, CompileWatch, kernel_name
from phonon.engine.kernels import load_all
from phonon.engine.timings import Timings
from phonon.graph.kinds import KINDS


def _fresh():
    """A jitted function that has never been compiled (no disk cache), so its first call compiles it."""

    @numba.njit(cache=False)
    def doubled(x):
        return 2 * x

    return doubled


def test_a_compile_is_said_as_it_starts_and_named_once_the_render_goes_on():
    out = io.StringIO()
    timings = Timings()
    with CompileNotice(stream=out, timings=timings) as notice:
        fn = _fresh()
        fn(1.0)
        assert out.getvalue() == "compiling kernels (first run after install; numba keeps them for the next runs) ...\n"
        notice.settle()
        fn(2.0)  # compiled already: nothing more
        notice.settle()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[1].startswith("compiled 1 kernel in ") and lines[1].endswith("keeps them for the next runs): doubled")
    assert notice.names == ["doubled"] and notice.seconds > 0
    assert timings.compile_s == notice.seconds
    timings.lap("load kernels")
    assert timings.compiled_in == {"load kernels": notice.seconds}


def test_quiet_says_nothing_but_still_counts():
    out = io.StringIO()
    with CompileNotice(show=False, stream=out) as notice:
        _fresh()(1.0)
    assert out.getvalue() == "" and notice.names == ["doubled"] and notice.seconds > 0


def test_a_forked_process_compiles_are_not_counted():
    with CompileWatch() as watch:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                _fresh()(1.0)
                code = 0 if watch.names == [] else 2
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert watch.names == []


def test_kernels_are_named_by_their_kind():
    load_all()
    kinds = [kind for kind in KINDS.values() if kind.kernel is not None]
    assert kinds
    for kind in kinds:
        assert kind.name in kernel_name(kind.kernel).split("/")
    step = next(kind for kind in KINDS.values() if kind.step is not None and kind.kernel is None)
    from phonon.engine.kernels.steps import step_kernel

    assert kernel_name(step_kernel(step)) == step.name
