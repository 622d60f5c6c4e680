"""benchmarks/contention.py: a very short measurement has the right shape, ran in distinct processes and left
none behind. Nothing here asserts on timings or ratios."""

from __future__ import annotations

import multiprocessing as mp
import os

import pytest

contention = pytest.importorskip("benchmarks.contention")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the benchmark forks")
def test_short_run_has_sane_structure():
    result = contention.run(["int-chain"], [1, 2], seconds=0.05, repeat=1)
    assert result["processes"] == [1, 2]
    k = result["kernels"]["int-chain"]
    assert k["bound"] == "latency" and k["unit"] == "steps"
    assert k["alone"] > 0 and k["alone_runs"] and all(a > 0 for a in k["alone_runs"])
    two = k["by_processes"][2]
    assert {"speedup", "speedup_runs", "per_process", "cpu_share_min", "pids", "rates"} <= set(two)
    assert two["speedup"] > 0 and two["per_process"] > 0
    (rates,) = two["rates"]
    assert len(rates) == 2 and all(r > 0 for r in rates)
    (pids,) = two["pids"]
    assert len(set(pids)) == 2 and os.getpid() not in pids
    assert isinstance(result["verdict"], str) and result["verdict"]
    assert not mp.active_children()


def test_measure_reports_each_process():
    m = contention.measure("int-chain", 2, 0.05)
    assert m["processes"] == 2 and len(m["rates"]) == len(m["pids"]) == 2
    assert all(r > 0 for r in m["rates"]) and len(set(m["pids"])) == 2
    assert all(w >= 0.05 for w in m["wall"])
    assert not mp.active_children()
