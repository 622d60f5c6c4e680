"""Pattern core: exact-time queryable patterns in the style of Tidal, Strudel and Vortex.

A `Pattern` wraps a query function from a `TimeSpan` (in cycles, exact `Fraction`s) to the list of `Hap`s
(events) active in it. A hap has a `whole` (the event's full timespan, `None` for continuous signals), a
`part` (the fragment inside the query) and a `value`. Everything else is built from a handful of
combinators on those query functions. Semantics follow Strudel 1.2 (`@strudel/core`) wherever the two
differ in a detail that shows in event lists, so `tests/test_events_conformance.py` can compare exactly.

Work is bounded by construction (graph/limits.py): a query from outside any other query (`Pattern.query`,
`query_arc`, `onsets`) may spend MAX_WORK_PER_CYCLE steps per cycle it spans, counted where queries are cut
into cycles (every event of a `pure` is one such piece, counted before the pieces are made) and where pattern
arithmetic pairs events, and may return at most MAX_EVENTS_PER_CYCLE events per cycle. Past either it raises
`PatternLimitError`: `fast 1e30` or `ply 1000000` fail in microseconds instead of running for hours, and no
query does more than a bounded multiple of the work its cycles may hold.
"""

from __future__ import annotations

import fractions
import math
import threading
from dataclasses import dataclass

from quicktions import Fraction  # a compiled Fraction: pattern queries are mostly Fraction arithmetic

FRACTIONS = (Fraction, fractions.Fraction)  # times may also arrive as the standard library's Fraction
from typing import Any, Callable, Sequence

from phonon.graph.limits import MAX_EVENTS_PER_CYCLE, MAX_WORK_PER_CYCLE
from phonon.graph.values import safe_div

Time = Fraction
Number = int | float | Fraction

__all__ = [
    "Time", "TimeSpan", "Hap", "Pattern", "MidiNote", "to_time", "pure", "silence", "signal", "steady",
    "reify", "stack", "slowcat", "fastcat", "sequence", "timecat", "rand", "time_to_rand", "choose_in_with",
    "bjorklund", "control_map", "patternify", "apply_op", "numeral", "PatternLimitError", "check_count",
]


# ---------------------------------------------------------------------------------------------------------
# Limits on the work of a query


class PatternLimitError(ValueError):
    """A pattern asks for more than any music needs (see graph/limits.py). `hint` says what to do; `line` and
    `col` are the program position of the pattern it came from, once a located pattern (`Pattern.located`)
    has seen it pass (None before)."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.line: int | None = None
        self.col: int | None = None

    def locate(self, origin: tuple[int, int] | None) -> "PatternLimitError":
        """Attach a program position unless one is attached already (the innermost pattern knows best)."""
        if self.line is None and origin is not None:
            self.line, self.col = origin
        return self


_EVENTS_HINT = (
    "more cannot be heard apart, and every event costs work in every cycle; use smaller factors in fast, ply, "
    "chop, segment, `*` or `!`, or fewer steps"
)


def too_many_events() -> PatternLimitError:
    return PatternLimitError(f"this pattern asks for more than {MAX_EVENTS_PER_CYCLE:,} events in one cycle",
                             _EVENTS_HINT)


def check_count(n: Number, what: str) -> None:
    """Refuse, before making them, more than MAX_EVENTS_PER_CYCLE things that each make events in a cycle
    (`what` names them: "steps in a Euclidean rhythm")."""
    if n > MAX_EVENTS_PER_CYCLE:
        shown = f"{n:.6g}" if isinstance(n, float) else str(n)
        raise PatternLimitError(f"{shown} {what}: more than the limit of {MAX_EVENTS_PER_CYCLE:,} per cycle",
                                _EVENTS_HINT)


class _Work(threading.local):
    """The work left to the outermost query running on this thread (depth 0: no query is running)."""

    depth = 0
    left = 0


_WORK = _Work()


def _charge(steps: int) -> None:
    """Spend steps of the running query's work; raise as soon as it is overspent."""
    work = _WORK
    if work.depth:
        work.left -= steps
        if work.left < 0:
            raise too_many_events()


def to_time(x: Number | str) -> Fraction:
    """Exact time from a number. Floats go through a Farey-style approximation (denominator <= 1e7), as
    fraction.js does in Strudel, so `0.1` is 1/10 rather than the binary float's exact value."""
    if isinstance(x, FRACTIONS):
        return x
    if isinstance(x, bool):
        return Fraction(int(x))
    if isinstance(x, int):
        return Fraction(x)
    if isinstance(x, float):
        if not math.isfinite(x):
            raise ValueError(f"not a finite time: {x!r}")
        return Fraction(x).limit_denominator(10_000_000)
    if isinstance(x, str):
        return Fraction(x)
    raise TypeError(f"not a time: {x!r}")


def _sam(t: Fraction) -> Fraction:
    return Fraction(math.floor(t))


