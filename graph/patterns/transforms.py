"""Pattern transforms by name, for the compiler: `TRANSFORMS["every"](3, TRANSFORMS["fast"](2))` is a
function Pattern -> Pattern, as `every 3 (fast 2)` in a program.

Each `Transform` lists its parameters with a kind:
  "pattern"      a number, a mini-notation string or a Pattern; a patterned value is inner-joined
                 (Tidal's tParam), so `fast "<1 2>"` is fast 1 in even cycles and fast 2 in odd ones;
  "int-pattern"  the same, for whole numbers (a constant must be an integer; patterned values are floored);
  "int"          a constant integer;   "number"  a constant number;
  "transform"    a function Pattern -> Pattern (another built transform).
`Transform.build(*args)` checks and converts the arguments and raises `TransformError` (a ValueError that
names the transform and the parameter) instead of building something that fails later.

Randomness (`sometimes`, `degradeBy`, ...) is per event, from Tidal's `timeToRand` of the event onset, with
Tidal's probabilities: often 0.75, sometimes 0.5, rarely 0.25, almostNever 0.1, almostAlways 0.9.

Control maps: transforms that set controls (jux, juxBy: "pan"; chop, striate: "begin"/"end"; stut: "gain";
hurry: "speed"; legato: "legato") turn each value into a dict first: dicts are kept, any other value v
becomes {"value": v} (`core.control_map`); the consumer reads "value" in its context (the sample name under
`s`). Pan is Phonon's -1..1: `jux f` pans the original to -1 and f's copy to +1, `juxBy a f` to -a and +a.

`stut count time decay` takes Phonon's argument order (Tidal's is count, feedback, time): `count` copies,
each `time` cycles later than the one before, copy i with its gain multiplied by decay**i.
"""

from __future__ import annotations

import difflib
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
    to_time,
)
from . import harmony, signals
from .mini import parse_mini

__all__ = ["TRANSFORMS", "Transform", "Param", "TransformError", "BuiltTransform", "suggest"]

PatternFn = Callable[[Pattern], Pattern]

PATTERN = "pattern"
INT_PATTERN = "int-pattern"
INT = "int"
NUMBER = "number"
TRANSFORM = "transform"


class TransformError(ValueError):
    """Bad arguments for a transform; the message names the transform and the parameter."""


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    doc: str = ""


class BuiltTransform:
    """A transform with its arguments bound: call it on a Pattern. `repr` shows the source form."""

    __slots__ = ("name", "args", "_fn")

    def __init__(self, name: str, args: tuple, fn: PatternFn):
        self.name, self.args, self._fn = name, args, fn

    def __call__(self, pat: Pattern) -> Pattern:
        return self._fn(pat)

    def __repr__(self) -> str:
        return " ".join([self.name] + [_show_arg(a) for a in self.args])


def _show_arg(a: Any) -> str:
    if isinstance(a, BuiltTransform):
        return f"({a!r})" if a.args else a.name
    if isinstance(a, str):
        return f'"{a}"'
    if isinstance(a, Pattern):
        return "<pattern>"
    if callable(a):
        return getattr(a, "__name__", "<function>")
    return str(a)


@dataclass(frozen=True)
class Transform:
    name: str
    params: tuple[Param, ...]
    fn: Callable[..., Pattern]  # fn(*args, pat)
    doc: str = ""

    @property
    def signature(self) -> str:
        return " ".join([self.name] + [f"{p.name}:{p.kind}" for p in self.params])

    def build(self, *args: Any) -> BuiltTransform:
        """Check and convert the arguments; the result maps a Pattern to the transformed Pattern."""
        if len(args) != len(self.params):
            names = " ".join(p.name for p in self.params) or "no arguments"
            raise TransformError(
                f"{self.name} takes {len(self.params)} argument{'s' * (len(self.params) != 1)} ({names}), "
                f"got {len(args)}")
        values = tuple(self._coerce(p, a) for p, a in zip(self.params, args))
        fn = self.fn
        return BuiltTransform(self.name, args, lambda pat: fn(*values, pat))

    __call__ = build

    def apply(self, pat: Pattern, *args: Any) -> Pattern:
        return self.build(*args)(pat)

    def _coerce(self, p: Param, a: Any) -> Any:
        def fail(what: str) -> TransformError:
            return TransformError(f"{self.name}: argument '{p.name}' must be {what}, got {a!r}")

        if p.kind == TRANSFORM:
            if isinstance(a, Pattern) or not callable(a):
                raise fail("a transform (such as `fast 2` or `rev`)")
            return a
        if p.kind in (PATTERN, INT_PATTERN):
            if isinstance(a, Pattern):
                return a
            if isinstance(a, str):
                return parse_mini(a)  # a MiniNotationError carries its own column
            if _is_number(a):
                if p.kind == INT_PATTERN and not float(a).is_integer():
                    raise fail("a whole number")
                return int(a) if p.kind == INT_PATTERN else a
            raise fail("a number or a pattern")
        if p.kind == INT:
            if _is_number(a) and float(a).is_integer():
                return int(a)
            raise fail("a whole number")
        if p.kind == NUMBER:
            if _is_number(a):
                return a
            raise fail("a number")
        raise AssertionError(p.kind)


