"""Tidal's UI.hs / Control.hs / Core.hs transforms in the registry (graph/patterns/transforms.py): mask, rot,
linger, trunc, fit, echo, echoWith/stutWith, brak, loopAt, slice, splice, bite, chew, press, pressBy, ribbon,
ghost, someCyclesBy and aliases, everyOffset (Tidal's every'), fastGap, compress, degradeBySeed.

Each is checked on the examples of Tidal's documentation (the Haddock comments of Sound.Tidal.UI / Control,
which the tidal-doc reference pages repeat) or against an equivalent mini-notation expression, with exact
Fraction times; then patterned arguments and argument errors. tests/fixtures/strudel_transforms.json (made by
tests/fixtures/generate_strudel_transforms.mjs) holds Strudel 1.2.5's events for the ones Strudel has: the
same events, except the cases marked `differs`, where Phonon follows Tidal on purpose (module doc).
"""

from __future__ import annotations

import json
import math
from fractions import Fraction as F
from pathlib import Path

import pytest

from phonon.graph.patterns import TRANSFORMS, PatternLimitError, TransformError, parse_mini
from phonon.graph.patterns.core import control_map, time_to_rand

T = TRANSFORMS
m = parse_mini


def ev(pat, begin=0, end=1):
    return [(str(h.whole.begin), str(h.whole.end), h.value) for h in pat.onsets(begin, end)]


def same(a, b, begin=0, end=4):
    """The same onsets (times and values), in time order; ties in any order."""
    key = lambda e: (e[0] if isinstance(e[0], F) else F(e[0]), F(e[1]), repr(e[2]))  # noqa: E731
    return sorted(ev(a, begin, end), key=key) == sorted(ev(b, begin, end), key=key)


def values(pat, begin=0, end=1):
    return [h.value for h in pat.onsets(begin, end)]


def mark(p):
    return p.fmap(lambda v: f"{v}!")


NEW = ("mask rot linger trunc fit echo echoWith stutWith brak loopAt slice splice bite chew press pressBy ribbon "
       "ghost someCyclesBy somecyclesBy someCycles somecycles everyOffset fastGap compress degradeBySeed").split()


def test_registry_has_them_with_their_parameter_kinds():
    assert set(NEW) <= set(T)
    sig = {name: [(p.name, p.kind) for p in T[name].params] for name in NEW}
    assert sig["echo"] == [("count", "int-pattern"), ("time", "pattern"), ("feedback", "pattern")]
    assert sig["echoWith"] == sig["stutWith"] == [("count", "int-pattern"), ("time", "pattern"), ("f", "transform")]
    assert sig["slice"] == sig["splice"] == sig["bite"] == sig["chew"] == [("n", "int-pattern"),
                                                                          ("index", "int-pattern")]
    assert sig["everyOffset"] == [("n", "int-pattern"), ("offset", "int-pattern"), ("f", "transform")]
    assert sig["someCyclesBy"] == sig["somecyclesBy"] == [("probability", "pattern"), ("f", "transform")]
    assert sig["fit"] == [("step", "int-pattern"), ("list", "pattern")]
    assert sig["rot"] == [("n", "int-pattern")]
    assert sig["degradeBySeed"] == [("probability", "pattern"), ("seed", "int")]
    assert sig["brak"] == sig["press"] == sig["ghost"] == []
    assert "every'" not in T  # a name with ' cannot be written: everyOffset


# ---------------------------------------------------------------------------------------------- structure


def test_mask_keeps_the_pattern_where_the_booleans_are_true():
    # Tidal's doc: mask "1 1 1 ~ 1 1 ~ 1" on "sn*8" leaves "sn sn sn ~ sn sn ~ sn"
    assert same(T["mask"]("1 1 1 ~ 1 1 ~ 1")(m("sn*8")), m("sn sn sn ~ sn sn ~ sn"))
    assert same(T["mask"]("t f t t")(m("a*8")), m("a a ~ ~ a a a a"))
    assert same(T["mask"]("<1 [0 1]>")(m("a b c d")), m("<[a b c d] [~ ~ c d]>"))
    # structure from the pattern: a long event keeps its whole, cut to the true part (no new onset)
    assert ev(T["mask"]("0 1")(m("a")), 0, 1) == []
    assert [(str(h.part.begin), str(h.part.end)) for h in T["mask"]("0 1")(m("a")).query_arc(0, 1)] == [("1/2", "1")]


