"""Pattern constructors (graph/patterns/constructors.py) and `hush`, as a Tidal or Strudel user writes them:
each constructor gives the events of its mini-notation equivalent, and the compiler takes them wherever a
pattern goes."""

from __future__ import annotations

import pytest

from phonon.graph.compiler import compile_program
from phonon.graph.errors import PhononError
from phonon.graph.patterns import parse_mini
from phonon.graph.patterns.constructors import CONSTRUCTORS
from tests.compiling import compile_error


def _events(pattern, cycles=4):
    """Onsets in time order (the order of simultaneous events is the pattern's own)."""
    return sorted(((h.whole, h.value) for h in pattern.query_arc(0, cycles) if h.has_onset()), key=_begin)


def _begin(event):
    return event[0].begin


@pytest.mark.parametrize(
    "name, args, mini",
    [
        ("cat", ("bd sn", "hh"), "<[bd sn] hh>"),
        ("slowcat", ("bd", "sn", "hh*2"), "<bd sn [hh hh]>"),
        ("fastcat", ("bd", "hh*2"), "bd [hh hh]"),
        ("seq", ("bd sn", "<hh cp>"), "[bd sn] <hh cp>"),
        ("stack", ("bd*2", "hh*3"), "[bd*2, hh*3]"),
        ("run", (4,), "0 1 2 3"),
        ("run", ("<2 3>",), "<[0 1] [0 1 2]>"),
        ("silence", (), "~"),
    ],
)
def test_each_constructor_gives_its_mini_notation_equivalent(name, args, mini):
    built = CONSTRUCTORS[name].build(*(parse_mini(a) if isinstance(a, str) else a for a in args))
    assert _events(built) == _events(parse_mini(mini))


def test_run_refuses_what_is_not_a_whole_number():
    with pytest.raises(ValueError, match="whole numbers"):
        _events(CONSTRUCTORS["run"].build(parse_mini("bd")))


def _pattern_events(text: str, cycles: int = 2):
    (node,) = [n for n in compile_program(text).nodes if getattr(n, "pattern", None) is not None]
    return _events(node.pattern, cycles)


def test_constructors_go_wherever_a_pattern_goes():
    assert _pattern_events('out: s (cat "bd sn" "hh")\n') == _pattern_events('out: s "<[bd sn] hh>"\n')
    assert _pattern_events('out: s (stack "bd" "hh*2")\n') == _pattern_events('out: s "[bd, hh*2]"\n')
    assert _pattern_events('out: s "bd*4" # n (run 4)\n') == _pattern_events('out: s "bd*4" # n "0 1 2 3"\n')
    assert _pattern_events('out: s (seq "bd" "sn") $ fast 2\n') == _pattern_events('out: s "bd sn bd sn"\n')
    assert _pattern_events('out: saw (cat 110 220) * 0.1\n') == _pattern_events('out: saw "<110 220>" * 0.1\n')


def test_stack_of_signals_still_sums_them():
    graph = compile_program("out: stack (sine 440) (saw 220) * 0.1\n")
    assert {n.kind for n in graph.nodes} >= {"sine", "saw", "mix"}


@pytest.mark.parametrize(
    "text, col, message",
    [
        ('out: s (cat (sine 3) "bd")\n', 14, "takes patterns and numbers, not signals"),
        ('out: s "bd" # cat 2\n', 15, "takes no keyword and nothing from # or $"),
        ("out: s (run 1e6 1e6)\n", 9, "run takes 1 argument"),
        ("out: saw (run 100000) * 0.1\n", 11, "per cycle"),
    ],
)
def test_constructor_mistakes_are_located_errors(text, col, message):
    e = compile_error(text)
    assert (e.line, e.col) == (1, col) and message in e.message, e


def test_hush_silences_every_output_and_still_checks_the_program():
    graph = compile_program("out: sine 440 * 0.1\no2: saw 55 * 0.1\nhush\n")
    assert graph.outputs == {} and any("hush" in note for note in graph.notes)
    assert compile_program("hush\n").outputs == {}  # a program of `hush` alone is silence, not an error
    with pytest.raises(PhononError, match="unknown function"):
        compile_program("out: nosuch 3\nhush\n")
    e = compile_error("out: sine 1\nhsuh\n")
    assert (e.line, e.col) == (2, 1) and "hush" in e.hint
