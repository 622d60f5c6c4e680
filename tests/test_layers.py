"""The layout is the architecture: planning (graph/) runs without any process machinery or evaluator, and the
worker runtime (workers/) without any DSP. Each is imported and used in a fresh interpreter, which then lists
what got loaded."""

from __future__ import annotations

import json
import subprocess
import sys

PLAN = """
import json, sys
from benchmarks.workloads import all_workloads
from phonon.graph.compiler import compile_program
from phonon.graph.plan.cost_model import scaling
from phonon.graph.plan.spread import spread
graph = compile_program(all_workloads()["bus8x"])
plan = spread(graph, 44100, 512, 2)
assert len(plan.parts) > 1 and plan.handoff
scaling(graph, [1, 2], 44100, 512)
print(json.dumps(sorted(sys.modules)))
"""

RUNTIME = """
import json, sys
import numpy as np
from phonon.workers import Ensemble, Task
ensemble = Ensemble((2, 1, 8), (1, 1), 2)
def run(k, slot):
    ensemble.slots[slot, 0, :] = k
ensemble.launch([Task("count", run, (), 1)], [0])
ensemble.start(3)
try:
    for k in range(3):
        assert ensemble.wait(k)[0, 0] == k
        ensemble.release(k)
finally:
    ensemble.close()
print(json.dumps(sorted(sys.modules)))
"""


def _modules(code: str) -> list[str]:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_planning_needs_no_processes_and_no_evaluator():
    loaded = _modules(PLAN)
    forbidden = ("workers", "multiprocess", "engine.executor", "engine.binding", "engine.parts", "engine.render")
    assert [m for m in loaded if m.startswith(forbidden)] == []


def test_the_worker_runtime_needs_no_dsp():
    loaded = _modules(RUNTIME)
    assert [m for m in loaded if m.startswith(("engine", "graph"))] == []