def test_rot_shifts_values_keeping_the_rhythm():
    # Tidal's doc: rot 1 "a ~ b c" is "b ~ c a"
    assert same(T["rot"](1)(m("a ~ b c")), m("b ~ c a"))
    assert same(T["rot"](2)(m("a ~ b c")), m("c ~ a b"))
    assert same(T["rot"](-1)(m("a ~ b c")), m("c ~ a b"))
    assert same(T["rot"](4)(m("a b c")), m("b c a"))  # 4 mod 3
    assert same(T["rot"](-4)(m("a b c")), m("a b c"))  # Tidal: drop (3 - 4) of the cycle = no rotation
    assert same(T["rot"]("<0 1 2>")(m("a b c")), m("<[a b c] [b c a] [c a b]>"), 0, 6)
    # each cycle on its own, a chord (stacked events) in time order
    assert same(T["rot"](1)(m("<[a b] [c d e]>")), m("<[b a] [d e c]>"))
    assert same(T["rot"](1)(m("[a, b] c")), m("[b, c] a"))
    # fragments of one event (structure from the left of |<) count once (Tidal's defragParts)
    fragmented = m("a b").op("<", m("x*4"), "left")
    assert len(fragmented.query_arc(0, 1)) == 4
    assert [(str(h.part.begin), str(h.part.end), h.value) for h in T["rot"](1)(fragmented).query_arc(0, 1)] == [
        ("0", "1/2", "b"), ("1/2", "1", "a")]
    # a query inside the cycle sees the rotation of the whole cycle
    assert [h.value for h in T["rot"](1)(m("a b c d")).query_arc(F(1, 2), F(3, 4))] == ["d"]


def test_linger_repeats_the_start_of_each_cycle():
    # Tidal's doc: linger 0.25 $ n "0 2 [3 4] 2" repeats the first quarter
    assert same(T["linger"](0.25)(m("0 2 [3 4] 2")), m("0*4"))
    assert same(T["linger"](0.5)(m("0 2 [3 4] 2")), m("[0 2]*2"))
    assert ev(T["linger"](0.75)(m("a b c d"))) == [
        ("0", "1/4", "a"), ("1/4", "1/2", "b"), ("1/2", "3/4", "c"), ("3/4", "1", "a")]
    assert same(T["linger"]("<1 0.5 0.25>")(m("a b c d")), m("<[a b c d] [a b a b] [a a a a]>"), 0, 6)
    # negative: the last part, and Tidal's _fast with a negative factor reverses it
    assert same(T["linger"](-0.25)(m("a b c d e f g h")), m("[h g]*4"))
    assert ev(T["linger"](0)(m("a b"))) == []


def test_trunc_plays_the_start_of_each_cycle():
    # Tidal's doc: trunc 0.75 keeps the first three quarters
    assert same(T["trunc"](0.75)(m("bd sn*2 cp hh*4 arpy bd*2 cp bd*2")), m("bd sn*2 cp hh*4 arpy bd*2 ~ ~"))
    assert same(T["trunc"]("<0.75 0.25 1>")(m("bd sn [mt rs] hc")),
                m("<[bd sn [mt rs] ~] [bd ~ ~ ~] [bd sn [mt rs] hc]>"), 0, 6)
    # an event across the cut keeps its whole and loses its end
    cut = T["trunc"](0.25)(m("a@3 b")).query_arc(0, 1)
    assert [(str(h.whole.end), str(h.part.end)) for h in cut] == [("3/4", "1/4")]
    assert ev(T["trunc"](0)(m("a"))) == []


def test_brak_squashes_odd_cycles():
    assert same(T["brak"]()(m("bd sn kurt")), m("<[bd sn kurt] [~ [bd sn kurt]@2 ~]>"), 0, 6)
    assert ev(T["brak"]()(m("a b")), 1, 2) == [("5/4", "3/2", "a"), ("3/2", "7/4", "b")]