def _is_number(a: Any) -> bool:
    return isinstance(a, (int, float, *FRACTIONS)) and not isinstance(a, bool) and math.isfinite(a)


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
    # Pan is set, not offset (Tidal's juxBy overrides it too), in Phonon's -1..1 range.
    left = pat.fmap(lambda v: {**control_map(v), "pan": -a})
    right = pat.fmap(lambda v: {**control_map(v), "pan": a})
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
    """f on the events whose onset lies in [b, e) of the cycle."""
    b, e = to_time(b), to_time(e)

    def inside(h: Hap) -> bool:
        pos = h.whole_or_part().begin % 1
        return b <= pos < e

    return stack(f(pat.filter_haps(inside)), pat.filter_haps(lambda h: not inside(h)))


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
    return pat.struct(bools)


def _lift(f: Callable[..., Pattern]) -> Callable[..., Pattern]:
    """Numeric arguments may be patterns (inner-joined, as Tidal's tParam)."""
    return patternify(f)


def _with_transform(f: Callable[..., Pattern], n_before: int) -> Callable[..., Pattern]:
    """Lift `f(*nums, func, pat)`: the numeric arguments may be patterns, the function is passed along."""

    def g(*args: Any) -> Pattern:
        nums, func, pat = args[:n_before], args[n_before], args[-1]
        return patternify(lambda *a: f(*a[:-1], func, a[-1]))(*nums, pat)

    return g


def _sometimes(p: float) -> Callable[[PatternFn, Pattern], Pattern]:
    return lambda f, pat: _sometimes_by(p, f, pat)


# ---------------------------------------------------------------------------------------------------------
# Registry

_P = Param
_F = _P("f", TRANSFORM, "the transform to apply")


def _t(name: str, params: tuple[Param, ...], fn: Callable[..., Pattern], doc: str) -> tuple[str, Transform]:
    return name, Transform(name, params, fn, doc)


