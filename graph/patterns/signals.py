"""Continuous patterns (signals) and the random choices built on them, as Tidal defines them.

A signal is a pattern without structure: each query returns one hap with no `whole` (`whole=None`) spanning
the query, valued by a function of time. A signal makes no sound on its own; a discrete pattern samples it,
`segment 4 sine` or `n "0*4" # pan sine` (structure from the left, Tidal's `<*`), and the value an event gets
is the signal's value over that event's WHOLE: the right side of `<*`/`*>` is queried over the left event's
whole, and Tidal's `sig` answers with its function at the MIDPOINT of the query. So `segment 4 sine` gives
sine at 1/8, 3/8, 5/8, 7/8, not at the onsets.

Definitions are Tidal's (Sound.Tidal.Core: sig, sine .. envEqR; Sound.Tidal.UI: rand, irand, perlinWith,
chooseBy, wchooseBy, randcat, wrandcat, randrun, shuffle, scramble, range, rangex, quantise; Tidal 1.9, read
in the tidalcycles/Tidal repository). Where Strudel 1.2.5 (@strudel/core signal.mjs) differs, Tidal wins:

  sampling point  Tidal's `sig` (and `rand`) take the value at the query's midpoint; Strudel 1.2.5's `signal`
                  at its begin (Strudel's main branch has since moved to the midpoint). `core.signal` and
                  `core.rand` keep Strudel's begin, because mini-notation's `?`/`|` reproduce Strudel exactly
                  with them; the signals here are new patterns and leave those alone.
  cosine          Tidal: `0.25 ~> sine` (a quarter cycle LATER, so cosine starts at 0); Strudel:
                  `sine.early(1/4)` (starts at 1). Same for cosine2.
  negative time   saw, isaw, square: Tidal's `mod'` floors (saw at -1/4 is 0.75); Strudel's `t % 1` truncates.
  randcat         Tidal rotates `slowcat ps` left by `irand n` cycles, chosen once per cycle; Strudel picks one
                  pattern per cycle (chooseInWith).
  wrandcat        Tidal joins with `unwrap` (wholes cut at cycle boundaries); Strudel innerJoins.
  shuffle         Tidal's randrun seeds each cycle's permutation at the cycle start; Strudel at cycle + 0.5.
  quantise        Tidal's (`quantise n`, round to the nearest 1/n, halves to even as Haskell's `round`);
                  Strudel has only `round` (halves up).
  envL .. envEqR  Tidal only.
  random numbers  Tidal's xorshift runs on 64-bit Haskell Ints, Strudel's on 32-bit JavaScript ints, so the
                  two give different numbers for the same time. Every random value here comes from
                  `core.time_to_rand` (Strudel's numbers: the mini-notation conformance depends on them), so
                  `rand` has Tidal's definition with Strudel's numbers.

Signals are deterministic (the same query always gives the same values) and cost one function call per hap.
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Callable, Sequence

from quicktions import Fraction

from .core import (
    FRACTIONS,
    Hap,
    Number,
    Pattern,
    TimeSpan,
    _int32,  # private: Tidal's timeToRands needs the integer seed that time_to_rand computes inside
    _xorwise,
    check_count,
    fastcat,
    patternify,
    reify,
    silence,
    slowcat,
    time_to_rand,
)

__all__ = [
    "sig", "sine", "cosine", "saw", "isaw", "tri", "square", "env_l", "env_lr", "env_eq", "env_eq_r",
    "sine2", "cosine2", "saw2", "isaw2", "tri2", "square2", "rand", "irand", "perlin", "perlin_with",
    "range_", "rangex", "quantise", "choose", "choose_by", "wchoose", "wchoose_by", "randcat", "wrandcat",
    "randrun", "shuffle", "scramble", "undegrade", "time_to_rands", "SIGNALS",
]


# ---------------------------------------------------------------------------------------------------------
# The signal constructor


def sig(f: Callable[[Fraction], Any]) -> Pattern:
    """Tidal's `sig`: one structureless hap per query, valued f(midpoint of the query). The midpoint makes
    a sampled value stand for the whole event that sampled it (and makes `rev` of a signal its mirror)."""

    def query(span: TimeSpan) -> list[Hap]:
        if span.begin > span.end:
            return []
        return [Hap(None, span, f(span.midpoint()))]

    return Pattern(query)


def _cycle_pos(t: Fraction) -> Fraction:
    """Tidal's `mod' t 1`: the position in the cycle, floored, so negative times wrap into [0, 1) too."""
    return t - math.floor(t)


def _sine_at(t: Fraction) -> float:
    return math.sin(math.tau * float(t))


# ---------------------------------------------------------------------------------------------------------
# Waveforms (Sound.Tidal.Core)

sine2 = sig(_sine_at)
sine = sig(lambda t: (_sine_at(t) + 1) / 2)
cosine = sine._late(Fraction(1, 4))  # Tidal: 0.25 ~> sine (Strudel shifts the other way)
cosine2 = sine2._late(Fraction(1, 4))
saw = sig(lambda t: float(_cycle_pos(t)))
saw2 = sig(lambda t: float(_cycle_pos(t)) * 2 - 1)
isaw = saw.fmap(lambda v: 1 - v)
isaw2 = saw2.fmap(lambda v: -v)  # Tidal: (* (-1)) <$> saw2
tri = fastcat(saw, isaw)  # Tidal's fastAppend saw isaw: up in the first half cycle, down in the second
tri2 = fastcat(saw2, isaw2)
square = sig(lambda t: float(math.floor(_cycle_pos(t) * 2)))
square2 = sig(lambda t: float(math.floor(_cycle_pos(t) * 2) * 2 - 1))

# Envelopes over the first cycle (Tidal's envL, envLR, envEq, envEqR), for fades: envL rises 0 -> 1 and stays,
# envEq is the equal-power fade out (1 -> 0), envEqR the equal-power fade in.
env_l = sig(lambda t: max(0.0, min(float(t), 1.0)))
env_lr = env_l.fmap(lambda v: 1 - v)
env_eq = sig(lambda t: math.sqrt(math.sin(math.pi / 2 * max(0.0, min(float(1 - t), 1.0)))))
env_eq_r = sig(lambda t: math.sqrt(math.cos(math.pi / 2 * max(0.0, min(float(1 - t), 1.0)))))


# ---------------------------------------------------------------------------------------------------------
# Randomness (Sound.Tidal.UI)

rand = sig(time_to_rand)
"""Tidal's rand: timeToRand of the query's midpoint, in [0, 1). (`core.rand` samples the begin, as Strudel.)"""


def _irand(n: Number) -> Pattern:
    return rand.fmap(lambda r: int(math.floor(r * n)))


def irand(n: "Number | Pattern | str") -> Pattern:
    """Random whole numbers 0 .. n-1 (Tidal's `irand = (>>= _irand)`: n may be a pattern, bound per event)."""
    return reify(n).bind(_irand)


def _smootherstep(x: float) -> float:
    return 6.0 * x**5 - 15.0 * x**4 + 10.0 * x**3


def _ease(x: float) -> Callable[[float], Callable[[float], float]]:
    """Tidal's perlin `interp x a b`, curried for the applicative chain."""
    return lambda a: lambda b: a + _smootherstep(x) * (b - a)


def perlin_with(p: "Pattern | Number | str") -> Pattern:
    """Tidal's perlinWith: 1-D noise over the values of `p`, easing (smootherstep) from timeToRand of
    floor(x) to timeToRand of floor(x) + 1, so it is continuous where `p` is and random at each integer."""
    p = reify(p)
    below = p.fmap(lambda x: float(math.floor(x)))
    above = p.fmap(lambda x: float(math.floor(x) + 1))
    return (p - below).fmap(_ease).app_both(below.fmap(time_to_rand)).app_both(above.fmap(time_to_rand))


perlin = perlin_with(sig(float))
"""Tidal's perlin: perlinWith (sig fromRational), a new random target every cycle."""


def time_to_rands(t: Number, n: int) -> list[float]:
    """Tidal's timeToRands: n pseudo-random floats in [0, 1) from one time, by iterating the xorshift on
    `time_to_rand`'s seed, so time_to_rands(t, 1) == [time_to_rand(t)]."""
    x = float(t.numerator) / float(t.denominator) if isinstance(t, FRACTIONS) else float(t)
    seed = _xorwise(_int32(math.trunc((x / 300 - math.trunc(x / 300)) * 536870912)))
    out = []
    for _ in range(n):
        out.append((abs(seed) % 536870912) / 536870912)
        seed = _xorwise(seed)
    return out


# ---------------------------------------------------------------------------------------------------------
# Scaling


def range_(lo: "Number | Pattern | str", hi: "Number | Pattern | str", pat: "Pattern | str") -> Pattern:
    """Tidal's range: v -> v * (hi - lo) + lo, structure from `pat` (lo and hi may be patterns). Named with
    an underscore because `range` is Python's."""
    scale = reify(lo).fmap(lambda a: lambda b: lambda v: v * (b - a) + a)
    return scale.app_right(reify(hi)).app_right(reify(pat))


def rangex(lo: Number, hi: Number, pat: "Pattern | str") -> Pattern:
    """Tidal's rangex: range on a logarithmic scale (for frequencies); lo and hi must be positive."""
    log_lo, log_hi = math.log(lo), math.log(hi)
    return reify(pat).fmap(lambda v: math.exp(v * (log_hi - log_lo) + log_lo))


def quantise(n: Number, pat: "Pattern | str") -> Pattern:
    """Tidal's quantise: round each value to the nearest multiple of 1/n, halves to even (Haskell's round,
    Python's round): quantise 1 rounds to whole numbers."""
    return reify(pat).fmap(lambda v: round(v * n) / n)


# ---------------------------------------------------------------------------------------------------------
# Choosing


def choose_by(selector: "Pattern | str", values: Sequence[Any]) -> Pattern:
    """Tidal's chooseBy: the value at floor(selector * len) (selector in 0..1), structure from `selector`."""
    values = list(values)
    if not values:
        return silence
    return range_(0, len(values), selector).fmap(lambda r: values[math.floor(r) % len(values)])


def choose(values: Sequence[Any]) -> Pattern:
    """A random one of `values`, as a signal (Tidal's choose = chooseBy rand): give it structure to hear it."""
    return choose_by(rand, values)


def wchoose_by(selector: "Pattern | str", pairs: Sequence[tuple[Any, Number]]) -> Pattern:
    """Tidal's wchooseBy: the first value whose cumulative weight exceeds selector * total weight (the last
    value if none does, where Tidal fails: all weights 0)."""
    values = [v for v, _ in pairs]
    bounds = list(itertools.accumulate(w for _, w in pairs))
    if not values:
        return silence

    def match(r: float) -> Any:
        find = r * bounds[-1]
        return next((v for v, bound in zip(values, bounds) if bound > find), values[-1])

    return reify(selector).fmap(match)


def wchoose(pairs: Sequence[tuple[Any, Number]]) -> Pattern:
    """A random value, each as likely as its weight: wchoose [("a", 1), ("b", 2)] (Tidal's wchooseBy rand)."""
    return wchoose_by(rand, pairs)


def randcat(pats: Sequence["Pattern | str"]) -> Pattern:
    """Tidal's randcat: `slowcat pats` shifted by a random whole number of cycles, drawn once per cycle, so
    each cycle plays one of the patterns (the events cut at the cycle's edges)."""
    pats = [reify(p) for p in pats]
    if not pats:
        return silence
    cat = slowcat(*pats)
    return _irand(len(pats))._segment(1).bind(lambda i: cat._early(i))


def wrandcat(pairs: Sequence[tuple["Pattern | str", Number]]) -> Pattern:
    """Tidal's wrandcat: one of the patterns per cycle, each as likely as its weight."""
    return wchoose_by(rand._segment(1), [(reify(p), w) for p, w in pairs]).bind(lambda p: p)


# ---------------------------------------------------------------------------------------------------------
# Rearranging parts of a cycle


def randrun(n: int) -> Pattern:
    """Tidal's randrun: each cycle, 0 .. n-1 in a random order as n equal steps, the order sorting
    time_to_rands(cycle start, n). Cycle 0 keeps 0 .. n-1 in order, as in Tidal (its seed is 0)."""
    if n <= 0:
        return silence
    check_count(n, "steps of randrun")

    def query(span: TimeSpan) -> list[Hap]:
        cycle = Fraction(math.floor(span.begin))
        rands = time_to_rands(cycle, n)
        order = sorted(range(n), key=rands.__getitem__)  # stable, as Tidal's sortOn fst
        haps = []
        for step, value in enumerate(order):
            whole = TimeSpan(cycle + Fraction(step, n), cycle + Fraction(step + 1, n))
            part = span.intersection(whole)
            if part is not None:
                haps.append(Hap(whole, part, value))
        return haps

    return Pattern(query).split_queries()


def _rearrange_with(indices: Pattern, n: int, pat: Pattern) -> Pattern:
    """Tidal's _rearrangeWith: step k of each cycle plays part `indices[k]` of the n equal parts of `pat`."""
    check_count(n, "parts to rearrange")
    parts = [pat._zoom(Fraction(i, n), Fraction(i + 1, n)) for i in range(n)]
    return indices.fmap(lambda i: parts[i]._repeat_cycles(n)._fast(n)).inner_join()


def _shuffle(n: Any, pat: Pattern) -> Pattern:
    n = int(n)
    return _rearrange_with(randrun(n), n, pat) if n > 0 else silence


def _scramble(n: Any, pat: Pattern) -> Pattern:
    n = int(n)
    return _rearrange_with(_irand(n)._segment(n), n, pat) if n > 0 else silence


def shuffle(n: "int | Pattern | str", pat: "Pattern | str") -> Pattern:
    """Tidal's shuffle: the n parts of each cycle in a random order, each part once (cycle 0 in order)."""
    return patternify(_shuffle)(n, reify(pat))


def scramble(n: "int | Pattern | str", pat: "Pattern | str") -> Pattern:
    """Tidal's scramble: n random picks (with repeats) from the n parts of each cycle."""
    return patternify(_scramble)(n, reify(pat))


def undegrade(pat: "Pattern | str") -> Pattern:
    """The events `degrade` drops (Strudel's undegrade; core and TRANSFORMS have undegradeBy only)."""
    return reify(pat)._undegrade_by(0.5)


# ---------------------------------------------------------------------------------------------------------
# Registry, for the compiler


SIGNALS: dict[str, Pattern] = {
    "sine": sine, "cosine": cosine, "saw": saw, "isaw": isaw, "tri": tri, "square": square,
    "sine2": sine2, "cosine2": cosine2, "saw2": saw2, "isaw2": isaw2, "tri2": tri2, "square2": square2,
    "envL": env_l, "envLR": env_lr, "envR": env_lr, "envEq": env_eq, "envEqR": env_eq_r,
    "rand": rand, "perlin": perlin,
}