def test_press_and_press_by():
    # Tidal's doc: press turns "a b [c d] e" into "[~ a] [~ b] [[~ c] [~ d]] [~ e]"
    assert same(T["press"]()(m("a b [c d] e")), m("[~ a] [~ b] [[~ c] [~ d]] [~ e]"))
    assert same(T["pressBy"](0.5)(m("a b")), T["press"]()(m("a b")))
    assert same(T["pressBy"](F(1, 3))(m("a b c")), m("[~ a@2] [~ b@2] [~ c@2]"))
    assert same(T["pressBy"]("<0 0.5>")(m("a b")), m("<[a b] [[~ a] [~ b]]>"))
    assert ev(T["pressBy"](1)(m("a"))) == [] and ev(T["pressBy"](-0.25)(m("a"))) == []  # outside [0, 1): silence


def test_fast_gap_and_compress():
    assert same(T["fastGap"](2)(m("a b")), m("[a b] ~"))
    assert same(T["fastGap"](3)(m("a b c")), m("[a b c] ~ ~"))
    assert same(T["fastGap"]("<2 4>")(m("a b")), m("<[[a b] ~] [[a b] ~ ~ ~]>"))
    assert same(T["fastGap"](0.5)(m("a b")), m("a b"))  # Tidal: max r 1
    assert ev(T["fastGap"](0)(m("a b"))) == []
    assert same(T["compress"](0.25, 0.75)(m("a b")), m("~ [a b]@2 ~"))
    assert same(T["compress"](0, 0.5)(m("a b c")), m("[a b c] ~"))
    assert same(T["compress"]("<0 0.5>", 1)(m("a b")), m("<[a b] [~ [a b]]>"))
    assert ev(T["compress"](0.75, 0.25)(m("a"))) == [] and ev(T["compress"](0.5, 1.5)(m("a"))) == []


def test_ribbon_loops_a_stretch_of_cycles():
    assert same(T["ribbon"](1, 2)(m("<a b c d>")), m("<b c>"), 0, 8)
    assert same(T["ribbon"](0.5, 0.5)(m("a b c d")), m("[c d]*2"))
    assert same(T["ribbon"](2, 1)(m("<a b c>*2")), m("[b c]"), 0, 3)  # cycle 2 of <a b c>*2
    # an event across a loop point is cut there
    assert ev(T["ribbon"](0.25, 1)(m("a b"))) == [("0", "1/4", "a"), ("1/4", "3/4", "b"), ("3/4", "1", "a")]
    assert ev(T["ribbon"](0, 0)(m("a"))) == []


# ---------------------------------------------------------------------------------------------- lists and bites


def test_fit_steps_through_the_list():
    # Tidal's doc: fit 3 ["bd", "sn", "arpy", "arpy:1", "casio"] "0 [~ 1] 2 1"
    pat = T["fit"](3, "bd sn arpy arpy:1 casio")(m("0 [~ 1] 2 1"))
    assert same(pat, m("<[bd [~ sn] arpy sn] [arpy:1 [~ casio] bd casio] [sn [~ arpy] arpy:1 arpy]>"), 0, 3)
    assert same(T["fit"](0, "a b c")(m("0 1 2 3")), m("a b c a"))
    assert same(T["fit"]("<1 2>", "a b c d")(m("0 1")), m("<[a b] [c d]>"), 0, 2)
    assert ev(T["fit"](1, "~")(m("0 1"))) == []  # an empty list
    with pytest.raises(ValueError, match="fit"):
        T["fit"](1, "a b")(m("x")).onsets(0, 1)


def test_bite_plays_parts_of_the_cycle():
    # Tidal's doc: bite 4 "0 2*2" (run 8) is "[0 1] [4 5]*2"
    assert same(T["bite"](4, "0 2*2")(m("0 1 2 3 4 5 6 7")), m("[0 1] [4 5]*2"))
    assert same(T["bite"](4, "2 [0 3] 1*4 1")(m("0 1 2 3 4 5 6 7")), m("[4 5] [[0 1] [6 7]] [2 3]*4 [2 3]"))
    assert same(T["bite"](2, "1 0 <0 1>")(m("a b c d")), m("[c d] [a b] <[a b] [c d]>"))
    assert same(T["bite"](4, "5 -1")(m("a b c d")), m("b d"))  # mod n
    assert same(T["bite"]("<4 2>", "0 1")(m("a b c d")), m("<[a b] [[a b] [c d]]>"))


