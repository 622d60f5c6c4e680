"""The pattern core: time spans, haps, combinators, arithmetic structure, randomness, Euclid."""

from fractions import Fraction as F

import pytest

from phonon.graph.patterns import Hap, MidiNote, Pattern, TimeSpan, control_onsets, control_value, parse_mini
from phonon.graph.patterns.core import (
    apply_op, bjorklund, choose_in_with, control_map, fastcat, numeral, patternify, pure, rand, reify,
    signal, silence, slowcat, stack, time_to_rand, timecat, to_time,
)


def ev(pat: Pattern, begin=0, end=1):
    """(begin, end, value) of the onsets in [begin, end), as strings of fractions."""
    return [(str(h.whole.begin), str(h.whole.end), h.value) for h in pat.onsets(begin, end)]


# ---------------------------------------------------------------------------------------------- spans


def test_span_cycles_splits_at_cycle_boundaries():
    spans = TimeSpan(F(1, 2), F(5, 2)).span_cycles()
    assert spans == [TimeSpan(F(1, 2), F(1)), TimeSpan(F(1), F(2)), TimeSpan(F(2), F(5, 2))]
    assert TimeSpan(F(3), F(3)).span_cycles() == [TimeSpan(F(3), F(3))]


def test_intersection_excludes_touching_end_point():
    a = TimeSpan(F(0), F(1, 2))
    assert a.intersection(TimeSpan(F(1, 4), F(1))) == TimeSpan(F(1, 4), F(1, 2))
    assert a.intersection(TimeSpan(F(1, 2), F(1))) is None
    # a zero-width span at the start of a span is inside it
    assert a.intersection(TimeSpan(F(0), F(0))) == TimeSpan(F(0), F(0))


def test_hap_onset():
    whole = TimeSpan(F(0), F(1))
    assert Hap(whole, TimeSpan(F(0), F(1, 2)), "a").has_onset()
    assert not Hap(whole, TimeSpan(F(1, 2), F(1)), "a").has_onset()
    assert not Hap(None, whole, "a").has_onset()


def test_to_time_is_exact_for_decimal_floats():
    assert to_time(0.1) == F(1, 10)
    assert to_time(1.5) == F(3, 2)
    assert to_time(1 / 3) == F(1, 3)
    assert to_time(3) == F(3)


# ---------------------------------------------------------------------------------------------- constructors


def test_pure_fills_each_cycle_and_fragments_at_boundaries():
    haps = pure("a").query_arc(F(1, 2), F(3, 2))
    assert [(h.whole, h.part) for h in haps] == [
        (TimeSpan(F(0), F(1)), TimeSpan(F(1, 2), F(1))),
        (TimeSpan(F(1), F(2)), TimeSpan(F(1), F(3, 2))),
    ]
    assert [h.has_onset() for h in haps] == [False, True]


def test_silence_and_empty_constructors():
    assert silence.query_arc(0, 4) == []
    assert stack().query_arc(0, 1) == []
    assert slowcat().query_arc(0, 1) == []


def test_fastcat_steps():
    assert ev(fastcat(pure("a"), pure("b"), pure("c"))) == [("0", "1/3", "a"), ("1/3", "2/3", "b"), ("2/3", "1", "c")]


def test_slowcat_one_per_cycle_without_skipping_cycles():
    inner = slowcat(pure("x"), pure("y"))  # alternates by cycle
    pat = slowcat(inner, pure("b"))
    # cycle 0: inner's cycle 0 (x); cycle 2: inner's cycle 1 (y), not its cycle 2
    assert [h.value for h in pat.onsets(0, 4)] == ["x", "b", "y", "b"]


def test_timecat_weights():
    pat = timecat((3, pure("a")), (1, pure("b")))
    assert ev(pat) == [("0", "3/4", "a"), ("3/4", "1", "b")]


def test_stack_keeps_argument_order_for_simultaneous_events():
    assert ev(stack(pure("a"), pure("b"))) == [("0", "1", "a"), ("0", "1", "b")]


