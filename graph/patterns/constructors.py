"""Pattern constructors by name, for the compiler: functions that make a pattern from their arguments rather
than transform one (`cat "bd sn" "hh*2"`, `run 4`, `choose [0, 2, 7]`, `silence`), as Tidal and Strudel have
them. Each is one `Constructor`: its name, aliases, parameters (the kinds of graph/patterns/registry.py) and
function. A constructor whose one parameter is "patterns" is variadic: `cat "a" "b"` and `cat ["a", "b"]` are
the same. "int-pattern" arguments are inner-joined as Tidal's patterned arguments are (`run "<4 8>"` counts to
4 in even cycles and to 8 in odd ones).

squeeze is Tidal's (`squeeze ipat ps`: the index pattern's events, each filled with pattern i mod len
squeezed into it); Strudel's squeeze picks by name as well as by index."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

from . import signals
from .core import Pattern, check_count, fastcat, reify, silence, slowcat, stack
from .registry import INT_PATTERN, PATTERN, PATTERNS, VALUES, WEIGHTED, WEIGHTED_PATTERNS, Param, Transform


@dataclass(frozen=True)
class Constructor:
    name: str
    params: tuple[Param, ...]
    fn: Callable[..., Pattern]
    doc: str
    aliases: tuple[str, ...] = ()

    @property
    def variadic(self) -> bool:
        return len(self.params) == 1 and self.params[0].kind == PATTERNS

    def build(self, *args: Any) -> Pattern:
        """The pattern for these arguments (numbers, mini-notation strings, patterns, lists and pairs as the
        parameters say). Raises ValueError (a TransformError) naming what is wrong."""
        if self.variadic:
            return self.fn(*(reify(a) for a in args))
        return self.fn(*Transform(self.name, self.params, self.fn).convert(args))


def _whole(name: str, n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, float)) or n != n or abs(n) == float("inf"):
        raise ValueError(f"{name} takes whole numbers, not {n!r}")
    return int(n)


def _counted(name: str, fn: Callable[[int], Pattern]) -> Callable[[Any], Pattern]:
    """fn of a whole number, given a pattern of them (inner-joined) or one."""
    return lambda n: reify(n).inner_bind(lambda v: fn(_whole(name, v)))


def _run(n: int) -> Pattern:
    """0, 1, ..., n - 1 in one cycle (Tidal's run); nothing for n <= 0."""
    if n <= 0:
        return silence
    check_count(n, "steps of run")
    return fastcat(*(reify(i) for i in range(n)))


def _squeeze(index: Any, pats: tuple) -> Pattern:
    pats = [reify(p) for p in pats]
    return reify(index).fmap(lambda i: pats[math.floor(i) % len(pats)]).squeeze_join()


_N = (Param("n", INT_PATTERN),)
_PATS = (Param("patterns", PATTERNS),)
_DEFINED = (
    Constructor("cat", _PATS, slowcat, "one pattern per cycle, in turn (Tidal's cat, Strudel's cat)", ("slowcat",)),
    Constructor("fastcat", _PATS, fastcat, "all the patterns in one cycle, each in an equal step", ("seq",)),
    Constructor("stack", _PATS, stack, "the patterns at the same time"),
    Constructor("run", _N, _counted("run", _run), "0 .. n-1 in one cycle"),
    Constructor("silence", _PATS, lambda: silence, "no events"),
    Constructor("irand", _N, _counted("irand", signals.irand), "random whole numbers 0 .. n-1 (continuous: sample it)"),
    Constructor("randrun", _N, _counted("randrun", signals.randrun), "0 .. n-1 in a random order each cycle"),
    Constructor("randcat", _PATS, lambda *ps: signals.randcat(ps) if ps else silence,
                "one of the patterns per cycle, at random"),
    Constructor("wrandcat", (Param("pairs", WEIGHTED_PATTERNS),), signals.wrandcat,
                "one of the patterns per cycle, each as likely as its weight"),
    Constructor("choose", (Param("values", VALUES),), signals.choose,
                "a random one of the values (continuous: sample it, `segment 4 $ choose [0, 2, 7]`)"),
    Constructor("chooseBy", (Param("selector", PATTERN), Param("values", VALUES)), signals.choose_by,
                "the value at selector (0..1) of the way through the list"),
    Constructor("wchoose", (Param("pairs", WEIGHTED),), signals.wchoose,
                "a random value, each as likely as its weight (continuous)"),
    Constructor("wchooseBy", (Param("selector", PATTERN), Param("pairs", WEIGHTED)), signals.wchoose_by,
                "the value whose share of the total weight holds selector (0..1)"),
    Constructor("squeeze", (Param("index", INT_PATTERN), Param("patterns", PATTERNS)), _squeeze,
                "each event of the index pattern filled with that pattern of the list, squeezed into it"),
)

CONSTRUCTORS: dict[str, Constructor] = {name: c for c in _DEFINED for name in (c.name, *c.aliases)}