class MidiNote(int):
    """A MIDI note number that came from a note or chord (`c4'maj` -> 60, 64, 67).

    It is an `int` (JSON prints it as a number) but consumers that read plain numbers as Hz
    (`control_onsets`, oscillator patterns) can tell it is a note. A note plus or minus a whole number of
    semitones is a note (`apply_op`); other arithmetic returns plain numbers."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"MidiNote({int(self)})"


# ---------------------------------------------------------------------------------------------------------
# Time spans and haps


@dataclass(frozen=True, slots=True)
class TimeSpan:
    begin: Fraction
    end: Fraction

    @staticmethod
    def of(begin: Number, end: Number) -> "TimeSpan":
        return TimeSpan(to_time(begin), to_time(end))

    def span_cycles(self) -> list["TimeSpan"]:
        """Split at cycle boundaries; a zero-width span stays one span (Strudel's `spanCycles`)."""
        begin, end = self.begin, self.end
        if begin == end:
            _charge(1)
            return [self]
        _charge(math.floor(end) - math.floor(begin) + 1)  # before the loop: the count may be astronomical
        spans = []
        end_sam = _sam(end)
        while end > begin:
            if _sam(begin) == end_sam:
                spans.append(TimeSpan(begin, end))
                break
            nxt = _sam(begin) + 1
            spans.append(TimeSpan(begin, nxt))
            begin = nxt
        return spans

    @property
    def duration(self) -> Fraction:
        return self.end - self.begin

    def with_time(self, f: Callable[[Fraction], Fraction]) -> "TimeSpan":
        return TimeSpan(f(self.begin), f(self.end))

    def with_cycle(self, f: Callable[[Fraction], Fraction]) -> "TimeSpan":
        """Like `with_time`, with times relative to the cycle the span begins in."""
        sam = _sam(self.begin)
        return TimeSpan(sam + f(self.begin - sam), sam + f(self.end - sam))

    def intersection(self, other: "TimeSpan") -> "TimeSpan | None":
        b = max(self.begin, other.begin)
        e = min(self.end, other.end)
        if b > e:
            return None
        if b == e:
            # A point at the end of a non-empty span does not intersect it.
            if b == self.end and self.begin < self.end:
                return None
            if b == other.end and other.begin < other.end:
                return None
        return TimeSpan(b, e)

    def midpoint(self) -> Fraction:
        return self.begin + (self.end - self.begin) / 2

    def __repr__(self) -> str:
        return f"TimeSpan({self.begin}, {self.end})"


@dataclass(frozen=True, slots=True)
class Hap:
    """An event: `value` active over `part`, a fragment of the event's `whole` (None: continuous)."""

    whole: TimeSpan | None
    part: TimeSpan
    value: Any

    def has_onset(self) -> bool:
        return self.whole is not None and self.whole.begin == self.part.begin

    def whole_or_part(self) -> TimeSpan:
        return self.whole if self.whole is not None else self.part

    def with_span(self, f: Callable[[TimeSpan], TimeSpan]) -> "Hap":
        return Hap(None if self.whole is None else f(self.whole), f(self.part), self.value)

    def with_value(self, f: Callable[[Any], Any]) -> "Hap":
        return Hap(self.whole, self.part, f(self.value))


# ---------------------------------------------------------------------------------------------------------
# Pattern


_NO_PURE = object()


class Pattern:
    """A function from query timespans to haps. Methods return new patterns; nothing mutates."""

    __slots__ = ("_query", "_pure", "_origin", "_period")

    def __init__(self, query: Callable[[TimeSpan], list[Hap]], pure_value: Any = _NO_PURE, period: int | None = None):
        self._query = query
        # Remembered for `pure(x)` so patterned arguments that are constants skip the join (Strudel's __pure).
        self._pure = pure_value
        self._origin: tuple[int, int] | None = None  # (line, column) in the program, see `located`
        # Cycles after which the pattern repeats exactly (cycle c + period is cycle c, shifted), where that is
        # known from how the pattern was built; None: unknown (randomness, patterned arguments, ...).
        self._period = period

    @property
    def period(self) -> int | None:
        """Whole cycles after which this pattern repeats exactly, when its construction proves it (else None):
        a player may then query each cycle once per period and shift the events (engine/clock.py)."""
        return self._period

    # -- querying ---------------------------------------------------------------------------------------

    def query(self, span: TimeSpan) -> list[Hap]:
        """The haps active in `span`. A query from outside any other query is held to the work and event
        limits of the cycles it spans (see the module doc); queries made inside it share its budget."""
        if _WORK.depth:
            return self._query(span)
        return self._limited_query(span)

    def _limited_query(self, span: TimeSpan) -> list[Hap]:
        cycles = max(1, math.ceil(span.end - span.begin))
        work = _WORK
        work.depth, work.left = 1, MAX_WORK_PER_CYCLE * cycles
        try:
            haps = self._query(span)
            if len(haps) > MAX_EVENTS_PER_CYCLE * cycles:
                raise too_many_events()
            return haps
        except PatternLimitError as e:
            raise e.locate(self._origin)
        except RecursionError:
            raise PatternLimitError(
                "this pattern is nested too deeply to evaluate",
                "use fewer levels of brackets, transforms or buses built on buses"
            ).locate(self._origin) from None
        except OverflowError:
            raise PatternLimitError(
                "a time or value in this pattern is too large to compute with",
                "use numbers of an ordinary size in its factors and offsets"
            ).locate(self._origin) from None
        finally:
            work.depth = 0

    def query_arc(self, begin: Number, end: Number) -> list[Hap]:
        return self.query(TimeSpan(to_time(begin), to_time(end)))

    def located(self, line: int, col: int) -> "Pattern":
        """This pattern, remembering where in the program it comes from: a limit error raised inside it gets
        that position (one from a located pattern nested inside keeps its own)."""
        q = self._query
        origin = (line, col)

        def query(span: TimeSpan) -> list[Hap]:
            try:
                return q(span)
            except PatternLimitError as e:
                raise e.locate(origin)

        pattern = Pattern(query, self._pure, self._period)
        pattern._origin = origin
        return pattern

    @property
    def origin(self) -> tuple[int, int] | None:
        """(line, column) of the program text this pattern was made from, when the compiler said so."""
        return self._origin

    def onsets(self, begin: Number, end: Number) -> list[Hap]:
        """Haps whose onset lies in [begin, end), sorted by onset (stable)."""
        haps = [h for h in self.query_arc(begin, end) if h.has_onset()]
        haps.sort(key=lambda h: h.whole.begin)
        return haps

    @property
    def is_pure(self) -> bool:
        return self._pure is not _NO_PURE

    # -- query and event plumbing -----------------------------------------------------------------------

    def split_queries(self) -> "Pattern":
        """Queries are split at cycle boundaries, so the inner query never spans two cycles."""
        q = self._query
        return Pattern(lambda span: [h for sub in span.span_cycles() for h in q(sub)], period=self._period)

    def with_query_span(self, f: Callable[[TimeSpan], TimeSpan]) -> "Pattern":
        q = self._query
        return Pattern(lambda span: q(f(span)))

    def with_query_span_maybe(self, f: Callable[[TimeSpan], TimeSpan | None]) -> "Pattern":
        q = self._query

        def query(span: TimeSpan) -> list[Hap]:
            new = f(span)
            return [] if new is None else q(new)

        return Pattern(query)

    def with_query_time(self, f: Callable[[Fraction], Fraction]) -> "Pattern":
        q = self._query
        return Pattern(lambda span: q(TimeSpan(f(span.begin), f(span.end))))

    def with_event_span(self, f: Callable[[TimeSpan], TimeSpan]) -> "Pattern":
        q = self._query
        return Pattern(lambda span: [h.with_span(f) for h in q(span)])

    def with_event_time(self, f: Callable[[Fraction], Fraction]) -> "Pattern":
        return self.with_event_span(lambda s: TimeSpan(f(s.begin), f(s.end)))

    def with_haps(self, f: Callable[[list[Hap]], list[Hap]]) -> "Pattern":
        q = self._query
        return Pattern(lambda span: f(q(span)))

    def with_hap(self, f: Callable[[Hap], Hap]) -> "Pattern":
        q = self._query
        return Pattern(lambda span: [f(h) for h in q(span)])

    def fmap(self, f: Callable[[Any], Any]) -> "Pattern":
        q = self._query
        return Pattern(lambda span: [Hap(h.whole, h.part, f(h.value)) for h in q(span)], period=self._period)

    with_value = fmap

    def filter_haps(self, pred: Callable[[Hap], bool]) -> "Pattern":
        q = self._query
        return Pattern(lambda span: [h for h in q(span) if pred(h)])

    def filter_values(self, pred: Callable[[Any], bool]) -> "Pattern":
        return self.filter_haps(lambda h: pred(h.value))

    def onsets_only(self) -> "Pattern":
        return _with_period(self.filter_haps(Hap.has_onset), self._period)

    def discrete_only(self) -> "Pattern":
        return _with_period(self.filter_haps(lambda h: h.whole is not None), self._period)

    # -- applicative ------------------------------------------------------------------------------------
    # `self` is a pattern of functions; the argument a pattern of values.

    def app_both(self, other: "Pattern") -> "Pattern":
        """Tidal's <*>: structure from both sides; wholes are the intersections."""
        qf, qv = self._query, other._query

        def query(span: TimeSpan) -> list[Hap]:
            out = []
            vals = qv(span)
            funcs = qf(span)
            _charge(len(funcs) * len(vals))  # every pair is compared
            for hf in funcs:
                for hv in vals:
                    part = hf.part.intersection(hv.part)
                    if part is None:
                        continue
                    if hf.whole is None or hv.whole is None:
                        whole = None
                    else:
                        whole = hf.whole.intersection(hv.whole)
                        if whole is None:
                            continue
                    out.append(Hap(whole, part, hf.value(hv.value)))
            return out

        return Pattern(query, period=_lcm(self._period, other._period))

    def app_left(self, other: "Pattern") -> "Pattern":
        """Tidal's <*: structure from the left; the right is queried over each left whole."""
        qf, qv = self._query, other._query

        def query(span: TimeSpan) -> list[Hap]:
            out = []
            for hf in qf(span):
                for hv in qv(hf.whole_or_part()):
                    part = hf.part.intersection(hv.part)
                    if part is not None:
                        out.append(Hap(hf.whole, part, hf.value(hv.value)))
            return out

        return Pattern(query, period=_lcm(self._period, other._period))

    def app_right(self, other: "Pattern") -> "Pattern":
        """Tidal's *>: structure from the right."""
        qf, qv = self._query, other._query

        def query(span: TimeSpan) -> list[Hap]:
            out = []
            for hv in qv(span):
                for hf in qf(hv.whole_or_part()):
                    part = hf.part.intersection(hv.part)
                    if part is not None:
                        out.append(Hap(hv.whole, part, hf.value(hv.value)))
            return out

        return Pattern(query, period=_lcm(self._period, other._period))

    # -- monadic ----------------------------------------------------------------------------------------

    def bind_whole(self, choose_whole: Callable[[TimeSpan | None, TimeSpan | None], TimeSpan | None],
                   f: Callable[[Any], "Pattern"]) -> "Pattern":
        q = self._query

        def query(span: TimeSpan) -> list[Hap]:
            out = []
            for outer in q(span):
                for inner in f(outer.value).query(outer.part):
                    out.append(Hap(choose_whole(outer.whole, inner.whole), inner.part, inner.value))
            return out

        return Pattern(query)

    def bind(self, f: Callable[[Any], "Pattern"]) -> "Pattern":
        """Wholes are the intersection of outer and inner wholes."""

        def whole(a: TimeSpan | None, b: TimeSpan | None) -> TimeSpan | None:
            if a is None or b is None:
                return None
            w = a.intersection(b)
            if w is None:
                raise ValueError("TimeSpans do not intersect")
            return w

        return self.bind_whole(whole, f)

    def inner_bind(self, f: Callable[[Any], "Pattern"]) -> "Pattern":
        return self.bind_whole(lambda a, b: b, f)

    def outer_bind(self, f: Callable[[Any], "Pattern"]) -> "Pattern":
        return self.bind_whole(lambda a, b: a, f)

    def join(self) -> "Pattern":
        return self.bind(lambda p: p)

    def inner_join(self) -> "Pattern":
        """Flatten a pattern of patterns; structure (wholes) from the inner patterns (Tidal's tParam)."""
        return self.inner_bind(lambda p: p)

    def outer_join(self) -> "Pattern":
        return self.outer_bind(lambda p: p)

    def squeeze_join(self) -> "Pattern":
        """Flatten by fitting one cycle of each inner pattern into its outer event's whole."""
        q = self.discrete_only()._query

        def query(span: TimeSpan) -> list[Hap]:
            out = []
            for outer in q(span):
                focus = outer.whole_or_part()
                for inner in outer.value._focus(focus.begin, focus.end).query(outer.part):
                    whole = None
                    if inner.whole is not None and outer.whole is not None:
                        whole = inner.whole.intersection(outer.whole)
                        if whole is None:
                            continue
                    part = inner.part.intersection(outer.part)
                    if part is None:
                        continue
                    out.append(Hap(whole, part, inner.value))
            return out

        return Pattern(query)

    def squeeze_bind(self, f: Callable[[Any], "Pattern"]) -> "Pattern":
        return self.fmap(f).squeeze_join()

    # -- time -------------------------------------------------------------------------------------------

    def _fast(self, factor: Number) -> "Pattern":
        factor = to_time(factor)
        if factor == 0:
            return silence
        if factor < 0:  # Tidal: a negative speed plays the pattern reversed
            return self._fast(-factor).rev()
        fast = self.with_query_time(lambda t: t * factor).with_event_time(lambda t: t / factor)
        # p(t + P) is p(t) shifted, so fast(p)(t + P / k) is too: the least whole multiple of P / k is its numerator
        return _with_period(fast, None if self._period is None else (self._period / factor).numerator)

    def _slow(self, factor: Number) -> "Pattern":
        factor = to_time(factor)
        if factor == 0:
            return silence
        return self._fast(1 / factor)

    def _early(self, offset: Number) -> "Pattern":
        offset = to_time(offset)
        if offset == 0:
            return self
        return _with_period(self.with_query_time(lambda t: t + offset).with_event_time(lambda t: t - offset),
                            self._period)

    def _late(self, offset: Number) -> "Pattern":
        return self._early(-to_time(offset))

    def _fast_gap(self, factor: Number) -> "Pattern":
        """Speed up but only within the cycle, leaving a gap (ported from Strudel's fastGap)."""
        factor = to_time(factor)
        if factor <= 0:
            return silence

        def qf(span: TimeSpan) -> TimeSpan | None:
            cycle = _sam(span.begin)
            bpos = min((span.begin - cycle) * factor, 1)
            epos = min((span.end - cycle) * factor, 1)
            if bpos >= 1:
                return None
            return TimeSpan(cycle + bpos, cycle + epos)

        def ef(hap: Hap) -> Hap:
            begin, end = hap.part.begin, hap.part.end
            cycle = _sam(begin)
            part = TimeSpan(cycle + min((begin - cycle) / factor, 1), cycle + min((end - cycle) / factor, 1))
            whole = None
            if hap.whole is not None:
                whole = TimeSpan(part.begin - (begin - hap.whole.begin) / factor,
                                 part.end + (hap.whole.end - end) / factor)
            return Hap(whole, part, hap.value)

        return _with_period(self.with_query_span_maybe(qf).with_hap(ef).split_queries(), self._period)

    def _compress(self, begin: Number, end: Number) -> "Pattern":
        """Squeeze each cycle into [begin, end) of the cycle, silence elsewhere."""
        b, e = to_time(begin), to_time(end)
        if b > e or b > 1 or e > 1 or b < 0 or e < 0 or b == e:
            return silence
        return self._fast_gap(1 / (e - b))._late(b)

    def _focus(self, begin: Number, end: Number) -> "Pattern":
        """Like compress but without gaps: cycle 0 of the pattern is stretched over [begin, end)."""
        b, e = to_time(begin), to_time(end)
        return self._early(_sam(b))._fast(1 / (e - b))._late(b)

    def _zoom(self, begin: Number, end: Number) -> "Pattern":
        s, e = to_time(begin), to_time(end)
        if s >= e:
            return silence
        d = e - s
        return (self.with_query_span(lambda span: span.with_cycle(lambda t: t * d + s))
                .with_event_span(lambda span: span.with_cycle(lambda t: (t - s) / d))
                .split_queries())

    def rev(self) -> "Pattern":
        """Reverse each cycle by reflecting time within it (Tidal/Strudel `rev`)."""
        q = self._query

        def query(span: TimeSpan) -> list[Hap]:
            cycle = _sam(span.begin)
            nxt = cycle + 1

            def reflect(s: TimeSpan) -> TimeSpan:
                return TimeSpan(cycle + (nxt - s.end), cycle + (nxt - s.begin))

            return [h.with_span(reflect) for h in q(reflect(span))]

        return Pattern(query, period=self._period).split_queries()

    def _repeat_cycles(self, n: Number) -> "Pattern":
        """Each cycle plays n times before moving on (cycle c plays source cycle floor(c / n))."""
        n = to_time(n)
        q = self._query

        def query(span: TimeSpan) -> list[Hap]:
            cycle = _sam(span.begin)
            delta = cycle - _sam(cycle / n)
            return [h.with_span(lambda s: s.with_time(lambda t: t + delta))
                    for h in q(span.with_time(lambda t: t - delta))]

        return Pattern(query).split_queries()

    def _ply(self, factor: Number) -> "Pattern":
        return self.fmap(lambda v: pure(v)._fast(factor)).squeeze_join()

    def _segment(self, n: Number) -> "Pattern":
        return self._struct(pure(True)._fast(n))

    def _iter(self, n: int, back: bool = False) -> "Pattern":
        check_count(n, "parts for iter")
        n = to_time(n)
        shift = Pattern._late if back else Pattern._early
        return slowcat(*[shift(self, Fraction(i) / n) for i in range(int(n))])

    # -- structure --------------------------------------------------------------------------------------

    def _struct(self, bools: "Pattern | Sequence[Any] | str") -> "Pattern":
        """Keep this pattern's values where `bools` is truthy, with the structure of `bools` (Strudel's
        keepif.out). A list is read as a sequence of steps."""
        if isinstance(bools, (list, tuple)):
            bools = fastcat(*[pure(b) for b in bools])
        other = reify(bools)
        return (self.fmap(lambda a: lambda b: a if truthy(b) else _DROP)
                .app_right(other).filter_values(lambda v: v is not _DROP))

    def _euclid(self, pulses: int, steps: int, rotation: int = 0) -> "Pattern":
        """Bjorklund rhythm as structure. Rotation follows Tidal (`bd(3,8,2)`: rotate left by 2 steps)."""
        return self._struct(euclid_bools(pulses, steps, rotation))

    def when(self, bools: "Pattern | str", f: Callable[["Pattern"], "Pattern"]) -> "Pattern":
        """Apply f where `bools` is truthy (a patterned if, inner-joined as in Strudel)."""
        applied = f(self)
        return reify(bools).fmap(lambda b: applied if truthy(b) else self).inner_join()

    def _degrade_by_with(self, rand_pat: "Pattern", amount: float) -> "Pattern":
        """Keep events whose random value (sampled at the event's whole) is greater than `amount`."""
        return (self.fmap(lambda a: lambda _r: a)
                .app_left(rand_pat.filter_values(lambda r: r > amount)))

    def _degrade_by(self, amount: float, seed: int = 0) -> "Pattern":
        return self._degrade_by_with(_seeded_rand(seed), float(amount))

    def _undegrade_by(self, amount: float, seed: int = 0) -> "Pattern":
        return self._degrade_by_with(_seeded_rand(seed).fmap(lambda r: 1 - r), float(amount))

    # -- combining --------------------------------------------------------------------------------------

    def stack(self, *others: "Pattern") -> "Pattern":
        return stack(self, *others)

    def op(self, name: str, other: "Pattern | Number | str", structure: str = "both") -> "Pattern":
        """Arithmetic `+ - * / %` between two patterns, or `<` / `>` keeping one side's values.

        structure "both" (`+`): Tidal's appBoth, events are the intersecting fragments of both sides;
        "left" (`|+`): structure and onsets from self, values of `other` sampled over each event;
        "right" (`+|`): the mirror. Note names count as MIDI numbers, dict values combine key by key."""
        fn = _OPS.get(name)
        if fn is None:
            raise ValueError(f"unknown operator {name!r}; expected one of + - * / % < >")
        other_pat = reify(other)
        funcs = self.fmap(lambda a: lambda b: apply_op(fn, a, b))
        if structure == "both":
            return funcs.app_both(other_pat)
        if structure == "left":
            return funcs.app_left(other_pat)
        if structure == "right":
            return funcs.app_right(other_pat)
        raise ValueError(f"unknown structure {structure!r}; expected 'both', 'left' or 'right'")

    def __add__(self, other: Any) -> "Pattern":
        return self.op("+", other)

    def __sub__(self, other: Any) -> "Pattern":
        return self.op("-", other)

    def __mul__(self, other: Any) -> "Pattern":
        return self.op("*", other)

    def __truediv__(self, other: Any) -> "Pattern":
        return self.op("/", other)

    def __radd__(self, other: Any) -> "Pattern":
        return reify(other).op("+", self)

    def __rsub__(self, other: Any) -> "Pattern":
        return reify(other).op("-", self)

    def __rmul__(self, other: Any) -> "Pattern":
        return reify(other).op("*", self)

    def __rtruediv__(self, other: Any) -> "Pattern":
        return reify(other).op("/", self)

    def first_cycle(self) -> list[Hap]:
        return self.query_arc(0, 1)

    def __repr__(self) -> str:
        if self.is_pure:
            return f"pure({self._pure!r})"
        return "Pattern(...)"


_DROP = object()


def truthy(v: Any) -> bool:
    """Boolean reading of a structure value: false for 0, False, None and the strings "f"/"false"/"0"
    (so Tidal's `struct "t f t t"` works), true otherwise."""
    if v is None or v is False:
        return False
    if isinstance(v, str):
        return v not in ("f", "false", "0", "~", "")
    if isinstance(v, (int, float, *FRACTIONS)):
        return v != 0
    return True


# ---------------------------------------------------------------------------------------------------------
# Periods

MAX_PERIOD = 1 << 16  # a longer period is as good as none for a player (and keeps lcm sizes small)


def _lcm(*periods: int | None) -> int | None:
    """The period of patterns played together: the lcm of theirs; None if any is unknown or it is huge."""
    if any(p is None for p in periods):
        return None
    period = math.lcm(*periods)
    return period if period <= MAX_PERIOD else None


def _with_period(pattern: Pattern, period: int | None) -> Pattern:
    """`pattern`, known to repeat every `period` cycles (its construction proves it)."""
    pattern._period = _lcm(period) if period is not None else None
    return pattern


# ---------------------------------------------------------------------------------------------------------
# Constructors


def pure(value: Any) -> Pattern:
    """One event per cycle, filling it."""

    def query(span: TimeSpan) -> list[Hap]:
        return [Hap(TimeSpan(_sam(s.begin), _sam(s.begin) + 1), s, value) for s in span.span_cycles()]

    return Pattern(query, value, period=1)


silence = Pattern(lambda span: [], period=1)


def signal(f: Callable[[Fraction], Any]) -> Pattern:
    """A continuous pattern (no wholes), valued by f at the query's begin (as Strudel)."""
    return Pattern(lambda span: [Hap(None, span, f(span.begin))])


def steady(value: Any) -> Pattern:
    return Pattern(lambda span: [Hap(None, span, value)])


def reify(thing: Any) -> Pattern:
    """A pattern from a pattern, a value, or a mini-notation string."""
    if isinstance(thing, Pattern):
        return thing
    if isinstance(thing, str):
        from .mini import parse_mini  # late import: mini builds on this module

        return parse_mini(thing)
    return pure(thing)


def stack(*pats: Pattern) -> Pattern:
    """Play patterns at the same time; haps come back in argument order."""
    queries = [reify(p)._query for p in pats]
    if not queries:
        return silence
    if len(queries) == 1:
        return reify(pats[0])
    return Pattern(lambda span: [h for q in queries for h in q(span)], period=_lcm(*(reify(p)._period for p in pats)))


def slowcat(*pats: Pattern) -> Pattern:
    """One pattern per cycle, in turn. Cycle c plays cycle floor(c / n) of pattern c mod n, so no
    pattern skips cycles (Tidal's `cat`)."""
    pats = tuple(reify(p) for p in pats)
    if not pats:
        return silence
    if len(pats) == 1:
        return pats[0]
    n = len(pats)

    def query(span: TimeSpan) -> list[Hap]:
        cyc = math.floor(span.begin)
        pat = pats[cyc % n]
        offset = Fraction(cyc - math.floor(span.begin / n))
        if offset == 0:
            return pat._query(span)
        return [h.with_span(lambda s: TimeSpan(s.begin + offset, s.end + offset))
                for h in pat._query(TimeSpan(span.begin - offset, span.end - offset))]

    # cycle c plays cycle floor(c / n) of pattern c mod n: n times every child's period brings all back
    inner = _lcm(*(p._period for p in pats))
    return Pattern(query, period=None if inner is None else _lcm(n * inner)).split_queries()


def fastcat(*pats: Pattern) -> Pattern:
    """All patterns squeezed into one cycle, in equal steps."""
    if len(pats) <= 1:
        return slowcat(*pats)
    return slowcat(*pats)._fast(len(pats))


sequence = fastcat


def timecat(*pairs: tuple[Number, Pattern]) -> Pattern:
    """Like fastcat with a relative duration per pattern: timecat((3, a), (1, b)) is "a@3 b"."""
    pairs = [(to_time(w), reify(p)) for w, p in pairs]
    if not pairs:
        return silence
    if len(pairs) == 1:
        return pairs[0][1]
    total = sum(w for w, _ in pairs)
    begin = Fraction(0)
    parts = []
    for w, p in pairs:
        if w == 0:
            continue
        end = begin + w
        parts.append(p._compress(begin / total, end / total))
        begin = end
    return stack(*parts)


def patternify(f: Callable[..., Pattern]) -> Callable[..., Pattern]:
    """Lift `f(arg1, ..., argN, pat)` with plain arguments to accept patterns (or mini strings) for the
    arguments: constant arguments call f directly, otherwise the arguments are combined (structure from
    the first) and the results inner-joined, as Tidal's tParam and Strudel's `register`."""

    def lifted(*args: Any) -> Pattern:
        *params, pat = args
        pats = [p if isinstance(p, Pattern) else (reify(p) if isinstance(p, str) else None) for p in params]
        if all(p is None or p.is_pure for p in pats):
            values = [params[i] if p is None else p._pure for i, p in enumerate(pats)]
            return f(*values, pat)
        pats = [pure(params[i]) if p is None else p for i, p in enumerate(pats)]
        acc = pats[0].fmap(lambda v: (v,))
        for p in pats[1:]:
            acc = acc.fmap(lambda tup: lambda v: tup + (v,)).app_left(p)
        return acc.fmap(lambda vals: f(*vals, pat)).inner_join()

    return lifted


# ---------------------------------------------------------------------------------------------------------
# Randomness: Tidal's timeToRand xorshift, bit-for-bit as Strudel computes it in JavaScript


def _int32(x: int) -> int:
    x &= 0xFFFFFFFF
    return x - 0x100000000 if x & 0x80000000 else x


def _xorwise(x: int) -> int:
    a = _int32(x << 13) ^ x
    b = (a >> 17) ^ a
    return _int32(b << 5) ^ b


def time_to_rand(t: Number) -> float:
    """A pseudo-random float in [0, 1) from a time: 300 cycles are stretched over [0, 2**29), then one
    xorshift round. Same numbers as Tidal's and Strudel's `timeToRand`."""
    if isinstance(t, FRACTIONS):
        x = float(t.numerator) / float(t.denominator)  # as fraction.js's valueOf
    else:
        x = float(t)
    v = x / 300
    frac = v - math.trunc(v)
    seed = _xorwise(_int32(math.trunc(frac * 536870912)))
    return (abs(seed) % 536870912) / 536870912


rand = signal(time_to_rand)


def _seeded_rand(seed: int) -> Pattern:
    # Mini-notation's n-th `?` or `|` reads `rand` shifted 0.0003 * n cycles earlier (Strudel's randOffset).
    return rand._early(Fraction(3 * seed, 10000)) if seed else rand


def choose_in_with(rand_pat: Pattern, pats: Sequence[Pattern]) -> Pattern:
    """Pick one of `pats` by the value (0..1) of `rand_pat`; structure from the chosen pattern."""
    pats = [reify(p) for p in pats]
    if not pats:
        return silence
    n = len(pats)
    return rand_pat.fmap(lambda r: pats[min(max(math.floor(r * n + 0), 0), n - 1)]).inner_join()


# ---------------------------------------------------------------------------------------------------------
# Euclidean rhythms (Bjorklund, as Tidal: ported from Rohan Drape's hmt)


def bjorklund(pulses: int, steps: int) -> list[bool]:
    """Tidal's Bjorklund: (3,8) = x..x..x., (5,8) = x.xx.xx., (2,5) = x.x.. ; negative pulses invert."""
    inverted = pulses < 0
    k = abs(int(pulses))
    n = int(steps)
    check_count(n, "steps in a Euclidean rhythm")
    if n <= 0:
        return []
    k = min(k, n)
    a: tuple[int, int] = (k, n - k)
    xs: list[list[bool]] = [[True]] * k
    ys: list[list[bool]] = [[False]] * (n - k)
    while min(a) > 1:
        ons, offs = a
        if ons > offs:  # Tidal's `left`
            head, rest = xs[:offs], xs[offs:]
            a, xs, ys = (offs, ons - offs), [x + y for x, y in zip(head, ys)], rest
        else:  # `right`
            head, rest = ys[:ons], ys[ons:]
            a, xs, ys = (ons, offs - ons), [x + y for x, y in zip(xs, head)], rest
    out = [b for group in xs for b in group] + [b for group in ys for b in group]
    return [not b for b in out] if inverted else out


def euclid_bools(pulses: Number, steps: Number, rotation: Number = 0) -> list[bool]:
    bools = bjorklund(int(pulses), int(steps))
    if bools and rotation:
        r = int(rotation) % len(bools)
        bools = bools[r:] + bools[:r]  # rotate left, as Tidal's (k,n,r)
    return bools


# ---------------------------------------------------------------------------------------------------------
# Values


def control_map(value: Any) -> dict:
    """The control-map view of a value: dicts are copied, anything else becomes {"value": v}. Transforms
    that set controls (jux, chop, stut, ...) use this, so `s "bd"` events become {"value": "bd", "pan": 1}
    and the consumer reads "value" in its own context (sample name under `s`, note under `note`, ...)."""
    if isinstance(value, dict):
        return dict(value)
    return {"value": value}


def numeral(v: Any) -> int | float:
    """A number for arithmetic: numbers pass, note names become MIDI numbers, numeric strings parse."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, MidiNote):
        return int(v)
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, FRACTIONS):
        return float(v)
    if isinstance(v, str):
        from .notes import is_note_name, note_to_midi

        if is_note_name(v):
            return note_to_midi(v)
        try:
            return int(v)
        except ValueError:
            pass
        try:
            return float(v)
        except ValueError:
            pass
    raise ValueError(f"cannot do arithmetic on {v!r}: not a number or note name")




def _keep_left(a: Any, b: Any) -> Any:
    return a


def _keep_right(a: Any, b: Any) -> Any:
    return b


def modulo(a: Any, b: Any) -> Any:
    """Tidal's mod': the remainder with the divisor's sign (-1 % 4 is 3); by 0, 0 (as division)."""
    return a - b * math.floor(a / b) if b else 0


def _add(a: Any, b: Any) -> Any:
    return a + b


def _sub(a: Any, b: Any) -> Any:
    return a - b


_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": _add, "add": _add,
    "-": _sub, "sub": _sub,
    "*": lambda a, b: a * b, "mul": lambda a, b: a * b,
    "/": safe_div, "div": safe_div,
    "%": modulo, "mod": modulo,
    "<": _keep_left, ">": _keep_right,  # Tidal's |< and |> (|> is #): one side's values, any kind
}


def apply_op(fn: Callable[[Any, Any], Any], a: Any, b: Any) -> Any:
    """Combine two values: numbers (and note names) arithmetically, dicts key by key (keys on one side
    only are kept; a plain value on the other side counts as {"value": v})."""
    if isinstance(a, dict) or isinstance(b, dict):
        a, b = control_map(a), control_map(b)
        out = {**a, **b}
        for k in a.keys() & b.keys():
            out[k] = apply_op(fn, a[k], b[k])
        return out
    if fn is _keep_left or fn is _keep_right:  # a choice, not arithmetic: sample names and words pass
        return fn(a, b)
    result = fn(numeral(a), numeral(b))
    # a note moved by semitones is still a note (`"c4 e4" |+ 12` plays c5 e5 under `note`, as in Tidal)
    if (fn is _add and _is_note(a) != _is_note(b)) or (fn is _sub and _is_note(a) and not _is_note(b)):
        return MidiNote(result) if float(result).is_integer() else result
    return result


def _is_note(v: Any) -> bool:
    if isinstance(v, MidiNote):
        return True
    from .notes import is_note_name

    return isinstance(v, str) and is_note_name(v)