def test_reify():
    assert reify(3).is_pure and reify(3)._pure == 3
    assert ev(reify("a b")) == [("0", "1/2", "a"), ("1/2", "1", "b")]
    p = pure(1)
    assert reify(p) is p


# ---------------------------------------------------------------------------------------------- time


def test_fast_slow_early_late():
    ab = fastcat(pure("a"), pure("b"))
    assert ev(ab._fast(2)) == [("0", "1/4", "a"), ("1/4", "1/2", "b"), ("1/2", "3/4", "a"), ("3/4", "1", "b")]
    assert ev(ab._slow(2), 0, 2) == [("0", "1", "a"), ("1", "2", "b")]
    assert ev(ab._early(F(1, 4))) == [("1/4", "3/4", "b"), ("3/4", "5/4", "a")]
    assert ev(ab._late(F(1, 4))) == [("1/4", "3/4", "a"), ("3/4", "5/4", "b")]
    assert ab._fast(0).query_arc(0, 1) == []


def test_negative_fast_reverses_as_tidal():
    ab = parse_mini("a b c")
    assert [h.value for h in ab._fast(-1).onsets(0, 1)] == ["c", "b", "a"]


def test_patterned_fast_is_inner_joined_per_cycle():
    pat = parse_mini("a b").fast(parse_mini("<1 2>"))
    assert ev(pat, 0, 2) == [
        ("0", "1/2", "a"), ("1/2", "1", "b"),
        ("1", "5/4", "a"), ("5/4", "3/2", "b"), ("3/2", "7/4", "a"), ("7/4", "2", "b"),
    ]


def test_patterned_fast_within_a_cycle():
    # fast "1 2": first half plays fast 1 (only "a" starts there), second half fast 2 ("a" at 1/2, "b" at 3/4)
    pat = parse_mini("a b").fast("1 2")
    assert ev(pat) == [("0", "1/2", "a"), ("1/2", "3/4", "a"), ("3/4", "1", "b")]


def test_with_query_time_and_event_time():
    ab = fastcat(pure("a"), pure("b"))
    shifted = ab.with_query_time(lambda t: t + F(1, 2)).with_event_time(lambda t: t - F(1, 2))
    assert ev(shifted) == ev(ab._early(F(1, 2)))


def test_split_queries():
    seen = []

    def query(span):
        seen.append(span)
        return []

    Pattern(query).split_queries().query_arc(F(1, 2), F(5, 2))
    assert seen == [TimeSpan(F(1, 2), F(1)), TimeSpan(F(1), F(2)), TimeSpan(F(2), F(5, 2))]


def test_rev_reflects_time_within_each_cycle():
    # uneven events and rests: Tidal's rev mirrors the timing, not only the order of values
    assert ev(parse_mini("a@3 b").rev()) == [("0", "1/4", "b"), ("1/4", "1", "a")]
    assert ev(parse_mini("a ~ ~ b c").rev()) == [("0", "1/5", "c"), ("1/5", "2/5", "b"), ("4/5", "1", "a")]
    assert ev(parse_mini("<a b> c").rev(), 1, 2) == [("1", "3/2", "c"), ("3/2", "2", "b")]


def test_compress_and_zoom():
    ab = fastcat(pure("a"), pure("b"))
    assert ev(ab._compress(F(1, 4), F(3, 4))) == [("1/4", "1/2", "a"), ("1/2", "3/4", "b")]
    assert ev(parse_mini("a b c d")._zoom(F(1, 4), F(3, 4))) == [("0", "1/2", "b"), ("1/2", "1", "c")]


def test_repeat_cycles():
    pat = parse_mini("<a b c>")._repeat_cycles(2)
    assert [h.value for h in pat.onsets(0, 6)] == ["a", "a", "b", "b", "c", "c"]


def test_ply_and_segment():
    assert ev(parse_mini("a b").ply(2)) == [
        ("0", "1/4", "a"), ("1/4", "1/2", "a"), ("1/2", "3/4", "b"), ("3/4", "1", "b")]
    assert ev(pure("x").segment(3)) == [("0", "1/3", "x"), ("1/3", "2/3", "x"), ("2/3", "1", "x")]


