"""Mini-notation: every construct, as exact event tuples, plus values, seeding and error reporting.
(tests/test_events_conformance.py compares several hundred patterns with Strudel itself.)"""

import random
from fractions import Fraction as F

import pytest

from phonon.graph.patterns import MidiNote, MiniNotationError, parse_mini, split_sample
from phonon.graph.patterns.core import time_to_rand
from phonon.graph.patterns.mini import atom_value


def ev(text, begin=0, end=1):
    return [(str(h.whole.begin), str(h.whole.end), h.value) for h in parse_mini(text).onsets(begin, end)]


def values(text, begin=0, end=1):
    return [h.value for h in parse_mini(text).onsets(begin, end)]


def per_cycle(text, cycles):
    return [values(text, c, c + 1) for c in range(cycles)]


def starts(text, begin=0, end=1):
    return [str(h.whole.begin) for h in parse_mini(text).onsets(begin, end)]


# ---------------------------------------------------------------------------------------------- sequences


def test_sequence_rest_and_group():
    assert ev("bd ~ sn ~") == [("0", "1/4", "bd"), ("1/2", "3/4", "sn")]
    assert ev("[bd sn] hh") == [("0", "1/4", "bd"), ("1/4", "1/2", "sn"), ("1/2", "1", "hh")]
    assert ev("bd [sn [hh cp]]") == [("0", "1/2", "bd"), ("1/2", "3/4", "sn"), ("3/4", "7/8", "hh"), ("7/8", "1", "cp")]
    assert ev("bd - sn") == [("0", "1/3", "bd"), ("2/3", "1", "sn")]  # `-` is a rest too
    assert ev("~") == []


def test_whitespace_is_free_form():
    assert ev("  bd\tsn\n") == ev("bd sn")
    assert ev("bd *2") == ev("bd*2") == ev("bd* 2")


# ---------------------------------------------------------------------------------------------- alternation


def test_alternation_by_cycle():
    assert per_cycle("bd <sn cp>", 4) == [["bd", "sn"], ["bd", "cp"], ["bd", "sn"], ["bd", "cp"]]
    assert per_cycle("<a b c>", 4) == [["a"], ["b"], ["c"], ["a"]]


def test_nested_alternation_is_not_frozen():
    assert per_cycle("<a <b c>>", 4) == [["a"], ["b"], ["a"], ["c"]]
    # inside a group and under `*` the alternation keeps advancing (the reference engine froze it)
    assert per_cycle("[x <a b>]", 3) == [["x", "a"], ["x", "b"], ["x", "a"]]
    assert per_cycle("<a b>*2", 2) == [["a", "b"], ["a", "b"]]
    assert per_cycle("<a b c>*2", 3) == [["a", "b"], ["c", "a"], ["b", "c"]]
    assert per_cycle("[<a b> c]/2", 4) == [["a"], ["c"], ["b"], ["c"]]


def test_alternation_weights_and_stacks():
    assert per_cycle("<a@3 b>", 5) == [["a"], [], [], ["b"], ["a"]]
    assert ev("<a@3 b>", 0, 4)[0] == ("0", "3", "a")
    assert per_cycle("<a!2 b>", 3) == [["a"], ["a"], ["b"]]
    assert per_cycle("<a b, c d e>", 3) == [["a", "c"], ["b", "d"], ["a", "e"]]


# ---------------------------------------------------------------------------------------------- fast/slow


def test_fast_and_slow():
    assert ev("bd*2 sn") == [("0", "1/4", "bd"), ("1/4", "1/2", "bd"), ("1/2", "1", "sn")]
    assert ev("bd/2", 0, 4) == [("0", "2", "bd"), ("2", "4", "bd")]
    assert ev("[bd sn]/2", 0, 2) == [("0", "1", "bd"), ("1", "2", "sn")]
    assert ev("bd*1.5", 0, 2) == [("0", "2/3", "bd"), ("2/3", "4/3", "bd"), ("4/3", "2", "bd")]


def test_patterned_factors():
    assert [len(v) for v in per_cycle("bd*<2 3>", 4)] == [2, 3, 2, 3]
    # `*[2 3]`: fast 2 in the first half, fast 3 in the second: onsets 0, 2/3 (1/2 would be mid-event)
    assert ev("bd*[2 3]") == [("0", "1/2", "bd"), ("2/3", "1", "bd")]
    # cycle 1 (slow 2) and cycle 3 (slow 2) fall inside two-cycle events that began earlier: no onsets
    assert ev("bd/<1 2>", 0, 4) == [("0", "1", "bd"), ("2", "3", "bd")]


# ---------------------------------------------------------------------------------------------- stacks


def test_stacks_with_and_without_brackets():
    assert len(ev("[bd*3, hh*4]")) == 7
    assert ev("bd sn, hh hh hh") == ev("[bd sn, hh hh hh]")
    assert ev("bd, hh") == [("0", "1", "bd"), ("0", "1", "hh")]


