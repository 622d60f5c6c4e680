"""The cost model (graph/plan/cost_model.py): predicted scaling that follows the program's structure, the
suggested worker count, and where it is shown (`phonon graph --workers`, `phonon bench`)."""

from __future__ import annotations

import json

import pytest

from benchmarks.workloads import all_workloads
from phonon.engine.cli import main
from phonon.graph.compiler import compile_program
from phonon.graph.plan.cost_model import (
    critical_path,
    plan,
    predicted_speedup,
    scaling,
    suggested_workers,
    total_cost,
)
from phonon.graph.plan.partition import partition, structure
from phonon.graph.plan.units import unit_graph

CHAIN = "out: saw 55 # lpf 800 # lpf 900\n"
TINY = "out: sine 440 * 0.1\n"
CONSTANT = "out: 0.1\n"


def eight_outputs() -> str:
    """8 equal outputs that share nothing, each heavy enough that its work dwarfs the per-block overheads."""
    lines = []
    for o in range(8):
        # mono effects only: a stereo one (reverb) makes each output two independent sides
        voices = " + ".join(f"saw {55 + i} # lpf {900 + 10 * i} 0.7 # distortion 3 0.5 # delay 0.01 0.5 0.5"
                            for i in range(12))
        lines.append(f"o{o + 1}: ({voices}) * 0.01")
    return "\n".join(lines) + "\n"


def ug_of(text: str):
    return unit_graph(compile_program(text, "test"), 44100)


def test_bus8x_predictions_grow_up_to_its_independent_parts():
    ug = ug_of(all_workloads()["bus8x"])
    independent = sum(1 for p in structure(ug) if not p.deps)
    assert independent >= 8
    # Worker counts that divide the parts evenly; between them a count that leaves some workers with one
    # part more than others may be no faster than the count below it (the model says so, rightly).
    even = [n for n in range(1, independent + 1) if independent % n == 0]
    s = scaling(ug, range(1, independent + 1))
    speedups = [s.speedup(n) for n in even]
    assert all(b > a for a, b in zip(speedups, speedups[1:])), speedups
    assert s.speedup(2) > 1.3 and speedups[-1] > 4
    assert all(s.speedup(n) <= s.amdahl + 1e-9 for n in range(1, independent + 1))


def test_a_single_chain_does_not_scale():
    ug = ug_of(CHAIN)
    s = scaling(ug)
    for n in s.ns_per_block:
        assert s.speedup(n) == pytest.approx(1.0, abs=0.05), n
    assert s.amdahl == pytest.approx(1.0)


def test_eight_independent_outputs_scale_close_to_eight_bounded_by_the_critical_path():
    ug = ug_of(eight_outputs())
    parts = partition(ug, 8)
    assert len(parts) == 8 and all(not p.deps for p in parts)
    assert total_cost(parts) / critical_path(parts) == pytest.approx(8.0)
    s = scaling(ug, [8])
    assert 6.0 < s.speedup(8) <= s.amdahl + 1e-9
    assert s.balance[8] == pytest.approx(1.0)
    assert predicted_speedup(ug, 8) == pytest.approx(s.speedup(8))


def test_critical_path_follows_dependencies():
    ug = ug_of(all_workloads()["bus8x"])
    parts = structure(ug)
    by_stage0 = max(p.cost_ns for p in parts if p.stage == 0)
    output = max(p.cost_ns for p in parts if p.stage == 1)
    assert critical_path(parts) == pytest.approx(by_stage0 + output)
    assert total_cost(parts) == pytest.approx(total_cost(plan(ug, 1)))


@pytest.mark.parametrize("text", [TINY, CONSTANT, CHAIN], ids=["tiny", "constant", "chain"])
def test_light_programs_get_one_worker(text):
    graph = compile_program(text, "test")
    for cores in (1, 2, 8, 64):
        assert suggested_workers(graph, cores) == 1
    s = scaling(graph)
    assert all(s.speedup(n) == pytest.approx(1.0) for n in s.ns_per_block)


def test_constant_program_has_no_parts_and_does_not_crash():
    ug = ug_of(CONSTANT)
    assert plan(ug, 1) == [] and partition(ug, 4) == []
    assert total_cost([]) == 0 and critical_path([]) == 0
    assert scaling(ug, [4]).speedup(4) == 1.0


def test_bus8x_gets_more_than_one_worker_with_cores_to_spare():
    graph = compile_program(all_workloads()["bus8x"], "bus8x")
    assert suggested_workers(graph, 1) == 1
    for cores in (2, 4, 16):
        n = suggested_workers(graph, cores)
        assert 1 < n <= cores
    s = scaling(graph, range(1, 17))
    best = max(s.speedup(n) for n in range(1, 17))
    assert s.speedup(suggested_workers(graph, 16)) >= 0.9 * best


def test_graph_report_shows_predicted_scaling(tmp_path, capsys):
    prog = tmp_path / "bus8x.phonon"
    prog.write_text(all_workloads()["bus8x"])
    assert main(["graph", str(prog), "--workers", "4"]) == 0
    out = capsys.readouterr().out
    section = out.split("predicted scaling")[1]
    rows = {line.split()[0]: line.split()[1:] for line in section.splitlines() if line.strip()}
    assert rows["workers"] == ["1", "2", "4", "8", "16", "32", "64"]
    speedups = [float(x.rstrip("x")) for x in rows["speedup"]]
    assert speedups[0] == 1.0 and speedups[2] > 2
    assert "critical path" in section and "balance of the plan for 4" in section


def test_graph_report_always_shows_the_asked_worker_count(tmp_path, capsys):
    prog = tmp_path / "tiny.phonon"
    prog.write_text(TINY)
    assert main(["graph", str(prog), "--workers", "3"]) == 0
    section = capsys.readouterr().out.split("predicted scaling")[1]
    workers = next(line for line in section.splitlines() if line.strip().startswith("workers")).split()[1:]
    assert "3" in workers


def test_bench_json_has_predicted_speedup(tmp_path, capsys):
    prog = tmp_path / "tiny.phonon"
    prog.write_text(TINY)
    assert main(["bench", str(prog), "--duration", "0.05", "--repeat", "1", "--json", "--workers", "1,2"]) == 0
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert [r["workers"] for r in results] == [1, 2]
    assert all(r["predicted_speedup"] == pytest.approx(1.0) for r in results)