def test_chew_is_bite_with_speed_following_the_squeeze():
    # Tidal's doc: chew 4 "0 1*2 2*2 [~ 3]" $ n "0 .. 7" # sound "drum"
    subject = m("0 1 2 3 4 5 6 7")
    chewed, bitten = T["chew"](4, "0 1*2 2*2 [~ 3]")(subject), T["bite"](4, "0 1*2 2*2 [~ 3]")(subject)
    assert [(s, e) for s, e, _ in ev(chewed)] == [(s, e) for s, e, _ in ev(bitten)]
    assert [v["value"] for v in values(chewed)] == values(bitten)
    # a part of 1/4 (two events) played in 1/4 keeps speed 1, in 1/8 doubles it
    assert [v["speed"] for v in values(chewed)] == [1.0] * 2 + [2.0] * 10
    # part 0 of 2 ("a") stretched over the cycle: a speed already set is multiplied by 1/2
    slower = T["chew"](2, "0")(m("a b").fmap(lambda v: {"value": v, "speed": 3}))
    assert ev(slower) == [("0", "1", {"value": "a", "speed": 1.5})]


def test_slice_sets_begin_and_end_from_the_index_pattern():
    assert ev(T["slice"](4, "0 2")(m("bev"))) == [
        ("0", "1/2", {"value": "bev", "begin": 0.0, "end": 0.25}),
        ("1/2", "1", {"value": "bev", "begin": 0.5, "end": 0.75})]
    # structure from the index pattern, the sample sampled over each index event
    assert [(s, v["value"], v["begin"]) for s, _, v in ev(T["slice"](8, "7 6 5")(m("a b")))] == [
        ("0", "a", 0.875), ("1/3", "a", 0.75), ("2/3", "b", 0.625)]
    assert [v["begin"] for v in values(T["slice"](4, "5 -1")(m("bev")))] == [0.25, 0.75]  # mod n
    assert [v["end"] for v in values(T["slice"]("<4 2>", "1")(m("bev")), 0, 2)] == [0.5, 1.0]
    # a begin already set wins, as Tidal's `begin b # end e # p`
    own = m("bev").fmap(lambda v: {"value": v, "begin": 0.1})
    assert values(T["slice"](4, "3")(own)) == [{"begin": 0.1, "end": 1.0, "value": "bev"}]


def test_splice_fits_each_slice_to_its_event():
    assert ev(T["splice"](4, "0 [3 2]")(m("bev"))) == [
        ("0", "1/2", {"begin": 0.0, "end": 0.25, "value": "bev", "speed": 0.5, "unit": "c"}),
        ("1/2", "3/4", {"begin": 0.75, "end": 1.0, "value": "bev", "speed": 1.0, "unit": "c"}),
        ("3/4", "1", {"begin": 0.5, "end": 0.75, "value": "bev", "speed": 1.0, "unit": "c"})]
    fast = m("bev").fmap(lambda v: {"value": v, "speed": 2})
    assert [v["speed"] for v in values(T["splice"](4, "0 1")(fast))] == [1.0, 1.0]  # multiplied
    assert [v["speed"] for v in values(T["splice"]("<2 4>", "0")(m("bev")), 0, 2)] == [0.5, 0.25]


def test_loop_at_slows_and_sets_speed_and_unit():
    assert ev(T["loopAt"](2)(m("break")), 0, 2) == [("0", "2", {"value": "break", "speed": 0.5, "unit": "c"})]
    own = m("break").fmap(lambda v: {"value": v, "speed": 2})
    assert values(T["loopAt"](4)(own)) == [{"value": "break", "speed": 0.5, "unit": "c"}]  # multiplied
    assert [(s, v["speed"]) for s, _, v in ev(T["loopAt"]("<1 2>")(m("a*2")), 0, 4)] == [
        ("0", 1.0), ("1/2", 1.0), ("1", 0.5), ("2", 1.0), ("5/2", 1.0), ("3", 0.5)]
    # loopAt 2 $ chop 4: the chopped parts line up, each a quarter of the sample at half speed
    chopped = T["loopAt"](2)(T["chop"](4)(m("bev")))
    assert [(s, v["begin"], v["speed"]) for s, _, v in ev(chopped, 0, 2)] == [
        ("0", 0.0, 0.5), ("1/2", 0.25, 0.5), ("1", 0.5, 0.5), ("3/2", 0.75, 0.5)]


# ---------------------------------------------------------------------------------------------- layering


