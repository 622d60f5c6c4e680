"""A node kind is defined once (graph.kinds.define): the registry, the state layout, the generated kernels,
the README's table and the contract tests below all come from its definition, so a kind defined in this
file renders like a built-in one and cannot escape the contracts."""

from __future__ import annotations

import math
from pathlib import Path

import numba as nb
import numpy as np
import pytest

from phonon.engine.kernels import KERNELS, load_all
from phonon.engine.render import render_array
from phonon.graph.errors import PhononError
from phonon.graph.kinds import INPUT, KINDS, Function, Kind, Param, define, fields, function_table
from tests.audio import tone_amplitude

SR = 44100
ROOT = Path(__file__).resolve().parents[1]


# A one-pole lowpass, defined here and nowhere else: its parameters, its state, its step.
@nb.njit(cache=True, inline="always")
def onepole_step(sr, input, cutoff, y):
    a = 1.0 - math.exp(-2.0 * math.pi * min(max(cutoff, 1.0), 0.49 * sr) / sr)
    y += a * (input - y)
    return y, y


ONEPOLE = define(
    Kind(
        "onepole", ("input", "cutoff"), state=fields("y"), cost_ns=3.0, step=onepole_step,
        functions=(Function("onepole", "onepole", (INPUT, Param("cutoff", None, 1.0, None, "Hz")), doc="one-pole lowpass"),),
        doc="one-pole lowpass (defined in tests/test_kinds.py)",
    )
)  # fmt: skip


def _onepole_gain(f: float, fc: float) -> float:
    a = 1.0 - math.exp(-2.0 * math.pi * fc / SR)
    w = 2.0 * math.pi * f / SR
    return a / abs(1.0 - (1.0 - a) * complex(math.cos(w), -math.sin(w)))