def test_squeeze_join_fits_inner_cycle_into_outer_event():
    outer = fastcat(pure(parse_mini("a b")), pure(parse_mini("c")))
    assert ev(outer.squeeze_join()) == [("0", "1/4", "a"), ("1/4", "1/2", "b"), ("1/2", "1", "c")]


# ---------------------------------------------------------------------------------------------- joins


def test_inner_and_outer_join_structure():
    outer = fastcat(pure(parse_mini("x y z")), pure(parse_mini("w")))
    # inner: wholes from the inner patterns, cut to the outer parts
    inner_haps = outer.inner_join().query_arc(0, 1)
    assert [(str(h.whole.begin), str(h.whole.end), h.value, h.has_onset()) for h in inner_haps] == [
        ("0", "1/3", "x", True), ("1/3", "2/3", "y", True), ("0", "1", "w", False)]
    # outer: wholes from the outer events; each inner event's fragment carries the outer whole
    outer_haps = outer.outer_join().query_arc(0, 1)
    assert [(str(h.whole.begin), str(h.part.begin), h.value) for h in outer_haps] == [
        ("0", "0", "x"), ("0", "1/3", "y"), ("1/2", "1/2", "w")]


def test_bind_intersects_wholes():
    pat = fastcat(pure(1), pure(2)).bind(lambda v: parse_mini("a b c") if v == 1 else pure("d"))
    assert [(str(h.whole.begin), str(h.whole.end), h.value) for h in pat.query_arc(0, 1)] == [
        ("0", "1/3", "a"), ("1/3", "1/2", "b"), ("1/2", "1", "d")]


def test_patternify_constant_and_patterned():
    f = patternify(lambda n, p: p._fast(n))
    assert ev(f(2, pure("a"))) == [("0", "1/2", "a"), ("1/2", "1", "a")]
    assert [h.value for h in f("<1 3>", pure("a")).onsets(0, 2)] == ["a", "a", "a", "a"]


# ---------------------------------------------------------------------------------------------- arithmetic


def test_op_both_intersects_fragments():
    pat = parse_mini("220 330").op("+", parse_mini("110"))
    assert ev(pat) == [("0", "1/2", 330), ("1/2", "1", 440)]
    # "100 200" - "10 20 30": Tidal's intersection, 4 events (the reference engine gave 5 overlapping ones)
    pat = parse_mini("100 200") - parse_mini("10 20 30")
    assert ev(pat) == [("0", "1/3", 90), ("1/3", "1/2", 80), ("1/2", "2/3", 180), ("2/3", "1", 170)]


def test_op_left_keeps_left_structure():
    pat = parse_mini("220 330 440").op("+", parse_mini("0 100"), "left")
    # structure and onsets from the left; the middle event's onset sees 0 (its second fragment is no onset)
    assert ev(pat) == [("0", "1/3", 220), ("1/3", "2/3", 330), ("2/3", "1", 540)]
    fragments = [(str(h.part.begin), h.value) for h in pat.query_arc(0, 1)]
    assert fragments == [("0", 220), ("1/3", 330), ("1/2", 430), ("2/3", 540)]


def test_op_right_keeps_right_structure():
    pat = parse_mini("1 2").op("*", parse_mini("10 20 30"), "right")
    assert ev(pat) == [("0", "1/3", 10), ("1/3", "2/3", 20), ("2/3", "1", 60)]


def test_op_note_names_are_midi_numbers_and_division_by_zero_is_zero():
    assert ev(parse_mini("c4 a4") + 12) == [("0", "1/2", 72), ("1/2", "1", 81)]
    assert ev(parse_mini("1 2") / parse_mini("0 4")) == [("0", "1/2", 0), ("1/2", "1", 0.5)]
    assert ev(3 - parse_mini("1")) == [("0", "1", 2)]