def test_echo_is_count_time_feedback():
    # Tidal's doc: echo 4 0.2 0.5 $ sound "bd sn": 4 echoes 1/5 cycle apart, each 50% quieter
    assert ev(T["echo"](4, 0.2, 0.5)(m("bd")))[:4] == [
        ("0", "1", "bd"), ("1/5", "6/5", {"value": "bd", "gain": 0.5}),
        ("2/5", "7/5", {"value": "bd", "gain": 0.25}), ("3/5", "8/5", {"value": "bd", "gain": 0.125})]
    loud = m("bd").fmap(lambda v: {"value": v, "gain": 0.8})
    assert [v["gain"] for v in values(T["echo"](3, 0.25, 0.5)(loud))] == [0.8, 0.4, 0.2]  # multiplied
    # a negative time echoes before the event
    assert [s for s, _, _ in ev(T["echo"](3, -0.25, 0.5)(m("a")))] == ["0", "1/2", "3/4"]
    assert same(T["echo"](1, 0.25, 0.5)(m("a b")), m("a b")) and same(T["echo"](0, 0.25, 0.5)(m("a b")), m("a b"))
    assert [s for s, _, _ in ev(T["echo"]("<2 3>", 0.25, 0.5)(m("a")), 1, 2)] == ["1", "5/4", "3/2"]


def test_echo_with_compounds_the_function():
    """Tidal's _echoWith: copy k is f applied k times, after each shift."""
    assert same(T["echoWith"](3, F(1, 8), mark)(m("a")),
                m("a").stack(mark(m("a"))._late(F(1, 8)), mark(mark(m("a")))._late(F(1, 4))))
    # ply 2 twice is ply 4: copy 2 is a quarter-cycle pulse
    assert sorted(ev(T["echoWith"](3, F(1, 4), T["ply"](2))(m("a")))) == sorted([
        ("0", "1", "a"), ("1/4", "3/4", "a"), ("3/4", "5/4", "a"),  # the original and ply 2, 1/4 later
        ("0", "1/4", "a"), ("1/4", "1/2", "a"), ("1/2", "3/4", "a"), ("3/4", "1", "a")])  # ply 4, 1/2 later
    assert same(T["stutWith"](3, F(1, 8), mark)(m("a b")), T["echoWith"](3, F(1, 8), mark)(m("a b")))
    assert values(T["echoWith"]("<1 2>", 0.5, mark)(m("a")), 0, 4) == ["a", "a", "a!", "a", "a", "a!"]


def test_ghost_adds_quieter_shorter_higher_copies():
    pat = T["ghost"]()(m("~ sn"))
    f = {"value": "sn", "speed": 1.25, "end": 0.2, "gain": 0.7}
    ff = {"value": "sn", "speed": 1.25 ** 2, "end": 0.2, "gain": pytest.approx(0.7 ** 2)}
    # the f-twice copy of the f copy at 11/16..19/16 crosses the cycle boundary before its shift, and Tidal's
    # |*| takes structure from both sides: it is cut there, into 1..21/16 and 21/16..3/2
    assert ev(pat, F(1, 2), F(3, 2)) == [
        ("1/2", "1", "sn"), ("11/16", "19/16", f), ("13/16", "21/16", f), ("1", "21/16", ff), ("21/16", "3/2", ff)]


# ---------------------------------------------------------------------------------------------- conditions


def test_some_cycles_by_applies_f_to_whole_cycles():
    pat = T["someCyclesBy"](0.5, mark)(m("a b c"))
    chosen = [c for c in range(16) if time_to_rand(c) < 0.5]
    assert 0 < len(chosen) < 16
    for c in range(16):
        assert values(pat, c, c + 1) == (["a!", "b!", "c!"] if c in chosen else ["a", "b", "c"])
    assert same(T["somecyclesBy"](0.5, mark)(m("a b c")), pat, 0, 16)
    assert same(T["someCycles"](mark)(m("a b c")), pat, 0, 16)
    assert same(T["somecycles"](mark)(m("a b c")), pat, 0, 16)
    # f(pat) in the chosen cycles, so fast 2 doubles them
    assert [len(values(T["someCyclesBy"](0.5, T["fast"](2))(m("a b")), c, c + 1)) for c in range(8)] == [
        4 if c in chosen else 2 for c in range(8)]
    assert "a!" not in values(T["someCyclesBy"](0, mark)(m("a")), 0, 16)
    assert values(T["someCyclesBy"](1, mark)(m("a")), 0, 4) == ["a!"] * 4
    assert values(T["someCyclesBy"]("<0 1>", mark)(m("a")), 0, 4) == ["a", "a!", "a", "a!"]


