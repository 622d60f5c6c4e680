"""The transform registry: each transform's events, patterned arguments, and argument checking."""

from fractions import Fraction as F

import pytest

from phonon.graph.patterns import TRANSFORMS, MiniNotationError, TransformError, parse_mini
from phonon.graph.patterns.core import time_to_rand
from phonon.graph.patterns.registry import BuiltTransform, suggest

T = TRANSFORMS


def ev(pat, begin=0, end=1):
    return [(str(h.whole.begin), str(h.whole.end), h.value) for h in pat.onsets(begin, end)]


def starts_values(pat, begin=0, end=1):
    return [(str(h.whole.begin), h.value) for h in pat.onsets(begin, end)]


def values(pat, begin=0, end=1):
    return [h.value for h in pat.onsets(begin, end)]


def counts(pat, cycles):
    return [len(pat.onsets(c, c + 1)) for c in range(cycles)]


def mark(p):
    """A transform that tags values, to see where a conditional transform applied."""
    return p.fmap(lambda v: f"{v}!")


BD_SN_HH_CP = parse_mini("bd sn hh cp")


def test_registry_has_the_core_set():
    names = ("fast slow hurry rev every whenmod sometimes sometimesBy often rarely almostNever almostAlways always "
             "never degrade degradeBy off superimpose jux juxBy stut ply iter palindrome chunk early late swing "
             "swingBy segment struct euclid chop striate legato").split()
    assert set(names) <= set(TRANSFORMS)
    assert [(p.name, p.kind) for p in T["every"].params] == [("n", "int-pattern"), ("f", "transform")]
    assert [(p.name, p.kind) for p in T["stut"].params] == [("count", "int"), ("time", "pattern"),
                                                             ("decay", "pattern")]
    assert T["off"].signature == "off time:pattern f:transform"


# ---------------------------------------------------------------------------------------------- time


def test_fast_slow_rev():
    assert counts(T["fast"](2)(BD_SN_HH_CP), 2) == [8, 8]
    assert counts(T["slow"](2)(BD_SN_HH_CP), 2) == [2, 2]
    assert values(T["rev"]()(BD_SN_HH_CP)) == ["cp", "hh", "sn", "bd"]


def test_patterned_fast_follows_tidal_tparam():
    pat = T["fast"]("<1 2>")(parse_mini("bd sn"))
    assert counts(pat, 4) == [2, 4, 2, 4]
    assert starts_values(T["fast"]("1 2")(parse_mini("a b"))) == [("0", "a"), ("1/2", "a"), ("3/4", "b")]


def test_hurry_multiplies_speed():
    assert ev(T["hurry"](2)(parse_mini("bd sn"))) == [
        ("0", "1/4", {"value": "bd", "speed": 2}), ("1/4", "1/2", {"value": "sn", "speed": 2}),
        ("1/2", "3/4", {"value": "bd", "speed": 2}), ("3/4", "1", {"value": "sn", "speed": 2})]
    already = parse_mini("bd").fmap(lambda v: {"s": v, "speed": 1.5})
    assert values(T["hurry"](2)(already))[0] == {"s": "bd", "speed": 3.0}


def test_early_late():
    assert starts_values(T["early"](0.25)(BD_SN_HH_CP)) == [("0", "sn"), ("1/4", "hh"), ("1/2", "cp"), ("3/4", "bd")]
    assert starts_values(T["late"]("<0 0.25>")(parse_mini("a b")), 1, 2) == [("5/4", "a"), ("7/4", "b")]


# ---------------------------------------------------------------------------------------------- conditional


def test_every():
    pat = T["every"](3, T["fast"](2))(parse_mini("bd sn"))
    assert counts(pat, 7) == [4, 2, 2, 4, 2, 2, 4]
    # patterned n: every 2 in even cycles, every 3 in odd ones
    assert counts(T["every"]("<2 3>", T["fast"](2))(parse_mini("bd sn")), 4) == [4, 2, 4, 4]