def test_a_kind_defined_in_a_test_file_renders_like_a_built_in_one():
    text = "o1: sine 200 # onepole 1000 * 0.5\no2: sine 6000 # onepole 1000 * 0.5\n"
    out = render_array(text, seconds=1.0)[SR // 2 :, 0]
    for f in (200.0, 6000.0):
        assert tone_amplitude(out, f) == pytest.approx(0.5 * _onepole_gain(f, 1000.0), rel=0.01)
    np.testing.assert_array_equal(render_array(text, seconds=0.5, workers=2), render_array(text, seconds=0.5))


def test_a_kinds_mistakes_are_caught_where_it_is_defined():
    with pytest.raises(ValueError, match=r"takes \(sr, input, y\), not \(sr, input, cutoff, y\)"):
        define(Kind("bad_step", ("input", "cutoff"), state=fields("y"), step=nb.njit(lambda sr, input, y: (y, y))))
    with pytest.raises(ValueError, match="buffers must come after"):
        define(Kind("bad_layout", ("input",), state=(*fields(line=lambda sr: sr), *fields("w")), kernel=KERNELS.get))
    with pytest.raises(ValueError, match="defined twice"):
        define(Kind("onepole"))
    with pytest.raises(PhononError, match="onepole needs its 'cutoff' argument"):
        render_array("out: saw 55 # onepole", seconds=0.1)


def test_state_is_laid_out_by_name_with_buffers_last():
    delay = KINDS["delay"]
    assert delay.columns("w", "buffer") == (1, 2) and delay.state_size(SR) == 1 + 2 * SR
    svf = KINDS["svf"]
    assert svf.column("mode") == 1 and svf.column("ic1") == 2 and svf.first_mutable == 2
    with pytest.raises(KeyError):
        KINDS["reverb"].column("no such field")


def test_the_readme_table_is_the_definitions():
    readme = (ROOT / "README.md").read_text()
    assert function_table() in readme, "README's function table is stale: paste `python -m phonon.graph.kinds`"
    assert "onepole" not in function_table()  # a test's kind is not a built-in


# ----------------------------------------------------------------- contracts, for every kind in the registry

N = 6000


def _kinds() -> list[str]:
    load_all()
    return sorted(name for name, kind in KINDS.items() if name in KERNELS)


def _signal(rng: np.random.Generator) -> np.ndarray:
    x = rng.uniform(-1, 1, N) * (np.arange(N) < N // 3)  # a burst, then silence (tails and releases)
    return x + 0.5 * np.sin(2 * np.pi * 330 * np.arange(N) / SR)


def _param(rng: np.random.Generator, p: Param | None) -> np.ndarray:
    """A parameter that moves within its range (or a plausible one), stepping and gliding."""
    lo = p.lo if p is not None and p.lo is not None else 0.01
    hi = p.hi if p is not None and p.hi is not None else max(lo * 10, 2.0)
    glide = lo + (hi - lo) * 0.5 * (1 + np.sin(2 * np.pi * 3 * np.arange(N) / SR))
    steps = np.repeat(rng.uniform(lo, hi, 4), N // 4 + 1)[:N]
    return np.where(np.arange(N) < N // 2, glide, steps)


def _node(kind: Kind, rng: np.random.Generator, wild: bool) -> tuple[list, tuple]:
    params = {p.name: p for f in kind.functions[:1] for p in f.params}
    fixed = kind.functions[0].fixed if kind.functions else {}
    inputs = []
    for name in kind.inputs:
        if name in ("input", "a", "b"):
            inputs.append(rng.uniform(-10, 10, N) if wild else _signal(rng))
        elif wild:
            inputs.append(rng.choice([-1e9, -1.0, 0.0, 1e-12, 0.5, 1.0, 3.0, 1e9], N))
        else:
            inputs.append(_param(rng, params.get(name)))
    return inputs, tuple(fixed.get(c, 1.0) for c in kind.consts)


def _run(kind_name: str, node: tuple[list, tuple], cuts: list[int]) -> np.ndarray:
    kind = KINDS[kind_name]
    inputs, consts = node
    rows = [np.zeros(N)] + [np.asarray(x, dtype=np.float64) for x in inputs]
    wiring = np.arange(len(rows), dtype=np.int64).reshape(1, -1)
    state = np.zeros((1, 1 + len(consts) + kind.state_size(SR)))
    state[0, 0], state[0, 1 : 1 + len(consts)] = SR, consts
    arena = np.array(rows)
    for a, b in zip(cuts[:-1], cuts[1:]):
        KERNELS[kind_name](arena, wiring, state, a, b)
    return arena[0]


@pytest.mark.parametrize("kind", _kinds())
def test_every_kind_is_block_size_independent(kind):
    """Invariant 2: splitting the samples anywhere computes the same numbers."""
    node = _node(KINDS[kind], np.random.default_rng(3), wild=False)
    whole = _run(kind, node, [0, N])
    assert np.isfinite(whole).all()
    np.testing.assert_array_equal(_run(kind, node, [0, 1, 64, 65, 700, 2048, 2049, 4000, N]), whole)


@pytest.mark.parametrize("kind", _kinds())
def test_every_kind_stays_finite_on_wild_parameters(kind):
    """Every parameter is clamped: wild finite values per sample never make NaN or inf."""
    out = _run(kind, _node(KINDS[kind], np.random.default_rng(4), wild=True), [0, N])
    assert np.isfinite(out).all()


def test_the_contracts_cover_every_kind_with_code():
    assert {"onepole", "svf", "delay", "reverb", "saw", "mix", "feedback"} <= set(_kinds())
    assert all(KINDS[k].kernel is not None or KINDS[k].step is not None for k in _kinds())


def test_the_cost_benchmark_measures_every_kind(monkeypatch):
    """benchmarks/kinds.py (ns per sample per node beside the declared cost_ns) builds a batch of every kind."""
    from benchmarks import kinds as bench

    monkeypatch.setattr(bench, "ROUNDS", 1)
    monkeypatch.setattr(bench, "BLOCKS", 1)
    names = sorted(k for k in _kinds() if KINDS[k].functions and not KINDS[k].variadic)
    costs = bench.measure(names)
    assert set(costs) == set(names) and all(0 < c < 1e6 for c in costs.values())