def test_every_offset_is_tidals_every_prime():
    assert same(T["everyOffset"](3, 0, T["fast"](2))(m("a b")), T["every"](3, T["fast"](2))(m("a b")), 0, 9)
    pat = T["everyOffset"](4, 2, mark)(m("a"))
    assert values(pat, 0, 8) == ["a", "a", "a!", "a", "a", "a", "a!", "a"]
    assert values(T["everyOffset"](3, 5, mark)(m("a")), 0, 6) == ["a"] * 6  # c mod 3 is never 5
    assert values(T["everyOffset"](0, 0, mark)(m("a")), 0, 3) == ["a"] * 3
    assert values(T["everyOffset"]("<2 3>", 0, mark)(m("a")), 0, 6) == ["a!", "a", "a!", "a!", "a!", "a"]
    assert values(T["everyOffset"](2, "<0 1>", mark)(m("a")), 0, 4) == ["a!", "a!", "a!", "a!"]


def test_degrade_by_seed_is_the_random_stream_of_the_nth_question_mark():
    pat = m("a*16")
    assert T["degradeBySeed"](0.5, 0)(pat).onsets(0, 4) == T["degradeBy"](0.5)(pat).onsets(0, 4)
    kept = [h.whole.begin for h in T["degradeBySeed"](0.5, 3)(pat).onsets(0, 4)]
    assert kept == [F(i, 16) for i in range(64) if time_to_rand(F(i, 16) + F(9, 10000)) > 0.5]
    # mini-notation's second `?` is seed 1 (and reads the random stream in the time of its element)
    second = [h for h in m("a? b*8?").onsets(0, 4) if h.value == "b"]
    ours = T["compress"](0.5, 1)(T["degradeBySeed"](0.5, 1)(m("b*8")))
    assert [h.whole for h in second] == [h.whole for h in ours.onsets(0, 4)] and second
    assert [len(T["degradeBySeed"]("<0 1>", 2)(pat).onsets(c, c + 1)) for c in range(2)] == [16, 0]


# ---------------------------------------------------------------------------------------------- arguments


@pytest.mark.parametrize("name, args, fragment", [
    ("rot", (1.5,), "rot: argument 'n' must be a whole number"),
    ("echo", (2.5, 0.25, 0.5), "echo: argument 'count' must be a whole number"),
    ("echo", (3, 0.25), "echo takes 3 arguments (count time feedback), got 2"),
    ("echoWith", (3, 0.25, 2), "echoWith: argument 'f' must be a transform"),
    ("stutWith", (3, None, T["rev"]()), "stutWith: argument 'time' must be a number or a pattern"),
    ("someCyclesBy", (0.5, m("a")), "someCyclesBy: argument 'f' must be a transform"),
    ("everyOffset", (4, 1.5, T["rev"]()), "everyOffset: argument 'offset' must be a whole number"),
    ("fit", (1.5, "a b"), "fit: argument 'step' must be a whole number"),
    ("slice", (4, 0.5), "slice: argument 'index' must be a whole number"),
    ("degradeBySeed", (0.5, 0.5), "degradeBySeed: argument 'seed' must be a whole number"),
    ("degradeBySeed", (0.5, "1 2"), "degradeBySeed: argument 'seed' must be a whole number"),
    ("mask", (True,), "mask: argument 'structure' must be a number or a pattern"),
    ("brak", (1,), "brak takes 0 arguments (no arguments), got 1"),
    ("ribbon", (1,), "ribbon takes 2 arguments (offset cycles), got 1"),
    ("compress", (0.25, None), "compress: argument 'end' must be a number or a pattern"),
])
def test_bad_arguments_raise_transform_error(name, args, fragment):
    with pytest.raises(TransformError) as info:
        T[name](*args)
    assert fragment in str(info.value)


@pytest.mark.parametrize("name", ["slice", "splice", "bite", "chew"])
def test_a_count_of_parts_must_be_positive(name):
    for n in (0, -2):
        with pytest.raises(TransformError, match=f"{name}: argument 'n' must be a positive whole number, got {n}"):
            T[name](n, "0 1")(m("a"))
    # patterned: a value below 1 gives silence where it holds
    assert values(T[name]("<2 0>", "0")(m("a b")), 1, 2) == []


