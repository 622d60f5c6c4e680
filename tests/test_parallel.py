"""The parallel runtime end to end (invariants 4 and 5): parts on worker processes over shared memory give
bit-identical audio for every worker count, shared buses are computed once, and a crash or Ctrl-C ends a
render cleanly with nothing left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from benchmarks.workloads import all_workloads, three_node_programs
from phonon.engine.render import Renderer, RenderSettings, render_array
from phonon.graph.compiler import compile_program
from phonon.graph.plan.partition import partition, structure
from phonon.graph.plan.units import unit_graph
from tests.processes import writing_into

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.phonon"))
FEEDBACK = """~input: impulse 3
~feedback: ~output # delay 0.01 0.0 1.0 * 0.5
~output: ~input + ~feedback
~fb: (~fb * 0.7 + saw 110 * 0.3) # lpf 2000 0.7
o1: ~output * 0.5
o2: ~fb * 0.3
"""
PATTERNS = 'tempo: 2\no1: saw "55 110 <82.5 220>" # lpf "300 3000" 0.8 * 0.2\no2: s "bd*4 [sn cp]" # gain 0.8\n'


def programs() -> dict[str, str]:
    found = {p.stem: p.read_text() for p in EXAMPLES}
    found.update(all_workloads())
    found["feedback"] = FEEDBACK
    found["patterns"] = PATTERNS
    found["loops3"] = three_node_programs(6)[0]
    return found


@pytest.mark.parametrize("name", sorted(programs()))
def test_every_worker_count_renders_the_same_samples(name):
    text = programs()[name]
    serial = render_array(text, seconds=0.4, workers=1)
    assert np.abs(serial).max() > 1e-4
    for workers in (2, 3, 4):
        np.testing.assert_array_equal(render_array(text, seconds=0.4, workers=workers), serial, err_msg=f"{workers}")


@pytest.mark.parametrize("text", ["out: 0.1\n", "~a: 0.5\n", "out: 1/0\n", "o1: 0.2\no2: sine 440 * 0.1\n"])
def test_constant_programs_render_at_any_worker_count(text):
    serial = render_array(text, seconds=0.05, workers=1)
    for workers in (2, 4):
        np.testing.assert_array_equal(render_array(text, seconds=0.05, workers=workers), serial)


def test_bus8x_plan_has_a_part_per_partial_sum_and_per_output_and_one_task_per_worker_and_stage():
    ug = unit_graph(compile_program(all_workloads()["bus8x"]), 44100)
    parts = structure(ug)
    outputs = [p for p in parts if p.stage == 1]
    assert sorted(p.name for p in outputs) == [f"o{i}" for i in range(1, 9)]
    assert all(len(p.deps) == 2 and all(parts[d].stage == 0 for d in p.deps) for p in outputs)
    assert len(parts) == 24
    tasks = partition(ug, 2)
    assert sorted((t.stage, t.worker) for t in tasks) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert sorted(u for t in tasks for u in t.units) == sorted(u for p in parts for u in p.units)
    load = [sum(p.cost_ns for p in tasks if p.worker == w) for w in (0, 1)]
    assert max(load) / min(load) < 1.1


def test_a_bus_shared_by_two_outputs_is_computed_once_per_block():
    text = "~kick: sine 55 # lpf 400\no1: ~kick * 0.5 # hpf 30\no2: ~kick * 0.25 # lpf 900\n"
    graph = compile_program(text)
    ug = unit_graph(graph, 44100)
    parts = partition(ug, 2)
    kick = graph.buses["kick"]
    owners = [p for p in parts if kick in ug.nodes_in_order(p.units)]
    assert len(owners) == 1 and owners[0].name.startswith("shared by")
    assert owners[0].stage == 0 and all(owners[0].index in p.deps for p in parts if p.stage == 1)
    with Renderer(graph, RenderSettings(block=256), frames=256 * 10, workers=2) as renderer:
        calls = []
        for evaluator in renderer.parts.evaluators:
            for segment, _ in evaluator._segments:
                segment[:] = [
                    ((lambda f, w: (lambda *a: (calls.append(tuple(w[:, 0])), f(*a))))(fn, arrays[0]), arrays)
                    for fn, arrays in segment
                ]
        renderer.render_into(np.zeros((2560, 2)), 2560)
    kick_row = renderer.schedule.node_row[kick]
    # The master process ran at least the shared part (worker 0) and counted its calls; in the worker the
    # wrapped lists were copied by fork, so count only where the kick part ran.
    if owners[0].worker == 0:
        assert sum(kick_row in rows for rows in calls) == 10


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


LONG = "~v: saw 55 # lpf 800 0.7\n" + "".join(f"~w{i}: saw {60 + i} # lpf 900\n" for i in range(40)) + (
    "o1: (" + " + ".join(f"~w{i}" for i in range(20)) + ") * 0.01\n"
    "o2: (" + " + ".join(f"~w{i}" for i in range(20, 40)) + ") * 0.01 + ~v * 0.1\n"
)


def _start_render(tmp_path: Path, workers: int = 2) -> tuple[subprocess.Popen, Path]:
    prog = tmp_path / "long.phonon"
    prog.write_text(LONG)
    out = tmp_path / "long.wav"
    proc = subprocess.Popen(
        [sys.executable, "-m", "phonon", "render", str(prog), "-o", str(out), "-d", "600", "--workers", str(workers)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (writing_into(proc.pid, tmp_path) and _children(proc.pid)):
        time.sleep(0.05)
    time.sleep(0.5)  # rendering is under way: workers forked, blocks flowing
    return proc, out


def _shm() -> set[str]:
    """Shared-memory entries that could be ours (JACK's, from the playback tests' servers, are not)."""
    names = os.listdir("/dev/shm")
    return {n for n in names if not n.startswith("jack") and ("phonon" in n or n.startswith(("sem.mp", "psm_", "mp-")))}


def test_killing_a_worker_ends_the_render_cleanly(tmp_path):
    before = _shm()
    proc, out = _start_render(tmp_path)
    workers = _children(proc.pid)
    assert workers, "the render should have forked a worker"
    os.kill(workers[0], signal.SIGKILL)
    started = time.monotonic()
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - started < 5
    assert proc.returncode == 1
    assert "worker process died" in err and "SIGKILL" in err
    assert not out.exists() and not list(tmp_path.glob(".long.wav.*"))
    assert not any(_alive(w) for w in workers)
    assert _shm() <= before


def test_ctrl_c_stops_workers_and_leaves_nothing(tmp_path):
    before = _shm()
    proc, out = _start_render(tmp_path)
    workers = _children(proc.pid)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends to the whole foreground group
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted" in err
    assert "Traceback" not in err
    assert not out.exists() and not list(tmp_path.glob(".long.wav.*"))
    time.sleep(0.2)
    assert not any(_alive(w) for w in workers)
    assert _shm() <= before


def test_a_bad_program_never_starts_workers(tmp_path, monkeypatch):
    from phonon.workers import runtime
    from phonon.engine.cli import main

    def forbidden(*args, **kwargs):
        raise AssertionError("workers started for a program that does not compile")

    monkeypatch.setattr(runtime.Runtime, "start", forbidden)
    prog = tmp_path / "bad.phonon"
    prog.write_text("out: sinee 440\n")
    assert main(["render", str(prog), "-o", str(tmp_path / "x.wav"), "--workers", "4"]) == 1
    assert not (tmp_path / "x.wav").exists()