def test_whenmod():
    assert counts(T["whenmod"](4, 2, T["fast"](2))(parse_mini("bd sn")), 8) == [2, 2, 4, 4, 2, 2, 4, 4]


@pytest.mark.parametrize("name, p", [("sometimes", 0.5), ("often", 0.75), ("rarely", 0.25),
                                     ("almostNever", 0.1), ("almostAlways", 0.9)])
def test_sometimes_family_is_per_event_with_tidal_probabilities(name, p):
    pat = T[name](mark)(parse_mini("x*32"))
    haps = pat.onsets(0, 8)
    assert len(haps) == 256  # every event kept, marked or not
    marked = [h.whole.begin for h in haps if h.value == "x!"]
    # f applies exactly where rand at the event's onset is below p
    assert marked == [F(i, 32) for i in range(256) if time_to_rand(F(i, 32)) < p]
    assert abs(len(marked) / 256 - p) < 0.1


def test_sometimes_by_patterned_always_never():
    pat = T["sometimesBy"]("<0 1>", mark)(parse_mini("x*4"))
    assert values(pat, 1, 2) == ["x!"] * 4
    assert "x!" not in values(pat, 2, 3)
    assert values(T["always"](mark)(parse_mini("a b"))) == ["a!", "b!"]
    assert values(T["never"](mark)(parse_mini("a b"))) == ["a", "b"]


def test_sometimes_applies_the_transform_to_the_chosen_events():
    pat = T["sometimes"](T["fast"](2))(parse_mini("bd sn"))
    assert pat.onsets(0, 8) == T["sometimes"](T["fast"](2))(parse_mini("bd sn")).onsets(0, 8)  # deterministic
    assert sum(counts(pat, 8)) != 16  # some cycles changed


def test_degrade():
    pat = parse_mini("x*32")
    kept = [h.whole.begin for h in T["degrade"]()(pat).onsets(0, 4)]
    assert kept == [F(i, 32) for i in range(128) if time_to_rand(F(i, 32)) > 0.5]
    assert T["degradeBy"](0.5)(pat).onsets(0, 4) == T["degrade"]()(pat).onsets(0, 4)
    assert len(T["degradeBy"](0.9)(pat).onsets(0, 4)) < 30
    assert counts(T["degradeBy"]("<0 1>")(pat), 4)[1::2] == [0, 0]
    kept_again = T["undegradeBy"](0.5)(pat).onsets(0, 4)
    assert len(kept) + len(kept_again) == 128


def test_chunk():
    pat = T["chunk"](4, mark)(BD_SN_HH_CP)
    assert [values(pat, c, c + 1) for c in range(5)] == [
        ["bd!", "sn", "hh", "cp"], ["bd", "sn!", "hh", "cp"], ["bd", "sn", "hh!", "cp"],
        ["bd", "sn", "hh", "cp!"], ["bd!", "sn", "hh", "cp"]]


def test_within_inside_outside_zoom():
    assert values(T["within"](0, 0.5, mark)(BD_SN_HH_CP)) == ["bd!", "sn!", "hh", "cp"]
    assert values(T["inside"](2, T["rev"]())(BD_SN_HH_CP)) == ["sn", "bd", "cp", "hh"]
    assert values(T["outside"](2, T["rev"]())(parse_mini("<[a b] [c d]>")), 0, 2) == ["d", "c", "b", "a"]
    assert ev(T["zoom"](0.25, 0.75)(BD_SN_HH_CP)) == [("0", "1/2", "sn"), ("1/2", "1", "hh")]


# ---------------------------------------------------------------------------------------------- layering