def test_random_choice_is_seeded_per_cycle():
    got = per_cycle("bd | sn | hh", 12)
    assert got == per_cycle("bd | sn | hh", 12)  # deterministic
    assert {v for (v,) in got} == {"bd", "sn", "hh"}
    for c, (v,) in enumerate(got):  # Strudel: floor(rand(c) * 3) picks
        assert v == ["bd", "sn", "hh"][int(time_to_rand(F(c)) * 3)]


def test_second_choice_group_uses_the_next_seed():
    # the second `|` group reads rand shifted by 0.0003 cycles: independent of the first
    first = [v[0] for v in per_cycle("[a | b] [c | d]", 16)]
    second = [v[1] for v in per_cycle("[a | b] [c | d]", 16)]
    expected_second = ["c" if time_to_rand(F(c) + F(3, 10000)) * 2 < 1 else "d" for c in range(16)]
    assert second == expected_second
    assert [{"a": "c", "b": "d"}[x] for x in first] != second


# ---------------------------------------------------------------------------------------------- ! @ _


def test_replicate():
    assert ev("bd!3 sn") == [("0", "1/4", "bd"), ("1/4", "1/2", "bd"), ("1/2", "3/4", "bd"), ("3/4", "1", "sn")]
    assert ev("bd! sn") == ev("bd bd sn") == ev("bd ! sn")
    assert ev("bd!!") == ev("bd!3")
    assert ev("bd! 3") == ev("bd bd 3")  # a space ends the count
    assert per_cycle("<a b>!2", 2) == [["a", "a"], ["b", "b"]]  # repeats cycles, unlike <a b>*2


def test_weight_and_elongation():
    assert ev("bd@3 sn") == [("0", "3/4", "bd"), ("3/4", "1", "sn")]
    assert ev("bd _ _ sn") == ev("bd@3 sn")
    assert ev("bd@1.5 sn") == [("0", "3/5", "bd"), ("3/5", "1", "sn")]
    assert ev("[bd sn]@3 hh") == [("0", "3/8", "bd"), ("3/8", "3/4", "sn"), ("3/4", "1", "hh")]
    assert ev("bd @") == ev("bd@2")


# ---------------------------------------------------------------------------------------------- ?


def test_degrade_keeps_about_half_deterministically():
    counts = [len(values("hh*16?", c, c + 1)) for c in range(16)]
    assert counts == [len(values("hh*16?", c, c + 1)) for c in range(16)]
    assert 0.35 < sum(counts) / (16 * 16) < 0.65
    assert max(counts) < 16 and min(counts) > 0


def test_degrade_amount_and_rule():
    kept = [h.whole.begin for h in parse_mini("x*16?0.3").onsets(0, 4)]
    assert kept == [F(i, 16) for i in range(64) if time_to_rand(F(i, 16)) > 0.3]
    assert len(kept) > len(parse_mini("x*16?0.7").onsets(0, 4))


def test_each_question_mark_gets_its_own_seed():
    a = [h.whole.begin for h in parse_mini("x*16?").onsets(0, 2)]
    assert a == [F(i, 16) for i in range(32) if time_to_rand(F(i, 16)) > 0.5]
    # the second `?` reads rand 0.0003 cycles later. `?` applies to `x*16` before the sequence squeezes it
    # into the second half of the cycle, so rand is read at the element's own time c + i/16.
    b = [h.whole.begin for h in parse_mini("~? x*16?").onsets(0, 2)]
    local = [int(t) + (t - int(t) - F(1, 2)) * 2 for t in b]
    assert local == [F(i, 16) for i in range(32) if time_to_rand(F(i, 16) + F(3, 10000)) > 0.5]
    assert local != a


# ---------------------------------------------------------------------------------------------- feet


def test_feet():
    assert ev("bd . hh hh hh") == [("0", "1/2", "bd"), ("1/2", "2/3", "hh"), ("2/3", "5/6", "hh"), ("5/6", "1", "hh")]
    assert ev("a . b c . d") == [("0", "1/3", "a"), ("1/3", "1/2", "b"), ("1/2", "2/3", "c"), ("2/3", "1", "d")]
    assert values("0.5 .5") == [0.5, 0.5]  # a dot inside a word is part of the number


def test_feet_mixed_with_stacks_and_choice():
    # Phonon extension: Strudel refuses to mix `.` with `,` or `|`; Tidal allows it
    assert ev("a . b c, d") == [("0", "1/2", "a"), ("0", "1", "d"), ("1/2", "3/4", "b"), ("3/4", "1", "c")]
    assert len(per_cycle("[a . b | c]", 8)) == 8


# ---------------------------------------------------------------------------------------------- euclid


def test_euclid_reference_examples():
    assert starts("bd(3,8)") == ["0", "3/8", "3/4"]
    assert starts("bd(3,8,2)") == ["1/8", "1/2", "3/4"]  # rotated left, as Tidal
    assert [len(v) for v in per_cycle("bd(<3 5>,8)", 4)] == [3, 5, 3, 5]


