"""The named pattern transforms, each defined once (graph/patterns/registry.py: its name, aliases, typed
parameters, doc and function in one `define` call, from which the registry, the `Pattern` method, the
language and the README table derive): `TRANSFORMS["every"](3, TRANSFORMS["fast"](2))` is a function
Pattern -> Pattern, as `every 3 (fast 2)` in a program, and `parse_mini("bd sn").every(3, ...)` in Python.

Randomness (`sometimes`, `degradeBy`, ...) is per event, from Tidal's `timeToRand` of the event onset, with
Tidal's probabilities: often 0.75, sometimes 0.5, rarely 0.25, almostNever 0.1, almostAlways 0.9.

Control maps: transforms that set controls (jux, juxBy: "pan"; chop, striate: "begin"/"end"; stut: "gain";
hurry: "speed"; legato: "legato") turn each value into a dict first: dicts are kept, any other value v
becomes {"value": v} (`core.control_map`); the consumer reads "value" in its context (the sample name under
`s`). Pan is 0..1 (Tidal's and Strudel's; 0.5 the centre): `jux f` pans the original to 0 and f's copy to 1,
`juxBy a f` to 0.5 - a/2 and 0.5 + a/2.

`stut count time decay` takes Phonon's argument order (Tidal's is count, feedback, time): `count` copies,
each `time` cycles later than the one before, copy i with its gain multiplied by decay**i.

Tidal's UI.hs, Control.hs and Core.hs (Tidal 1.9, read in the tidalcycles/Tidal repository) define mask, rot,
linger, trunc, fit, echo, echoWith/stutWith, brak, loopAt, slice, splice, bite, chew, press, pressBy, ghost,
someCyclesBy/somecyclesBy/someCycles/somecycles, every' (here `everyOffset`: names are [A-Za-z_][A-Za-z0-9_]*,
so `every'` cannot be written), fastGap and compress; each is ported from its Tidal definition with the
core's combinators. Controls they set follow the convention above: loopAt "speed" (multiplied, Tidal's |*)
and "unit" "c"; slice/splice "begin"/"end" (and splice "speed", "unit"); chew "speed"; echo "gain"
(multiplied); ghost "gain", "speed" (multiplied) and "end". `ribbon` is Strudel's (Tidal has none);
`degradeBySeed p n` is degradeBy reading the random stream of mini-notation's n-th `?` (Strudel's 0.0003 * n
cycles earlier; Tidal's mini-notation shifts 0.0001 * n).

Argument forms: `fit step list`: Tidal's list is a pattern here, the values of its events in cycle 0 in time
order (`fit 3 "bd sn arpy"`), and fit transforms the pattern of places (numbers) into those values.
`compress begin end` takes patterns (Strudel's; Tidal's takes a constant pair). Several patterned arguments
are combined with structure from the first (patternify), where Tidal's tParam2/3 use <*>: both give the
same fragments, so the events are the same. `inhabit` takes Tidal's list of (name, pattern) pairs; `squeeze`
and `wchooseBy`, which make a pattern rather than transform one, are constructors (constructors.py).

Where Tidal and Strudel 1.2.5 differ, these follow Tidal (tests/fixtures/strudel_transforms.json has a case
for each; the other cases give the same events in both):
  within      the events of f(pat) that start inside [begin, end) of the cycle (Tidal's); Strudel 1.2.5
              applies f to the events inside [begin, end], so an f that moves events differs. swingBy x n
              (Tidal's inside n (within (0.5, 1) (x ~>))) delays by x/n; Strudel's by x/(2n).
  linger      a negative fraction lingers on the last part, reversed (Tidal's `_fast (1/n)` with n < 0
              reverses); Strudel 1.2.5 gives no events. linger 0 is silence (Tidal divides by zero).
  echo        the original is left as it is and copy k's gain is multiplied by feedback**k (|* gain);
              Strudel sets gain = feedback**k on every copy, the original included.
  echoWith    copy k is f applied k times, after each shift (f (t ~> f (t ~> ...)), the original untouched;
              Strudel applies f once to every copy, the original included. count <= 1 is the pattern
              itself (Strudel: count 0 is silence).
  slice       the index is taken mod n (Tidal's div'); Strudel's begin is index / n, past 1 for an index >= n.
  splice      a speed already set is multiplied by the fitted one; Strudel keeps the event's own speed.
  someCyclesBy  the chosen cycles play f(pat) (Tidal's `when`); Strudel applies f to the events of the
              chosen cycles only, so f that moves events across cycles (fast 2) differs.
  fastGap     factors below 1 count as 1 (Tidal's `max r 1`), 0 is silence; Strudel slows the cycle into
              itself. Wholes of events reaching into the previous cycle are computed from the part (as
              Strudel, core._fast_gap), where Tidal maps them with their own cycle.
Strudel's `fit` is another function (fit a sample to its event); this one is Tidal's. someCyclesBy draws
timeToRand(cycle) from `core.time_to_rand` (Strudel's 32-bit numbers, as every random value here).
Tidal only (no Strudel 1.2.5 counterpart): rot, trunc, chew, ghost, fit, everyOffset (Strudel's lastOf n is
everyOffset n (n-1)), degradeBySeed (Strudel's degradeByWith with rand.early(0.0003 * seed)). rot orders each
cycle's events by time (Tidal sorts them by event, its source position first). ghost is Tidal's ghostWith
(1/8) ((|*| gain 0.7) . (|> end 0.2) . (|*| speed 1.25)), whose second superimpose layers onto the first:
four layers (the original, f of it 3/16 and 5/16 later, and f twice 1/2 later); its `|*|` cuts events at
cycle boundaries, as Tidal's does. everyOffset with patterned arguments binds them as Tidal's do-block
(wholes intersected); n == 0 leaves the pattern (Tidal divides by zero).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from quicktions import Fraction

from .core import (
    FRACTIONS,
    Hap,
    Pattern,
    PatternLimitError,
    TimeSpan,
    check_count,
    control_map,
    fastcat,
    patternify,
    pure,
    reify,
    silence,
    slowcat,
    stack,
    time_to_rand,
    to_time,
    truthy,
)
_DROP = object()  # a value struct and mask filter out
from . import harmony, signals
from .mini import parse_mini

from .registry import (
    INT,
    INT_PATTERN,
    NAMED,
    NUMBER,
    NUMBERS,
    PATTERN,
    PATTERNS,
    TRANSFORM,
    TRANSFORMS,
    TRANSFORMS_LIST,
    VALUES,
    WEIGHTED,
    Param,
    Transform,
    TransformError,
    _is_number,
    define,
    suggest,
)

__all__ = ["TRANSFORMS", "Transform", "Param", "TransformError", "suggest"]

PatternFn = Callable[[Pattern], Pattern]


def _int(v: Any) -> int:
    # Patterned whole-number arguments are floored (`every "<2 3.5>"` is every 2, then every 3).
    return math.floor(v)


# ---------------------------------------------------------------------------------------------------------
# Implementations (pattern last, as Tidal)


def _not_negative(name: str, factor: Any) -> Any:
    """A speed factor as given, refused when it is negative (checked per value when patterned): a negative
    speed is a slip, not a request to play backwards (the reference engine clamps it to 0.001)."""

    def check(v: Any) -> Any:
        if isinstance(v, (int, float, *FRACTIONS)) and not isinstance(v, bool) and v < 0:
            raise PatternLimitError(f"{name}: the factor must not be negative, got {float(v):g}",
                                    f"give a positive factor, e.g. `{name} 2`; `rev` plays backwards")
        return v

    if not isinstance(factor, Pattern):
        return check(factor)
    if factor.is_pure:
        check(factor._pure)
        return factor
    return factor.fmap(check)


def _every(n: int, f: PatternFn, pat: Pattern) -> Pattern:
    """f in cycles 0, n, 2n, ... (Strudel's firstOf: cycle c uses f when c mod n == 0)."""
    n = _int(n)
    if n <= 0:
        return pat
    return _by_cycle(lambda c: c % n == 0, f, pat)


def _by_cycle(test: Callable[[int], bool], f: PatternFn, pat: Pattern) -> Pattern:
    """Per cycle, query f(pat) where test(cycle) holds, else pat (Tidal's whenT on the cycle number)."""
    applied = f(pat)

    def query(span: TimeSpan) -> list[Hap]:
        return (applied if test(math.floor(span.begin)) else pat).query(span)

    return Pattern(query).split_queries()


def _whenmod(a: Any, b: Any, f: PatternFn, pat: Pattern) -> Pattern:
    """f when (cycle mod a) >= b: `whenmod 4 2 f` applies f in cycles 2, 3, 6, 7, ..."""
    a, b = to_time(a), to_time(b)
    if a <= 0:
        return pat
    return _by_cycle(lambda c: (c % a) >= b, f, pat)


def _sometimes_by(p: Any, f: PatternFn, pat: Pattern) -> Pattern:
    """f on each event with probability p (decided per event, as Tidal; `always`/`never` at 1/0)."""
    p = float(p)
    return stack(pat._degrade_by(p), f(pat._undegrade_by(1 - p)))


def _off(t: Any, f: PatternFn, pat: Pattern) -> Pattern:
    return stack(pat, f(pat._late(t)))


def _jux_by(a: Any, f: PatternFn, pat: Pattern) -> Pattern:
    # Tidal's juxBy n: `p # pan 0.5 |+ pan (-n/2)` and `f $ p # pan 0.5 |+ pan (n/2)`: pan is set (an earlier
    # pan is overridden, as in Tidal; Strudel offsets it), in the 0..1 range with 0.5 the centre.
    left = pat.fmap(lambda v: {**control_map(v), "pan": 0.5 - a / 2})
    right = pat.fmap(lambda v: {**control_map(v), "pan": 0.5 + a / 2})
    return stack(left, f(right))


def _stut(count: int, time: Any, decay: Any, pat: Pattern) -> Pattern:
    check_count(count, "echoes for stut")
    t, d = to_time(time), float(decay)

    def layer(i: int) -> Pattern:
        g = d ** i

        def scale(v: Any) -> dict:
            m = control_map(v)
            m["gain"] = m.get("gain", 1) * g  # multiplies, so `# gain` set earlier survives
            return m

        return pat._late(t * i).fmap(scale)

    return stack(*[layer(i) for i in range(count)]) if count > 0 else silence


def _hurry(r: Any, pat: Pattern) -> Pattern:
    r = _not_negative("hurry", r)

    def speed(v: Any) -> dict:
        m = control_map(v)
        m["speed"] = m["speed"] * r if "speed" in m else r
        return m

    return pat._fast(r).fmap(speed)


def _iter(n: Any, pat: Pattern) -> Pattern:
    n = _int(n)
    return pat._iter(n) if n > 0 else pat


def _palindrome(pat: Pattern) -> Pattern:
    """Every other cycle reversed (Strudel's lastOf 2 rev: cycles 1, 3, 5, ... backwards)."""
    return _by_cycle(lambda c: c % 2 == 1, Pattern.rev, pat)


def _chunk(n: Any, f: PatternFn, pat: Pattern) -> Pattern:
    """Split the cycle in n parts; cycle c applies f to part c mod n (Strudel's chunk, which also repeats
    each source cycle n times, as Tidal's chunk does through `cat`)."""
    n = _int(n)
    if n <= 0:
        return pat
    check_count(n, "parts for chunk")
    bools = fastcat(pure(True), *[pure(False)] * (n - 1))._iter(n, back=True)
    return pat._repeat_cycles(n).when(bools, f)


def _swing_by(x: Any, n: Any, pat: Pattern) -> Pattern:
    """Delay the events starting in the second half of each 1/n slice by x/n cycles: Tidal's
    `inside n (within (0.5, 1) (x ~>))`. (Strudel's swingBy delays by half that.)"""
    n, x = to_time(n), to_time(x)
    if n <= 0:
        return pat
    return _inside(n, lambda p: _within(Fraction(1, 2), 1, lambda q: q._late(x), p), pat)


def _inside(n: Any, f: PatternFn, pat: Pattern) -> Pattern:
    return f(pat._slow(n))._fast(n)


def _outside(n: Any, f: PatternFn, pat: Pattern) -> Pattern:
    return f(pat._fast(n))._slow(n)


def _within(b: Any, e: Any, f: PatternFn, pat: Pattern) -> Pattern:
    """Tidal's within: the events of f(pat) whose onset lies in [b, e) of the cycle, and the events of pat whose
    onset lies outside (Strudel applies f to the events inside instead, and keeps the end of the window)."""
    b, e = to_time(b), to_time(e)

    def inside(h: Hap) -> bool:
        pos = h.whole_or_part().begin % 1
        return b <= pos < e

    return stack(f(pat).filter_haps(inside), pat.filter_haps(lambda h: not inside(h)))


def _chop(n: Any, pat: Pattern) -> Pattern:
    """Each event becomes n events over its span, playing successive parts ("begin"/"end") of the sample."""
    n = _int(n)
    if n <= 0:
        return silence
    check_count(n, "pieces for chop")

    def pieces(v: Any) -> Pattern:
        m = control_map(v)
        b0, e0 = m.get("begin"), m.get("end")
        out = []
        for i in range(n):
            b, e = i / n, (i + 1) / n
            if b0 is not None and e0 is not None:  # chop within an existing slice
                d = e0 - b0
                b, e = b0 + b * d, b0 + e * d
            out.append(pure({**m, "begin": b, "end": e}))
        return fastcat(*out)

    return pat.squeeze_bind(pieces)


def _striate(n: Any, pat: Pattern) -> Pattern:
    """The pattern plays n times per cycle, the i-th time with part i of every sample."""
    n = _int(n)
    if n <= 0:
        return silence
    check_count(n, "parts for striate")
    slices = slowcat(*[pure({"begin": i / n, "end": (i + 1) / n}) for i in range(n)])
    return pat.fmap(lambda v: lambda s: {**control_map(v), **s}).app_left(slices)._fast(n)


def _legato(x: Any, pat: Pattern) -> Pattern:
    return pat.fmap(lambda v: lambda l: {**control_map(v), "legato": l}).app_left(reify(x))


def _struct(bools: Pattern, pat: Pattern) -> Pattern:
    return pat._struct(bools)


def _mask(bools: Pattern, pat: Pattern) -> Pattern:
    """Keep the pattern's events (and structure) where `bools` is truthy."""
    keep = pat.fmap(lambda a: lambda b: a if truthy(b) else _DROP).app_left(reify(bools))
    return keep.filter_values(lambda v: v is not _DROP)


# ---------------------------------------------------------------------------------------------------------
# Tidal's UI.hs / Control.hs / Core.hs transforms (see the module doc for where Strudel differs)


def _positive_count(name: str, what: str, n: Any) -> int:
    """A constant count that must be at least 1 (patterned values are checked where they are used)."""
    if n < 1:
        raise TransformError(f"{name}: argument '{what}' must be a positive whole number, got {n}")
    check_count(n, f"{what} for {name}")
    return n


def _some_cycles_by(x: Any, f: PatternFn, pat: Pattern) -> Pattern:
    """Tidal's _someCyclesBy: f(pat) in the cycles c where timeToRand(c) < x, pat in the others."""
    x = float(x)
    return _by_cycle(lambda c: time_to_rand(c) < x, f, pat)


def _every_offset(n: Any, o: Any, f: PatternFn, pat: Pattern) -> Pattern:
    """Tidal's every' n o: f in the cycles c where c mod n == o (Haskell's mod: floored, as Python's %).
    Patterned n and o are bound as Tidal's do-block (`>>=`, wholes intersected); n == 0 leaves pat."""
    n, o = (a._pure if isinstance(a, Pattern) and a.is_pure else a for a in (n, o))
    if isinstance(n, Pattern) or isinstance(o, Pattern):
        return reify(n).bind(lambda n: reify(o).bind(lambda o: _every_offset(n, o, f, pat)))
    n, o = _int(n), _int(o)
    if n == 0:  # Tidal: a division by zero
        return pat
    return _by_cycle(lambda c: c % n == o, f, pat)


def _brak(pat: Pattern) -> Pattern:
    """Tidal's brak: odd cycles squashed into the first half and a quarter cycle later."""
    return _by_cycle(lambda c: c % 2 == 1, lambda p: fastcat(p, silence)._late(Fraction(1, 4)), pat)


def _fast_gap(r: Any, pat: Pattern) -> Pattern:
    """Tidal's _fastGap: a factor of 0 is silence, factors below 1 count as 1 (Tidal's `max r 1`)."""
    r = to_time(r)
    return silence if r == 0 else pat._fast_gap(max(r, Fraction(1)))


def _trunc(t: Any, pat: Pattern) -> Pattern:
    """Tidal's _trunc t = compress (0, t) . zoomArc (Arc 0 t)."""
    t = to_time(t)
    return pat._zoom(0, t)._compress(0, t) if t > 0 else silence


def _linger(t: Any, pat: Pattern) -> Pattern:
    """Tidal's _linger: repeat the first t of each cycle (the last -t when t < 0: `_fast (1/t)` with t < 0
    also reverses, as Tidal's _fast does). 0 is silence (Tidal divides by zero)."""
    t = to_time(t)
    if t == 0:
        return silence
    return (pat._zoom(1 + t, 1) if t < 0 else pat._zoom(0, t))._fast(1 / t)


def _press_by(r: Any, pat: Pattern) -> Pattern:
    """Tidal's _pressBy r: each event squeezed into the part of its span from r to the end
    (`compressTo (r, 1)`: r outside [0, 1) gives silence)."""
    r = to_time(r)
    b, e = r - math.floor(r), 1 - math.floor(r)
    return pat.fmap(lambda v: pure(v)._compress(b, e)).squeeze_join()


def _defrag(haps: list[Hap]) -> list[Hap]:
    """Tidal's defragParts: join each hap to the first later fragment of the same event (same whole and
    value, adjacent parts), once."""
    later: dict[TimeSpan | None, list[int]] = {}
    for k, h in enumerate(haps):
        later.setdefault(h.whole, []).append(k)
    used, out = [False] * len(haps), []
    for k, h in enumerate(haps):
        if used[k]:
            continue
        for j in later[h.whole]:
            g = haps[j]
            if j > k and not used[j] and g.value == h.value and (h.part.end == g.part.begin
                                                                 or g.part.end == h.part.begin):
                used[j] = True
                h = Hap(h.whole, TimeSpan(min(h.part.begin, g.part.begin), max(h.part.end, g.part.end)), h.value)
                break
        out.append(h)
    return out


def _rot(i: Any, pat: Pattern) -> Pattern:
    """Tidal's _rot: the values of each whole cycle's events shifted i places to the left (events in time
    order; Tidal sorts by source position first), structure kept, parts cut to the query."""
    i = _int(i)

    def query(span: TimeSpan) -> list[Hap]:
        cycle = math.floor(span.begin)
        haps = _defrag(pat.query(TimeSpan(Fraction(cycle), Fraction(cycle + 1))))
        haps.sort(key=lambda h: (h.whole is not None, h.whole and (h.whole.begin, h.whole.end),
                                 h.part.begin, h.part.end))
        n = len(haps)
        shift = (i % n if i >= 0 else max(n + i, 0)) if n else 0  # Tidal: drop (length - |i|) when i < 0
        values = [h.value for h in haps]
        values = values[shift:] + values[:shift]
        out = []
        for h, v in zip(haps, values):
            part = h.part.intersection(span)
            if part is not None:
                out.append(Hap(h.whole, part, v))
        return out

    return Pattern(query).split_queries()


def _fit_values(xs: Pattern) -> list:
    """The list of Tidal's `fit`: the values of the events starting in cycle 0 of xs, in time order."""
    return [h.value for h in xs.onsets(0, 1)]


def _fit(step: Any, xs: list, pat: Pattern) -> Pattern:
    """Tidal's _fit: event value v in cycle c (of its part) picks xs[(v + step * c) mod len(xs)]."""
    step = _int(step)
    if not xs:
        return silence

    def pick(h: Hap) -> Hap:
        v = h.value
        if not _is_number(v):
            raise ValueError(f"fit: the pattern's values must be whole numbers (places in the list), got {v!r}")
        return Hap(h.whole, h.part, xs[(math.floor(v) + step * math.floor(h.part.begin)) % len(xs)])

    return pat.with_hap(pick)


def _bites(n: int, ipat: Pattern, pat: Pattern) -> Pattern:
    """Tidal's `zoompat <$> ipat`: each event of ipat valued with part (i mod n) of the n parts of a cycle."""
    return reify(ipat).fmap(lambda i: pat._zoom(Fraction(_int(i) % n, n), Fraction(_int(i) % n + 1, n)))


def _bite(n: Any, ipat: Pattern, pat: Pattern) -> Pattern:
    """Tidal's _bite: each event of ipat plays part (i mod n) of n equal parts of the cycle, squeezed."""
    n = _int(n)
    return _bites(n, ipat, pat).squeeze_join() if n > 0 else silence


def _squeeze_join_up(pp: Pattern) -> Pattern:
    """Tidal's squeezeJoinUp: like squeezeJoin (compressing each cycle of the inner pattern into the outer
    event's place in its cycle), and each inner event's "speed" multiplied by 1 / the outer event's length."""
    q = pp.discrete_only()._query

    def query(span: TimeSpan) -> list[Hap]:
        out = []
        for outer in q(span):
            w = outer.whole
            b = w.begin - math.floor(w.begin)
            inner = outer.value.op("*", pure({"speed": float(1 / w.duration)}), "left")._compress(b, b + w.duration)
            for h in inner.query(outer.part):
                whole = w.intersection(h.whole) if h.whole is not None else None
                part = outer.part.intersection(h.part)
                if whole is not None and part is not None:
                    out.append(Hap(whole, part, h.value))
        return out

    return Pattern(query)


def _chew(n: Any, ipat: Pattern, pat: Pattern) -> Pattern:
    """Tidal's _chew: bite, with each part's "speed" scaled to the length of the event it fills, / n."""
    n = _int(n)
    return _squeeze_join_up(_bites(n, ipat, pat)).op("/", pure({"speed": n}), "left") if n > 0 else silence


def _echo_with(count: Any, time: Any, f: PatternFn, pat: Pattern) -> Pattern:
    """Tidal's _echoWith: count <= 1 is pat; else overlay (f (time `rotR` echoWith (count-1))) pat, so copy k
    is k times shifted and k times transformed."""
    count, time = _int(count), to_time(time)
    check_count(count, "copies for echoWith")
    out = pat
    for _ in range(count - 1):
        out = stack(f(out._late(time)), pat)
    return out


def _echo(count: Any, time: Any, feedback: Any, pat: Pattern) -> Pattern:
    """Tidal's _echo: echoWith count time (|* gain feedback): copy k has its gain multiplied by feedback**k
    (set to it where the event has none); the original is left as it is."""
    gain = pure({"gain": float(feedback)})
    return _echo_with(count, time, lambda p: p.op("*", gain, "left"), pat)


def _ghost(pat: Pattern) -> Pattern:
    """Tidal's ghost = ghost' 0.125 = ghostWith 0.125 ((|*| gain 0.7) . (|> end 0.2) . (|*| speed 1.25)):
    superimpose (2.5a ~> . f) $ superimpose (1.5a ~> . f): the original, f of it 3/16 and 5/16 later, and
    f twice 1/2 later."""
    a = Fraction(1, 8)

    def f(p: Pattern) -> Pattern:
        return (p.op("*", pure({"speed": 1.25}), "both").op(">", pure({"end": 0.2}), "left")
                .op("*", pure({"gain": 0.7}), "both"))

    once = stack(pat, f(pat)._late(a * Fraction(3, 2)))
    return stack(once, f(once)._late(a * Fraction(5, 2)))


def _loop_at(n: Any, pat: Pattern) -> Pattern:
    """Tidal's loopAt n p = slow n p |* speed (1/n) # unit "c" (n patterned: slow joins it, speed samples it)."""
    n = reify(_not_negative("loopAt", n))
    speed = n.filter_values(lambda x: x != 0).fmap(lambda x: {"speed": 1 / float(x)})
    return pat.slow(n).op("*", speed, "left").op(">", pure({"unit": "c"}), "left")


def _slice(n: Any, i: Any, pat: Pattern) -> Pattern:
    """Tidal's slice pN pI p = begin b # end e # p, b = (i mod n) / n, e = b + 1/n: structure from the index
    pattern, the pattern's values sampled at each index event (a "begin"/"end" of its own wins, as `#`)."""
    n = reify(n).filter_values(lambda x: _int(x) > 0)
    begin = reify(i).fmap(lambda i: lambda n: (_int(i) % _int(n)) / _int(n)).app_left(n)
    end = begin.fmap(lambda b: lambda n: b + 1 / _int(n)).app_both(n)
    bounds = begin.fmap(lambda b: lambda e: {"begin": b, "end": e}).app_left(end)
    return bounds.fmap(lambda m: lambda v: {**m, **control_map(v)}).app_left(pat)


def _splice(n: Any, i: Any, pat: Pattern) -> Pattern:
    """Tidal's _splice: slice, with "speed" (1/n) / event length (times a speed already set) and unit "c"."""
    n = _int(n)

    def speed(h: Hap) -> Hap:
        d = (1 / n) / float(h.whole.duration)
        m = dict(h.value)
        m["speed"] = m["speed"] * d if _is_number(m.get("speed")) else d
        return Hap(h.whole, h.part, m)

    return _slice(pure(n), i, pat).discrete_only().with_hap(speed).op(">", pure({"unit": "c"}), "left")


def _ribbon(offset: Any, cycles: Any, pat: Pattern) -> Pattern:
    """Strudel's ribbon (Tidal has none): pat.early(offset).restart(pure(1).slow(cycles)): the `cycles`
    cycles from `offset` on, looped."""
    cycles = to_time(cycles)
    if cycles <= 0:
        return silence
    shifted = pat._early(offset)
    q = pure(1)._slow(cycles)._query

    def query(span: TimeSpan) -> list[Hap]:
        out = []
        for outer in q(span):
            for h in shifted._late(outer.whole.begin).query(span):
                whole = h.whole.intersection(outer.whole) if h.whole is not None else None
                part = h.part.intersection(outer.part)
                if part is not None and (whole is not None or h.whole is None):
                    out.append(Hap(whole, part, h.value))
        return out

    return Pattern(query)


def _lift(f: Callable[..., Pattern]) -> Callable[..., Pattern]:
    """Numeric arguments may be patterns (inner-joined, as Tidal's tParam)."""
    return patternify(f)


def _with_transform(f: Callable[..., Pattern], n_before: int) -> Callable[..., Pattern]:
    """Lift `f(*nums, func, pat)`: the numeric arguments may be patterns, the function is passed along."""

    def g(*args: Any) -> Pattern:
        nums, func, pat = args[:n_before], args[n_before], args[-1]
        return patternify(lambda *a: f(*a[:-1], func, a[-1]))(*nums, pat)

    return g


def _with_count(name: str, f: Callable[..., Pattern]) -> Callable[..., Pattern]:
    """Lift `f(n, index, pat)`: n (a count of parts, at least 1) is inner-joined, as Tidal's bite, chew and
    splice join npat; the index pattern is passed along as a pattern (it gives the structure)."""

    def g(n: Any, index: Any, pat: Pattern) -> Pattern:
        if not isinstance(n, Pattern):
            _positive_count(name, "n", n)
        return patternify(lambda n, p: f(n, index, p) if _int(n) >= 1 else silence)(n, pat)

    return g


def _fit_transform(step: Any, xs: Pattern, pat: Pattern) -> Pattern:
    values = _fit_values(xs)
    return patternify(lambda s, p: _fit(s, values, p))(step, pat)


def _slice_transform(n: Any, index: Any, pat: Pattern) -> Pattern:
    if not isinstance(n, Pattern):
        _positive_count("slice", "n", n)
    return _slice(n, index, pat)


def _inhabit(named: tuple, pat: Pattern) -> Pattern:
    """Tidal's inhabit: each event's value names a pattern, squeezed into the event (unknown names: silence)."""
    table = dict(named)
    return pat.fmap(lambda name: table.get(name, silence)).squeeze_join()


def _sometimes(p: float) -> Callable[[PatternFn, Pattern], Pattern]:
    return lambda f, pat: _sometimes_by(p, f, pat)


# ---------------------------------------------------------------------------------------------------------
# Registry

_P = Param
_F = _P("f", TRANSFORM, "the transform to apply")


define("fast", (_P("factor", PATTERN),), _lift(lambda x, p: p._fast(_not_negative("fast", x))),
       "play `factor` times faster")
define("slow", (_P("factor", PATTERN),), _lift(lambda x, p: p._slow(_not_negative("slow", x))),
       "play `factor` times slower")
define("hurry", (_P("factor", PATTERN),), _lift(_hurry), "fast, and multiply the \"speed\" control")
define("rev", (), lambda p: p.rev(), "reverse each cycle")
define("early", (_P("time", PATTERN),), _lift(lambda t, p: p._early(t)), "shift earlier by `time` cycles")
define("late", (_P("time", PATTERN),), _lift(lambda t, p: p._late(t)), "shift later by `time` cycles")
define("every", (_P("n", INT_PATTERN), _F), _with_transform(_every, 1), "apply f in cycles 0, n, 2n, ...")
define("whenmod", (_P("a", PATTERN), _P("b", PATTERN), _F), _with_transform(_whenmod, 2),
       "apply f in cycles where cycle mod a >= b")
define("sometimesBy", (_P("probability", PATTERN), _F), _with_transform(_sometimes_by, 1),
       "apply f to each event with the given probability")
define("sometimes", (_F,), _sometimes(0.5), "sometimesBy 0.5")
define("often", (_F,), _sometimes(0.75), "sometimesBy 0.75")
define("rarely", (_F,), _sometimes(0.25), "sometimesBy 0.25")
define("almostNever", (_F,), _sometimes(0.1), "sometimesBy 0.1")
define("almostAlways", (_F,), _sometimes(0.9), "sometimesBy 0.9")
define("always", (_F,), lambda f, p: f(p), "apply f")
define("never", (_F,), lambda f, p: p, "leave the pattern as it is")
define("degrade", (), lambda p: p._degrade_by(0.5), "drop half of the events at random (deterministic)")
define("degradeBy", (_P("probability", PATTERN),), _lift(lambda x, p: p._degrade_by(x)),
       "drop each event with the given probability")
define("undegradeBy", (_P("probability", PATTERN),), _lift(lambda x, p: p._undegrade_by(x)),
       "keep exactly the events degradeBy (1 - probability) would drop")
define("off", (_P("time", PATTERN), _F), _with_transform(_off, 1),
       "stack the pattern with f of a copy `time` cycles later")
define("layer", (_P("fs", TRANSFORMS_LIST),), lambda fs, p: stack(*(f(p) for f in fs)),
       "stack the results of each transform of the list on the pattern (Tidal's layer)")
define("superimpose", (_F,), lambda f, p: stack(p, f(p)), "stack the pattern with f of it")
define("jux", (_F,), lambda f, p: _jux_by(1, f, p), "original panned left (pan 0), f of it right (pan 1)")
define("juxBy", (_P("amount", PATTERN), _F), _with_transform(_jux_by, 1),
       "original panned to 0.5 - amount/2, f of it to 0.5 + amount/2")
define("stut", (_P("count", INT), _P("time", PATTERN), _P("decay", PATTERN)), _lift(_stut),
       "count echoes `time` cycles apart, echo i with gain * decay**i (Phonon's order)")
define("ply", (_P("n", PATTERN),), _lift(lambda n, p: p._ply(n)), "repeat each event n times within its span")
define("iter", (_P("n", INT_PATTERN),), _lift(_iter), "cycle c starts c/n of the way into the cycle")
define("palindrome", (), _palindrome, "every other cycle reversed")
define("chunk", (_P("n", INT_PATTERN), _F), _with_transform(_chunk, 1),
       "apply f to the (c mod n)-th of n parts of cycle c")
define("swingBy", (_P("amount", PATTERN), _P("n", PATTERN)), _lift(_swing_by),
       "delay the second half of each 1/n slice by amount/n")
define("swing", (_P("n", PATTERN),), _lift(lambda n, p: _swing_by(Fraction(1, 3), n, p)), "swingBy 1/3")
define("segment", (_P("n", PATTERN),), _lift(lambda n, p: p._segment(n)), "sample the pattern n times per cycle")
define("struct", (_P("structure", PATTERN),), _struct, "impose the structure of a pattern of true/false")
define("euclid", (_P("pulses", INT_PATTERN), _P("steps", INT_PATTERN)), _lift(lambda k, n, p: p._euclid(k, n)),
       "Euclidean rhythm (Bjorklund) as structure")
define("euclidOff", (_P("pulses", INT_PATTERN), _P("steps", INT_PATTERN), _P("rotation", INT_PATTERN)),
       _lift(lambda k, n, r, p: p._euclid(k, n, r)), "Euclidean rhythm rotated left by `rotation` steps")
define("chop", (_P("n", INT_PATTERN),), _lift(_chop), "cut each event (sample) into n parts")
define("striate", (_P("n", INT_PATTERN),), _lift(_striate), "interlace n parts of every sample")
define("legato", (_P("amount", PATTERN),), _legato, "set the \"legato\" control (duration relative to the event)")
define("inside", (_P("n", PATTERN), _F), _with_transform(_inside, 1), "apply f to the pattern slowed by n")
define("outside", (_P("n", PATTERN), _F), _with_transform(_outside, 1), "apply f to the pattern sped up by n")
define("within", (_P("begin", NUMBER), _P("end", NUMBER), _F), _within,
       "apply f to the events starting in [begin, end) of each cycle")
define("zoom", (_P("begin", NUMBER), _P("end", NUMBER)), lambda b, e, p: p._zoom(b, e),
       "play only [begin, end) of each cycle, stretched to the cycle")
# Tidal's UI.hs, Control.hs and Core.hs (module doc: differences from Strudel)
define("mask", (_P("structure", PATTERN),), _mask,
       "keep the events (fragments) where the boolean pattern is true; structure from the pattern")
define("rot", (_P("n", INT_PATTERN),), _lift(_rot),
       "shift each cycle's values n events to the left, keeping the rhythm")
define("linger", (_P("fraction", PATTERN),), _lift(_linger),
       "repeat the first `fraction` of each cycle (the last when negative) to fill the cycle")
define("trunc", (_P("fraction", PATTERN),), _lift(_trunc), "play only the first `fraction` of each cycle")
define("fit", (_P("step", INT_PATTERN), _P("list", PATTERN)), _fit_transform,
       "values as places in the list (its first cycle), moving `step` places on each cycle")
define("echo", (_P("count", INT_PATTERN), _P("time", PATTERN), _P("feedback", PATTERN)), _lift(_echo),
       "count copies `time` cycles apart, copy k with gain * feedback**k (Tidal's order)")
define("echoWith", (_P("count", INT_PATTERN), _P("time", PATTERN), _F), _with_transform(_echo_with, 2),
       "count copies `time` cycles apart, copy k with f applied k times", aliases=("stutWith",))
define("brak", (), _brak, "odd cycles squashed into half a cycle, a quarter cycle late (a breakbeat feel)")
define("loopAt", (_P("cycles", PATTERN),), _loop_at,
       "slow by `cycles`, \"speed\" * 1/cycles and \"unit\" \"c\": a sample stretched over that many cycles")
define("slice", (_P("n", INT_PATTERN), _P("index", INT_PATTERN)), _slice_transform,
       "play slice `index` of n of the sample (\"begin\"/\"end\"), with the index pattern's structure")
define("splice", (_P("n", INT_PATTERN), _P("index", INT_PATTERN)), _with_count("splice", _splice),
       "slice, with \"speed\" fitting each slice to its event (\"unit\" \"c\")")
define("bite", (_P("n", INT_PATTERN), _P("index", INT_PATTERN)), _with_count("bite", _bite),
       "cut each cycle in n parts and play them as the index pattern says, squeezed into its events")
define("chew", (_P("n", INT_PATTERN), _P("index", INT_PATTERN)), _with_count("chew", _chew),
       "bite, with \"speed\" following how much each part is squeezed or stretched")
define("press", (), lambda p: _press_by(Fraction(1, 2), p), "each event moved to the second half of its span")
define("pressBy", (_P("amount", PATTERN),), _lift(_press_by),
       "each event squeezed into its span from `amount` (0..1) of the way in")
define("ribbon", (_P("offset", PATTERN), _P("cycles", PATTERN)), _lift(_ribbon),
       "loop the `cycles` cycles starting at cycle `offset` (Strudel's)")
define("ghost", (), _ghost, "ghost notes: quieter, shorter, higher copies 3/16 and 5/16 of a cycle later")
define("someCyclesBy", (_P("probability", PATTERN), _F), _with_transform(_some_cycles_by, 1),
       "apply f to whole cycles, each with the given probability", aliases=("somecyclesBy",))
define("someCycles", (_F,), lambda f, p: _some_cycles_by(0.5, f, p), "someCyclesBy 0.5", aliases=("somecycles",))
define("everyOffset", (_P("n", INT_PATTERN), _P("offset", INT_PATTERN), _F), _every_offset,
       "Tidal's every' (a name with ' cannot be written): apply f in cycles where cycle mod n == offset")
define("fastGap", (_P("factor", PATTERN),), _lift(_fast_gap),
       "squeeze each cycle into its first 1/factor, leaving a gap")
define("inhabit", (_P("patterns", NAMED),), _inhabit,
       "each event's value names a pattern of the list, squeezed into the event")
define("compress", (_P("begin", PATTERN), _P("end", PATTERN)), _lift(lambda b, e, p: p._compress(b, e)),
       "squeeze each cycle into [begin, end) of the cycle, silence elsewhere")
define("degradeBySeed", (_P("probability", PATTERN), _P("seed", INT)), lambda x, seed, p: _lift(lambda a, q: q._degrade_by(a, seed))(x, p),
       "degradeBy with another random stream: seed n is the n-th `?` of mini-notation")
# continuous values and chance (graph/patterns/signals.py)
define("range", (_P("lo", PATTERN), _P("hi", PATTERN)), signals.range_, "scale 0..1 to lo..hi (`range 200 2000 sine`)")
define("rangex", (_P("lo", NUMBER), _P("hi", NUMBER)), signals.rangex, "scale 0..1 to lo..hi exponentially")
define("quantise", (_P("n", NUMBER),), signals.quantise, "round to the nearest 1/n (halves to even)")
define("shuffle", (_P("n", INT_PATTERN),), signals.shuffle, "the n parts of each cycle in a random order")
define("scramble", (_P("n", INT_PATTERN),), signals.scramble, "n random picks of the n parts of each cycle")
define("undegrade", (), signals.undegrade, "the events degrade drops")
# harmony (graph/patterns/harmony.py)
define("toScale", (_P("steps", NUMBERS),), harmony.to_scale, "degrees into a scale given as its steps")
define("scale", (_P("name", PATTERN),), harmony.scale, "degrees into a named scale (\"major\", \"C:minor\")")
define("arp", (_P("mode", PATTERN),), harmony.arp, "play stacked chords one note after another (up down updown ...)")
define("arpeggiate", (), harmony.arpeggiate, "arp \"up\"", aliases=("arpg",))
define("rolled", (), harmony.rolled, "strum each chord over the first quarter of its event")
define("rolledBy", (_P("amount", PATTERN),), harmony.rolled_by, "strum each chord over a fraction of its event")
define("transpose", (_P("semitones", PATTERN),), harmony.transpose, "add semitones, keeping notes notes")


def suggest(name: str) -> list[str]:
    """Names close to an unknown transform name, for "did you mean" messages."""
    return difflib.get_close_matches(name, TRANSFORMS, n=3, cutoff=0.6)
