"""One definition per transform (graph/patterns/registry.py): the registry entry, its aliases, the `Pattern`
method and the README row all come from one `define`; and the constructors that take lists and pairs
(`choose [0, 2, 7]`, `wchoose [(0, 0.25), (2, 0.5)]`, `squeeze`, `wrandcat`, `inhabit`) in programs."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction as F

import pytest

from phonon.graph.compiler import compile_pattern
from phonon.graph.patterns import TRANSFORMS, parse_mini
from phonon.graph.patterns.core import Pattern
from phonon.graph.patterns.reference import pattern_table
from phonon.graph.patterns.registry import Param, PATTERN, define
from tests.compiling import compile_error


def onsets(pat: Pattern, cycles: int = 1) -> list[tuple[str, object]]:
    return [(str(h.whole.begin), h.value) for h in sorted(pat.onsets(0, cycles), key=lambda h: h.whole.begin)]


def test_every_transform_is_a_pattern_method_with_the_registrys_events():
    pat = parse_mini("a b c d")
    for name, args in [("every", (2, TRANSFORMS["fast"](2))), ("degradeBy", (0.5,)), ("rot", (1,)),
                       ("chunk", (4, TRANSFORMS["rev"]())), ("linger", (0.25,)), ("stutWith", (3, F(1, 8), TRANSFORMS["rev"]()))]:
        method = getattr(pat, name)
        assert onsets(method(*args), 4) == onsets(TRANSFORMS[name].apply(pat, *args), 4), name
    assert all(callable(getattr(Pattern, name)) for name in TRANSFORMS)


def test_an_alias_is_its_definition_under_another_name():
    alias = TRANSFORMS["stutWith"]
    assert alias.alias_of == "echoWith" and alias.fn is TRANSFORMS["echoWith"].fn
    assert "stutWith" in TRANSFORMS["echoWith"].aliases
    with pytest.raises(ValueError, match="stutWith: argument 'time'"):
        alias.build(3, None, TRANSFORMS["rev"]())  # the message names what the user wrote
    table = pattern_table()
    assert "| `echoWith` `stutWith` |" in table and "| `stutWith` |" not in table


def test_a_name_defined_twice_is_refused():
    with pytest.raises(ValueError, match="defined twice"):
        define("fast", (Param("factor", PATTERN),), lambda x, p: p, "again")


def test_the_core_keeps_its_primitives_and_the_registry_the_patterned_versions():
    # Pattern.fast is the registry's (patterned, refusing a negative factor); the core's primitive is _fast
    assert Pattern.fast.__doc__.startswith("fast factor:pattern")
    assert onsets(parse_mini("a b").fast("<1 2>"), 2) == onsets(TRANSFORMS["fast"].apply(parse_mini("a b"), "<1 2>"), 2)


def values(text: str, cycles: int) -> list:
    return [h.value for h in compile_pattern(text).onsets(0, cycles)]


def test_choose_picks_from_the_list_deterministically():
    got = values("segment 8 $ choose [0, 2, 7]", 16)
    assert set(got) == {0, 2, 7} and got == values("segment 8 $ choose [0, 2, 7]", 16)
    assert set(values('segment 4 $ choose ["bd", "sn"]', 8)) == {"bd", "sn"}


def test_wchoose_follows_the_weights():
    counts = Counter(values("segment 16 $ wchoose [(0, 1), (2, 3), (7, 0)]", 64))
    assert counts[7] == 0 and 0.65 < counts[2] / (counts[0] + counts[2]) < 0.85  # 3/4, from 1024 draws


def test_squeeze_and_inhabit_fit_a_pattern_into_each_event():
    assert onsets(compile_pattern('squeeze "<0 1>" ["bd sn", "hh*4"]'), 2) == [
        ("0", "bd"), ("1/2", "sn"), ("1", "hh"), ("5/4", "hh"), ("3/2", "hh"), ("7/4", "hh")]
    assert onsets(compile_pattern('"a b" $ inhabit [("a", "bd sn"), ("b", "hh*3")]')) == [
        ("0", "bd"), ("1/4", "sn"), ("1/2", "hh"), ("2/3", "hh"), ("5/6", "hh")]
    assert onsets(compile_pattern('"a c" $ inhabit [("a", "bd")]')) == [("0", "bd")]  # unknown names: silence


def test_wrandcat_plays_one_whole_pattern_per_cycle():
    choices = {("bd", "bd", "sn"): 0, ("hh", "hh", "hh", "hh"): 0}
    pat = compile_pattern('wrandcat [("bd*2 sn", 3), ("hh*4", 1)]')
    for cycle in range(16):
        choices[tuple(h.value for h in pat.onsets(cycle, cycle + 1))] += 1  # a KeyError: a mixed cycle
    assert choices[("bd", "bd", "sn")] > choices[("hh", "hh", "hh", "hh")] > 0


@pytest.mark.parametrize("text, fragment", [
    ("out: n (segment 4 $ choose 3)\n", "a list of numbers or words"),
    ('out: n (segment 4 $ choose [0, "bd sn"])\n', "a list of numbers or words"),
    ("out: n (segment 4 $ wchoose [(0, -1)])\n", "(value, weight) pairs"),
    ('out: n (segment 4 $ wchoose [0, 1])\n', "(value, weight) pairs"),
    ('out: s ("a" $ inhabit [("a b", "bd")])\n', "(name, pattern) pairs"),
    ("out: lpf(saw 55, 800)\n", "space-separated"),
    ("out: (1, 2)\n", "space-separated"),
])
def test_bad_lists_and_pairs_are_explained(text, fragment):
    assert fragment in str(compile_error(text))


def test_layer_stacks_each_transform_of_the_list():
    layered = compile_pattern('s "bd sn" $ layer [rev, fast 2]')
    parts = [compile_pattern('s "bd sn" $ rev'), compile_pattern('s "bd sn" $ fast 2')]
    assert sorted(onsets(layered), key=str) == sorted(onsets(parts[0]) + onsets(parts[1]), key=str)
    assert "a list of transforms" in str(compile_error('out: s ("bd" $ layer [rev, 2])\n'))