def test_off_and_superimpose():
    assert starts_values(T["off"](0.25, T["fast"](2))(parse_mini("bd"))) == [("0", "bd"), ("1/8", "bd"), ("5/8", "bd")]
    assert starts_values(T["off"](0.125, mark)(parse_mini("a b"))) == [
        ("0", "a"), ("1/8", "a!"), ("1/2", "b"), ("5/8", "b!")]
    assert starts_values(T["superimpose"](T["fast"](2))(parse_mini("a b"))) == [
        ("0", "a"), ("0", "a"), ("1/4", "b"), ("1/2", "b"), ("1/2", "a"), ("3/4", "b")]


def test_jux_pans_the_copies():
    assert ev(T["jux"](T["rev"]())(parse_mini("bd sn"))) == [
        ("0", "1/2", {"value": "bd", "pan": 0}), ("0", "1/2", {"value": "sn", "pan": 1}),
        ("1/2", "1", {"value": "sn", "pan": 0}), ("1/2", "1", {"value": "bd", "pan": 1})]
    assert [v["pan"] for v in values(T["juxBy"](0.5, T["rev"]())(parse_mini("bd")))] == [0.25, 0.75]  # Tidal's


def test_stut_is_count_time_decay():
    assert ev(T["stut"](3, 0.125, 0.5)(parse_mini("bd"))) == [
        ("0", "1", {"value": "bd", "gain": 1.0}),
        ("1/8", "9/8", {"value": "bd", "gain": 0.5}),
        ("1/4", "5/4", {"value": "bd", "gain": 0.25})]
    loud = parse_mini("bd").fmap(lambda v: {"s": v, "gain": 0.8})
    assert [v["gain"] for v in values(T["stut"](2, 0.5, 0.5)(loud))] == [0.8, 0.4]


# ---------------------------------------------------------------------------------------------- structure


def test_ply_iter_palindrome():
    assert starts_values(T["ply"](2)(parse_mini("a b"))) == [("0", "a"), ("1/4", "a"), ("1/2", "b"), ("3/4", "b")]
    assert counts(T["ply"]("<1 3>")(parse_mini("a b")), 2) == [2, 6]
    assert [values(T["iter"](4)(BD_SN_HH_CP), c, c + 1) for c in range(5)] == [
        ["bd", "sn", "hh", "cp"], ["sn", "hh", "cp", "bd"], ["hh", "cp", "bd", "sn"], ["cp", "bd", "sn", "hh"],
        ["bd", "sn", "hh", "cp"]]
    assert [values(T["palindrome"]()(parse_mini("a b c")), c, c + 1) for c in range(3)] == [
        ["a", "b", "c"], ["c", "b", "a"], ["a", "b", "c"]]


def test_swing_delays_second_half_of_each_slice():
    # swingBy x n (Tidal): onsets in the second half of each 1/n slice move x/n later
    assert starts_values(T["swingBy"](F(1, 3), 2)(BD_SN_HH_CP)) == [
        ("0", "bd"), ("5/12", "sn"), ("1/2", "hh"), ("11/12", "cp")]
    assert starts_values(T["swing"](2)(BD_SN_HH_CP)) == starts_values(T["swingBy"](F(1, 3), 2)(BD_SN_HH_CP))
    # Tidal's within keeps the events of the shifted pattern that start in the second half: with a delay of
    # half a slice that is a's copy, and b (shifted onto the next slice's start) is gone, as in Tidal
    swung = starts_values(T["swingBy"](0.5, 1)(parse_mini("a b")), 0, 2)
    assert sorted(swung) == [("0", "a"), ("1", "a"), ("1/2", "a"), ("3/2", "a")]


def test_segment_struct_euclid():
    assert starts_values(T["segment"](4)(parse_mini("a b"))) == [("0", "a"), ("1/4", "a"), ("1/2", "b"), ("3/4", "b")]
    assert starts_values(T["struct"]("t ~ t t")(parse_mini("a"))) == [("0", "a"), ("1/2", "a"), ("3/4", "a")]
    assert starts_values(T["struct"]("t(3,8)")(parse_mini("a b"))) == [("0", "a"), ("3/8", "a"), ("3/4", "b")]
    assert [s for s, _ in starts_values(T["euclid"](3, 8)(parse_mini("bd")))] == ["0", "3/8", "3/4"]
    assert [s for s, _ in starts_values(T["euclidOff"](3, 8, 2)(parse_mini("bd")))] == ["1/8", "1/2", "3/4"]
    assert counts(T["euclid"]("<3 5>", 8)(parse_mini("bd")), 2) == [3, 5]