TRANSFORMS: dict[str, Transform] = dict([
    _t("fast", (_P("factor", PATTERN),), lambda x, p: p.fast(_not_negative("fast", x)),
       "play `factor` times faster"),
    _t("slow", (_P("factor", PATTERN),), lambda x, p: p.slow(_not_negative("slow", x)),
       "play `factor` times slower"),
    _t("hurry", (_P("factor", PATTERN),), _lift(_hurry), "fast, and multiply the \"speed\" control"),
    _t("rev", (), lambda p: p.rev(), "reverse each cycle"),
    _t("early", (_P("time", PATTERN),), lambda t, p: p.early(t), "shift earlier by `time` cycles"),
    _t("late", (_P("time", PATTERN),), lambda t, p: p.late(t), "shift later by `time` cycles"),
    _t("every", (_P("n", INT_PATTERN), _F), _with_transform(_every, 1), "apply f in cycles 0, n, 2n, ..."),
    _t("whenmod", (_P("a", PATTERN), _P("b", PATTERN), _F), _with_transform(_whenmod, 2),
       "apply f in cycles where cycle mod a >= b"),
    _t("sometimesBy", (_P("probability", PATTERN), _F), _with_transform(_sometimes_by, 1),
       "apply f to each event with the given probability"),
    _t("sometimes", (_F,), _sometimes(0.5), "sometimesBy 0.5"),
    _t("often", (_F,), _sometimes(0.75), "sometimesBy 0.75"),
    _t("rarely", (_F,), _sometimes(0.25), "sometimesBy 0.25"),
    _t("almostNever", (_F,), _sometimes(0.1), "sometimesBy 0.1"),
    _t("almostAlways", (_F,), _sometimes(0.9), "sometimesBy 0.9"),
    _t("always", (_F,), lambda f, p: f(p), "apply f"),
    _t("never", (_F,), lambda f, p: p, "leave the pattern as it is"),
    _t("degrade", (), lambda p: p._degrade_by(0.5), "drop half of the events at random (deterministic)"),
    _t("degradeBy", (_P("probability", PATTERN),), lambda x, p: p.degrade_by(x),
       "drop each event with the given probability"),
    _t("undegradeBy", (_P("probability", PATTERN),), lambda x, p: p.undegrade_by(x),
       "keep exactly the events degradeBy (1 - probability) would drop"),
    _t("off", (_P("time", PATTERN), _F), _with_transform(_off, 1),
       "stack the pattern with f of a copy `time` cycles later"),
    _t("superimpose", (_F,), lambda f, p: stack(p, f(p)), "stack the pattern with f of it"),
    _t("jux", (_F,), lambda f, p: _jux_by(1, f, p), "original panned to -1, f of it to +1"),
    _t("juxBy", (_P("amount", PATTERN), _F), _with_transform(_jux_by, 1),
       "original panned to -amount, f of it to +amount"),
    _t("stut", (_P("count", INT), _P("time", PATTERN), _P("decay", PATTERN)), _lift(_stut),
       "count echoes `time` cycles apart, echo i with gain * decay**i (Phonon's order)"),
    _t("ply", (_P("n", PATTERN),), lambda n, p: p.ply(n), "repeat each event n times within its span"),
    _t("iter", (_P("n", INT_PATTERN),), _lift(_iter), "cycle c starts c/n of the way into the cycle"),
    _t("palindrome", (), _palindrome, "every other cycle reversed"),
    _t("chunk", (_P("n", INT_PATTERN), _F), _with_transform(_chunk, 1),
       "apply f to the (c mod n)-th of n parts of cycle c"),
    _t("swingBy", (_P("amount", PATTERN), _P("n", PATTERN)), _lift(_swing_by),
       "delay the second half of each 1/n slice by amount/n"),
    _t("swing", (_P("n", PATTERN),), _lift(lambda n, p: _swing_by(Fraction(1, 3), n, p)), "swingBy 1/3"),
    _t("segment", (_P("n", PATTERN),), lambda n, p: p.segment(n), "sample the pattern n times per cycle"),
    _t("struct", (_P("structure", PATTERN),), _struct, "impose the structure of a pattern of true/false"),
    _t("euclid", (_P("pulses", INT_PATTERN), _P("steps", INT_PATTERN)), lambda k, n, p: p.euclid(k, n),
       "Euclidean rhythm (Bjorklund) as structure"),
    _t("euclidOff", (_P("pulses", INT_PATTERN), _P("steps", INT_PATTERN), _P("rotation", INT_PATTERN)),
       lambda k, n, r, p: p.euclid(k, n, r), "Euclidean rhythm rotated left by `rotation` steps"),
    _t("chop", (_P("n", INT_PATTERN),), _lift(_chop), "cut each event (sample) into n parts"),
    _t("striate", (_P("n", INT_PATTERN),), _lift(_striate), "interlace n parts of every sample"),
    _t("legato", (_P("amount", PATTERN),), _legato, "set the \"legato\" control (duration relative to the event)"),
    _t("inside", (_P("n", PATTERN), _F), _with_transform(_inside, 1), "apply f to the pattern slowed by n"),
    _t("outside", (_P("n", PATTERN), _F), _with_transform(_outside, 1), "apply f to the pattern sped up by n"),
    _t("within", (_P("begin", NUMBER), _P("end", NUMBER), _F), _within,
       "apply f to the events starting in [begin, end) of each cycle"),
    _t("zoom", (_P("begin", NUMBER), _P("end", NUMBER)), lambda b, e, p: p._zoom(b, e),
       "play only [begin, end) of each cycle, stretched to the cycle"),
    # continuous values and chance (graph/patterns/signals.py)
    _t("range", (_P("lo", PATTERN), _P("hi", PATTERN)), signals.range_, "scale 0..1 to lo..hi (`range 200 2000 sine`)"),
    _t("rangex", (_P("lo", NUMBER), _P("hi", NUMBER)), signals.rangex, "scale 0..1 to lo..hi exponentially"),
    _t("quantise", (_P("n", NUMBER),), signals.quantise, "round to the nearest 1/n (halves to even)"),
    _t("shuffle", (_P("n", INT_PATTERN),), signals.shuffle, "the n parts of each cycle in a random order"),
    _t("scramble", (_P("n", INT_PATTERN),), signals.scramble, "n random picks of the n parts of each cycle"),
    _t("undegrade", (), signals.undegrade, "the events degrade drops"),
    # harmony (graph/patterns/harmony.py)
    _t("scale", (_P("name", PATTERN),), harmony.scale, "degrees into a named scale (\"major\", \"C:minor\")"),
    _t("arp", (_P("mode", PATTERN),), harmony.arp, "play stacked chords one note after another (up down updown ...)"),
    _t("arpeggiate", (), harmony.arpeggiate, "arp \"up\""),
    _t("arpg", (), harmony.arpeggiate, "arp \"up\""),
    _t("rolled", (), harmony.rolled, "strum each chord over the first quarter of its event"),
    _t("rolledBy", (_P("amount", PATTERN),), harmony.rolled_by, "strum each chord over a fraction of its event"),
    _t("transpose", (_P("semitones", PATTERN),), harmony.transpose, "add semitones, keeping notes notes"),
])


def suggest(name: str) -> list[str]:
    """Names close to an unknown transform name, for "did you mean" messages."""
    return difflib.get_close_matches(name, TRANSFORMS, n=3, cutoff=0.6)