def test_op_on_control_maps_combines_shared_keys():
    a = pure({"s": "bd", "gain": 0.5})
    assert ev(a * pure({"gain": 2, "pan": 1})) == [("0", "1", {"s": "bd", "gain": 1.0, "pan": 1})]
    assert apply_op(lambda x, y: x + y, {"value": 1, "n": 2}, 3) == {"value": 4, "n": 2}


def test_op_errors():
    with pytest.raises(ValueError, match="bd"):
        (parse_mini("bd") + 1).query_arc(0, 1)
    with pytest.raises(ValueError, match="structure"):
        pure(1).op("+", 1, "middle")
    with pytest.raises(ValueError, match="operator"):
        pure(1).op("^", 1)


def test_numeral_and_control_map():
    assert numeral("a4") == 69 and numeral(MidiNote(60)) == 60 and numeral("2.5") == 2.5
    assert control_map("bd") == {"value": "bd"}
    m = {"s": "bd"}
    assert control_map(m) == m and control_map(m) is not m


# ---------------------------------------------------------------------------------------------- randomness


@pytest.mark.parametrize("t, expected", [
    # values from Strudel 1.2.5's `rand` (Tidal's timeToRand), queried at these times
    ("0", 0.0), ("1/2", 0.2604806162416935), ("1/3", 0.336072051897645), ("401/4", 0.6726598311215639),
    ("7", 0.180575393140316), ("-3/2", 0.6083470769226551), ("12345/7", 0.5267806779593229),
    ("1/10000", 0.0896413791924715),
])
def test_time_to_rand_matches_strudel_bit_for_bit(t, expected):
    assert time_to_rand(F(t)) == expected


def test_rand_is_a_signal_sampled_at_query_begin():
    (h,) = rand.query_arc(F(1, 2), F(3, 4))
    assert h.whole is None and h.value == time_to_rand(F(1, 2))
    assert signal(lambda t: t * 2).query_arc(3, 4)[0].value == 6


def test_degrade_by_is_deterministic_and_about_right():
    pat = parse_mini("x*64")
    kept = pat.degradeBy(0.5).onsets(0, 4)
    assert kept == pat.degradeBy(0.5).onsets(0, 4)
    assert 100 < len(kept) < 156  # of 256
    # each event is kept exactly when rand at its onset exceeds the amount
    assert [h.whole.begin for h in kept] == [h.whole.begin for h in pat.onsets(0, 4)
                                             if time_to_rand(h.whole.begin) > 0.5]
    # degrade and undegrade by complementary amounts split the events exactly
    undegraded = pat.undegradeBy(0.5).onsets(0, 4)
    assert len(kept) + len(undegraded) == 256
    assert {h.whole.begin for h in kept}.isdisjoint({h.whole.begin for h in undegraded})
    assert pat.degradeBy(0).onsets(0, 1) != [] and pat.degradeBy(1).onsets(0, 4) == []


def test_degrade_seed_changes_the_choice():
    pat = parse_mini("x*32")
    a = [h.whole.begin for h in pat.degradeBySeed(0.5, 0).onsets(0, 2)]
    b = [h.whole.begin for h in pat.degradeBySeed(0.5, 1).onsets(0, 2)]
    assert a != b


def test_choose_in_with_picks_per_cycle_with_inner_structure():
    pat = choose_in_with(rand._segment(1), [parse_mini("a a"), parse_mini("b")])
    for c in range(8):
        values = [h.value for h in pat.onsets(c, c + 1)]
        expected = ["a", "a"] if time_to_rand(F(c)) * 2 < 1 else ["b"]
        assert values == expected


# ---------------------------------------------------------------------------------------------- euclid


def _xs(bools):
    return "".join("x" if b else "." for b in bools)