# ---------------------------------------------------------------------------------------------- sample controls


def test_chop():
    assert ev(T["chop"](2)(parse_mini("bd sn"))) == [
        ("0", "1/4", {"value": "bd", "begin": 0.0, "end": 0.5}),
        ("1/4", "1/2", {"value": "bd", "begin": 0.5, "end": 1.0}),
        ("1/2", "3/4", {"value": "sn", "begin": 0.0, "end": 0.5}),
        ("3/4", "1", {"value": "sn", "begin": 0.5, "end": 1.0})]
    sliced = parse_mini("bd").fmap(lambda v: {"s": v, "begin": 0.5, "end": 1.0})
    assert [(v["begin"], v["end"]) for v in values(T["chop"](2)(sliced))] == [(0.5, 0.75), (0.75, 1.0)]


def test_striate():
    assert ev(T["striate"](2)(parse_mini("bd sn"))) == [
        ("0", "1/4", {"value": "bd", "begin": 0.0, "end": 0.5}),
        ("1/4", "1/2", {"value": "sn", "begin": 0.0, "end": 0.5}),
        ("1/2", "3/4", {"value": "bd", "begin": 0.5, "end": 1.0}),
        ("3/4", "1", {"value": "sn", "begin": 0.5, "end": 1.0})]


def test_legato():
    assert values(T["legato"](0.5)(parse_mini("bd sn"))) == [{"value": "bd", "legato": 0.5},
                                                            {"value": "sn", "legato": 0.5}]
    assert [v["legato"] for v in values(T["legato"]("0.5 2")(parse_mini("a b")))] == [0.5, 2]


# ---------------------------------------------------------------------------------------------- arguments


def test_built_transform_repr_and_composition():
    built = T["every"](3, T["fast"](2))
    assert isinstance(built, BuiltTransform)
    assert repr(built) == "every 3 (fast 2)"
    assert repr(T["jux"](T["rev"]())) == "jux rev"
    assert repr(T["degradeBy"]("0.2 0.8")) == 'degradeBy "0.2 0.8"'
    assert T["fast"].apply(parse_mini("a"), 2).onsets(0, 1) == T["fast"](2)(parse_mini("a")).onsets(0, 1)


@pytest.mark.parametrize("name, args, fragment", [
    ("fast", (), "fast takes 1 argument (factor), got 0"),
    ("rev", (1,), "rev takes 0 arguments (no arguments), got 1"),
    ("every", (1.5, T["rev"]()), "every: argument 'n' must be a whole number, got 1.5"),
    ("every", (3, 2), "every: argument 'f' must be a transform"),
    ("stut", (2.5, 0.125, 0.5), "stut: argument 'count' must be a whole number"),
    ("fast", (None,), "fast: argument 'factor' must be a number or a pattern"),
    ("fast", (True,), "fast: argument 'factor' must be a number or a pattern"),
    ("within", ("0", 0.5, T["rev"]()), "within: argument 'begin' must be a number"),
    ("off", (0.25, parse_mini("a")), "off: argument 'f' must be a transform"),
])
def test_bad_arguments_raise_transform_error(name, args, fragment):
    with pytest.raises(TransformError) as info:
        T[name](*args)
    assert fragment in str(info.value)


def test_bad_mini_notation_argument_keeps_its_column():
    with pytest.raises(MiniNotationError) as info:
        T["fast"]("<1 2")
    assert info.value.column == 5


def test_suggest():
    assert suggest("fats") == ["fast"]
    assert "degradeBy" in suggest("degradeby")
