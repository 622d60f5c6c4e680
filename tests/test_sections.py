"""Operator sections and time shifts as Tidal users write them (issue 11 part 2): `every 3 (# speed 2)`,
`(|+ n 12)`, `0.25 <~ p`, `"<0 0.25>" ~> p`. Each is compared with the pattern a user would otherwise write."""

from __future__ import annotations

from fractions import Fraction

import pytest

from phonon.graph.compiler import compile_program
from phonon.graph.errors import PhononError
from tests.compiling import compile_error


def _events(text: str, cycles: int = 2) -> list[tuple[Fraction, dict]]:
    (node,) = [n for n in compile_program(text).nodes if getattr(n, "pattern", None) is not None]
    haps = [h for h in node.pattern.query_arc(0, cycles) if h.has_onset()]
    return sorted(((h.whole.begin, h.value) for h in haps), key=lambda e: (e[0], str(e[1])))


def test_a_section_of_hash_sets_a_control_where_the_transform_applies():
    events = _events('out: s "bd*2" $ every 2 (# speed 2)\n')
    assert [v.get("speed") for _, v in events] == [2, 2, None, None]  # cycle 0 of every 2, not cycle 1


def test_a_section_of_bar_plus_adds_to_a_control():
    assert [v["n"] for _, v in _events('out: (s "bd*2" # n "1 2") $ (|+ n 10)\n', 1)] == [11, 12]
    assert [v["n"] for _, v in _events('out: s "bd*2" $ (|+ n 3)\n', 1)] == [3, 3]  # none before: set
    assert [v["speed"] for _, v in _events('out: (s "bd" # speed 2) $ (|* speed "1 3")\n', 1)] == [2]


def test_the_structure_of_a_section_follows_the_bars():
    left = _events('out: s "bd" $ (|+ n "0 1")\n', 1)  # structure from the voices: one event
    both = _events('out: s "bd" $ (+ n "0 1")\n', 1)  # from both: two fragments, one onset each
    right = _events('out: s "bd" $ (+| n "0 1")\n', 1)
    assert [t for t, _ in left] == [0]
    assert [t for t, _ in right] == [t for t, _ in both] == [0, Fraction(1, 2)]  # Tidal's |+| and +|


def test_shifts_move_a_pattern_early_and_late():
    assert _events('out: 0.25 <~ s "bd sn"\n', 1) == [(Fraction(1, 4), {"s": "sn"}), (Fraction(3, 4), {"s": "bd"})]
    shifted = _events('out: "<0 0.25>" ~> s "bd sn"\n', 2)
    assert [t for t, _ in shifted] == [0, Fraction(1, 2), Fraction(5, 4), Fraction(7, 4)]
    (node,) = [n for n in compile_program('out: 0.25 <~ s "bd sn" # gain 0.5\n').nodes if n.kind == "sampler"]
    assert [name for name, _ in node.params] == ["gain"]  # `#` binds looser: the shifted voices get the gain


@pytest.mark.parametrize(
    "text, col, message",
    [
        ("out: (# speed 2)\n", 7, "is a function of a pattern"),
        ('out: s "bd" $ every 2 (# lpf 300 1)\n', 24, "takes one voice parameter"),  # lpf with two: the filter
        ("out: 0.25 <~ sine 440\n", 11, "has no pattern to transform"),
    ],
)
def test_section_and_shift_mistakes_are_located_errors(text, col, message):
    e = compile_error(text)
    assert (e.line, e.col) == (1, col) and message in e.message, e


def test_a_negative_number_in_parentheses_is_still_a_number():
    graph = compile_program("out: sine 440 * (-0.5)\n")
    assert graph.outputs


def test_barred_operators_chain_left_to_right_like_hash():
    """Tidal's `#` and `|+` are both infixl 1: `s "bd*2" # n "1 2" |+ n 10` adds to the n just set."""
    assert [v["n"] for _, v in _events('out: s "bd*2" # n "1 2" |+ n 10\n', 1)] == [11, 12]
    assert [v["n"] for _, v in _events('out: s "bd*2" # n "1 2" |< n 5\n', 1)] == [1, 2]  # keeps the left's
    assert [v["n"] for _, v in _events('out: s "bd*2" # n "1 2" |> n 5\n', 1)] == [5, 5]  # takes the right's


@pytest.mark.parametrize(
    "expr, expected",
    [
        ('"0 3" |+ "1 2 3"', [(0, 1), (Fraction(1, 2), 5)]),  # structure from the left
        ('"0 3" +| "1 2 3"', [(0, 1), (Fraction(1, 3), 2), (Fraction(2, 3), 6)]),  # from the right
        ('"0 3" |+| "1 2"', [(0, 1), (Fraction(1, 2), 5)]),  # both
        ('"5 -1" |% 4', [(0, 1), (Fraction(1, 2), 3)]),  # Tidal's mod': the divisor's sign
        ('"1 2" |< "7 8 9"', [(0, 1), (Fraction(1, 2), 2)]),
        ('"1 2" |> "7 8 9"', [(0, 7), (Fraction(1, 2), 8)]),
        ('"0 3" |+ "1" * 2', [(0, 2), (Fraction(1, 2), 5)]),  # * binds tighter than |+, as in Tidal
    ],
)
def test_barred_operators_on_patterns_follow_tidal(expr, expected):
    assert _events(f"out: saw ({expr}) * 0.1\n", 1) == expected


def test_value_operators_are_errors_on_signals():
    with pytest.raises(PhononError, match="not on signals"):
        compile_program("out: saw 55 |% 3\n")