@pytest.mark.parametrize("k, n, expected", [
    (3, 8, "x..x..x."), (5, 8, "x.xx.xx."), (2, 5, "x.x.."), (5, 16, "x..x..x..x..x..."),
    (4, 16, "x...x...x...x..."), (7, 16, "x..x.x.x..x.x.x."), (3, 4, "xxx."), (0, 4, "...."), (4, 4, "xxxx"),
    (-3, 8, ".xx.xx.x"),
])
def test_bjorklund_is_tidals(k, n, expected):
    assert _xs(bjorklund(k, n)) == expected


def test_euclid_rotation_is_left_as_tidal():
    assert [str(h.whole.begin) for h in pure("bd").euclidOff(3, 8, 2).onsets(0, 1)] == ["1/8", "1/2", "3/4"]
    # rotation wraps modulo the steps
    assert ev(pure("bd").euclidOff(3, 8, 10)) == ev(pure("bd").euclidOff(3, 8, 2))


def test_euclid_patterned_arguments():
    pat = pure("bd").euclid(parse_mini("<3 5>"), 8)
    assert [len(pat.onsets(c, c + 1)) for c in range(4)] == [3, 5, 3, 5]


def test_struct_and_mask():
    assert ev(parse_mini("a b").struct("t f t t")) == [("0", "1/4", "a"), ("1/2", "3/4", "b"), ("3/4", "1", "b")]
    assert ev(parse_mini("a b c d").mask("1 0")) == [("0", "1/4", "a"), ("1/4", "1/2", "b")]
    assert ev(pure("x").struct("t f t")) == [("0", "1/3", "x"), ("2/3", "1", "x")]


def test_when_applies_where_true():
    pat = parse_mini("a b").when("<1 0>", lambda p: p._fast(2))
    assert [h.value for h in pat.onsets(0, 2)] == ["a", "b", "a", "b", "a", "b"]


# ---------------------------------------------------------------------------------------------- controls


def test_control_onsets_converts_notes_to_hz():
    onsets = control_onsets(parse_mini("a4 ~ 300 c4"), 2)
    assert [t for t, _ in onsets] == [F(2), F(5, 2), F(11, 4)]
    assert onsets[0][1] == 440.0 and onsets[1][1] == 300.0
    assert onsets[2][1] == pytest.approx(261.6255653, rel=1e-9)


def test_control_onsets_ties_keep_query_order_and_chords_are_notes():
    onsets = control_onsets(parse_mini("[100, 200] a4'maj"), 0)
    assert [v for _, v in onsets][:2] == [100.0, 200.0]
    assert [round(v, 2) for _, v in onsets][2:] == [440.0, 554.37, 659.26]


def test_control_onsets_only_counts_onsets_in_the_cycle():
    onsets = control_onsets(parse_mini("100/2"), 1)  # the event began in cycle 0
    assert onsets == []
    assert control_onsets(parse_mini("100/2"), 2) == [(F(2), 100.0)]


def test_control_value_rejects_sample_names():
    with pytest.raises(ValueError, match="'bd'"):
        control_onsets(parse_mini("100 bd"), 0)
    with pytest.raises(ValueError):
        control_value({"s": "bd"})


# ---------------------------------------------------------------------------------------------- notes


def test_note_names_follow_strudel_with_tidals_bare_octave():
    from phonon.graph.patterns.notes import chord_notes, is_note_name, midi_to_hz, note_to_midi

    assert [note_to_midi(n) for n in ("c4", "a4", "eb3", "f#4", "cs2", "Bb-1", "e", "ebb3")] == [
        60, 69, 51, 66, 37, 10, 64, 50]  # no octave: octave 4 (Tidal's `c` is note 0, middle C)
    assert midi_to_hz(69) == 440.0 and midi_to_hz(81) == 880.0
    assert [is_note_name(s) for s in ("c", "c4", "f#", "bd", "hh", "cp", "c-", "~")] == [
        True, True, True, False, False, False, False, False]
    assert chord_notes("c4'maj") == [60, 64, 67] and chord_notes("a3'min7") == [57, 60, 64, 67]
    with pytest.raises(ValueError, match="unknown chord"):
        chord_notes("c4'nope")
    with pytest.raises(ValueError):
        note_to_midi("bd")