def test_negative_loop_at_is_refused_as_fast_is():
    with pytest.raises(PatternLimitError, match="loopAt"):
        T["loopAt"](-2)(m("a"))
    with pytest.raises(PatternLimitError, match="loopAt"):
        T["loopAt"]("<2 -1>")(m("a")).onsets(0, 2)


def test_repr_shows_the_source_form():
    assert repr(T["echoWith"](3, 0.125, T["fast"](2))) == "echoWith 3 0.125 (fast 2)"
    assert repr(T["everyOffset"](4, 2, T["rev"]())) == "everyOffset 4 2 rev"


def test_in_a_program():
    from phonon.engine.clock import EventClock
    from phonon.graph.compiler import compile_program

    def controls(text):
        graph = compile_program(text)
        (node,) = [n for n in graph.nodes if n.kind in ("sampler", "synth")]
        return [(t, c) for t, _, c in EventClock(node.pattern, node.params, graph.cps, 44100).onsets(0)]

    assert controls('out: s "bd sn" $ echo 2 0.125 0.5\n') == [
        (0, {"s": "bd"}), (F(1, 8), {"s": "bd", "gain": 0.5}),
        (F(1, 2), {"s": "sn"}), (F(5, 8), {"s": "sn", "gain": 0.5})]
    assert controls('out: s "bev" $ slice 4 "0 3"\n') == [
        (0, {"s": "bev", "begin": 0.0, "end": 0.25}), (F(1, 2), {"s": "bev", "begin": 0.75, "end": 1.0})]
    assert controls('out: s "bd*4" $ everyOffset 2 0 (mask "1 0")\n') == [(0, {"s": "bd"}), (F(1, 4), {"s": "bd"})]
    assert [c["s"] for _, c in controls('out: s (fit 1 "bd sn hh" "0 1 2 0")\n')] == ["bd", "sn", "hh", "bd"]


# ---------------------------------------------------------------------------------------------- Strudel 1.2.5

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "strudel_transforms.json").read_text())


def _arg(a):
    return T[a["transform"]](*[_arg(x) for x in a["args"]]) if isinstance(a, dict) else a


def our_events(case):
    py = case["python"]
    pat = m(py["pattern"])
    if py.get("controls"):
        pat = pat.fmap(lambda v, c=py["controls"]: {"value": v, **c})
    pat = T[py["transform"]](*[_arg(a) for a in py["args"]])(pat)
    return [{"begin": str(h.whole.begin), "end": str(h.whole.end), "value": h.value}
            for h in pat.onsets(0, case["cycles"])]


def same_value(ours, theirs):
    if isinstance(ours, dict) or isinstance(theirs, dict):  # Strudel's {s: v} is Phonon's {"value": v} or v
        a, b = control_map(ours), control_map(theirs)
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)):
        return math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-12)
    return ours == theirs


def same_events(ours, theirs):
    return len(ours) == len(theirs) and all(
        a["begin"] == b["begin"] and a["end"] == b["end"] and same_value(a["value"], b["value"])
        for a, b in zip(ours, theirs))


def test_fixture_covers_the_transforms_strudel_has():
    assert FIXTURE["strudel"] == {"core": "1.2.5", "mini": "1.2.5"}
    covered = {c["python"]["transform"] for c in FIXTURE["cases"]}
    assert covered == {"mask", "linger", "echo", "echoWith", "stutWith", "brak", "loopAt", "slice", "splice",
                       "bite", "press", "pressBy", "ribbon", "someCyclesBy", "someCycles", "everyOffset",
                       "fastGap", "compress", "degradeBySeed"}
    differs = [c for c in FIXTURE["cases"] if c.get("differs")]
    assert len(differs) == 8 and len(FIXTURE["cases"]) - len(differs) == 49


@pytest.mark.parametrize("case", FIXTURE["cases"], ids=[c["name"] for c in FIXTURE["cases"]])
def test_strudel_case(case):
    """Same events as Strudel 1.2.5, or, for a case marked `differs`, different on purpose (Tidal's)."""
    assert same_events(our_events(case), case["events"]) != bool(case.get("differs")), case.get("differs", "")