@pytest.mark.parametrize("text, pattern", [
    ("bd(5,8)", "x.xx.xx."), ("bd(2,5)", "x.x.."), ("bd(5,16)", "x..x..x..x..x..."), ("bd(-3,8)", ".xx.xx.x"),
])
def test_euclid_is_bjorklund(text, pattern):
    n = len(pattern)
    assert starts(text) == [str(F(i, n)) for i, c in enumerate(pattern) if c == "x"]


def test_euclid_samples_the_pattern_per_step():
    assert values("[a b](3,8)") == ["a", "a", "b"]
    assert values("<a b>(3,8)", 1, 2) == ["b", "b", "b"]
    assert starts("bd(3,8,<0 2>)", 1, 2) == ["9/8", "3/2", "7/4"]


# ---------------------------------------------------------------------------------------------- polymeter


def test_polymeter():
    assert per_cycle("{a b c}%4", 3) == [["a", "b", "c", "a"], ["b", "c", "a", "b"], ["c", "a", "b", "c"]]
    assert per_cycle("{a b, c d e}", 2) == [["a", "c", "b", "d"], ["a", "e", "b", "c"]]
    assert [len(v) for v in per_cycle("{a b c}%<2 4>", 4)] == [2, 4, 2, 4]


# ---------------------------------------------------------------------------------------------- values


def test_numbers():
    assert values("0 1 -2 1.5 -0.25 1e3 .5") == [0, 1, -2, 1.5, -0.25, 1000, 0.5]
    assert all(type(v) is int for v in values("0 1 -2 1e3 2.0"))
    assert atom_value("0x10") == 16 and atom_value("1_000") == "1_000"


def test_note_names_and_sample_names_stay_strings():
    assert values("c4 eb3 f# cs2 bd ~lfo") == ["c4", "eb3", "f#", "cs2", "bd", "~lfo"]


def test_sample_index():
    assert values("bd:3 sn:1") == ["bd:3", "sn:1"]
    assert per_cycle("bd:<1 2>", 2) == [["bd:1"], ["bd:2"]]
    assert values("bd:3*2") == ["bd:3", "bd:3"]
    assert split_sample("bd:3") == ("bd", 3) and split_sample("bd") == ("bd", 0)
    with pytest.raises(ValueError):
        split_sample("bd:x")


def test_chords_give_one_event_per_note():
    assert ev("c4'maj") == [("0", "1", 60), ("0", "1", 64), ("0", "1", 67)]
    assert all(isinstance(v, MidiNote) for v in values("c4'maj"))
    assert values("e'min7") == [64, 67, 71, 74]  # no octave: octave 4 (Tidal's note 0 is c4, middle C)
    assert values("c4'maj e4'min") == [60, 64, 67, 64, 67, 71]


def test_ranges():
    assert ev("0 .. 3") == [("0", "1/4", 0), ("1/4", "1/2", 1), ("1/2", "3/4", 2), ("3/4", "1", 3)]
    assert values("3 .. 1") == [3, 2, 1]
    assert values("0..2") == [0, 1, 2]  # Phonon extension: Strudel reads "0..2" as one word
    assert per_cycle("0 .. <1 2>", 2) == [[0, 1], [0, 1, 2]]


# ---------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("text, column, fragment", [
    ("[bd sn", 7, "expected ']'"),
    ("bd sn]", 6, "unexpected ']'"),
    ("<bd sn", 7, "expected '>' or ','"),
    ("bd(3)", 5, "expected ','"),
    ("bd $ sn", 4, "unexpected character '$'"),
    ("", 1, "empty pattern"),
    ("bd*x", 4, "'*' needs a number, got 'x'"),
    ("bd(3,y)", 6, "euclid arguments must be numbers"),
    ("c4'foo", 1, "unknown chord 'foo'"),
    ("bd'maj", 1, "not a note name"),
    ("1 .. b", 6, "a range needs numbers"),
    ("a .. 3", 1, "a range needs numbers, got 'a'"),
    ("1:2 .. 3", 5, "not a ':' value"),
    ("bd!0", 3, "replicate count"),
    ("<a | b>", 4, "unexpected '|'"),
])
def test_errors_have_columns_and_expectations(text, column, fragment):
    with pytest.raises(MiniNotationError) as info:
        parse_mini(text)
    assert info.value.column == column
    assert fragment in str(info.value)


def test_error_lists_what_was_expected():
    with pytest.raises(MiniNotationError) as info:
        parse_mini("bd*")
    assert info.value.expected == ("a word or number", "'['", "'<'", "'{'")
    assert isinstance(info.value, ValueError)


def test_never_a_raw_lark_exception():
    rng = random.Random(7)
    alphabet = "ab12 ~[]<>{}(),|.*/!@_?:%'-#^&$\t"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        try:
            parse_mini(text).query_arc(0, 2)
        except MiniNotationError:
            pass
