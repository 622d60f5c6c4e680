"""Periodic patterns (Pattern.period) and the pattern clock that queries each cycle of a period once
(engine/clock.py): a period is only ever claimed where the construction proves it, and a cached cycle is
exactly the cycle a query would give."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import phonon.engine.clock as clock
from benchmarks.drums import drum_program
from phonon.engine.clock import EventClock
from phonon.engine.render import render_array
from phonon.graph.compiler import compile_program
from phonon.graph.patterns import parse_mini

CASES = json.loads((Path(__file__).parent / "fixtures" / "strudel_events.json").read_text())["cases"]


def _cycle(pattern, k: int) -> list:
    """Cycle k's haps, moved to cycle 0 (times relative to k), as comparable tuples."""
    def rel(span):
        return None if span is None else (span.begin - k, span.end - k)

    return [(rel(h.whole), rel(h.part), repr(h.value)) for h in pattern.query_arc(k, k + 1)]


def test_a_claimed_period_holds_for_every_strudel_pattern_that_has_one():
    known = 0
    for case in CASES:
        try:
            pattern = parse_mini(case["pattern"])
        except Exception:
            continue
        period = pattern.period
        if period is None or period > 16:
            continue
        known += 1
        for k in range(period, 2 * period + 3):
            assert _cycle(pattern, k) == _cycle(pattern, k - period), (case["pattern"], period, k)
    assert known > 150  # most sequences, alternations, stacks, weights and speeds have one


@pytest.mark.parametrize(
    ("text", "period"),
    [("bd sn", 1), ("<a b c>", 3), ("<a b>*1.5", 4), ("[a b, <c d e>]", 3), ("a@3 <b c>", 2), ("<a b>/2", 4),
     ("a? b", None), ("[a|b] c", None), ("a(3,8)", None)],
)
def test_periods_come_from_the_construction(text, period):
    """Randomness, Euclid (patterned structure) and patterned factors are never claimed periodic."""
    assert parse_mini(text).period == period


@pytest.mark.parametrize("tempo", ["1", "0.5", "0.5416666", "0.3", "0.7"])
def test_a_cached_cycle_is_the_cycle_a_query_gives(tempo):
    """Events of every cycle, periodic clock against one that queries each cycle, at tempos whose period is a
    whole number of samples (shifted in samples) and ones where it is not (shifted in exact time)."""
    text = f"tempo: {tempo}\n" + drum_program(3).split("\n", 2)[2]
    graph = compile_program(text)
    for node in (n for n in graph.nodes if n.kind == "sampler"):
        cached = EventClock(node.pattern, node.params, graph.cps, 44100)
        queried = EventClock(node.pattern, node.params, graph.cps, 44100)
        queried.period = queried._period_samples = None
        assert cached.period is not None
        for cycle in range(0, 3 * cached.period + 5):
            assert cached.cycle_events(cycle) == queried.cycle_events(cycle), (tempo, cycle)


def test_drums_render_the_same_samples_with_and_without_the_cache(monkeypatch):
    text = drum_program(4)
    cached = render_array(text, seconds=6.0)
    monkeypatch.setattr(clock, "MAX_CACHED_PERIOD", 0)
    assert np.abs(cached).max() > 0.05
    np.testing.assert_array_equal(render_array(text, seconds=6.0), cached)
