"""Pattern constructors by name, for the compiler: functions that make a pattern from their arguments rather
than transform one (`cat "bd sn" "hh*2"`, `run 4`, `silence`), as Tidal and Strudel have them.

Each `Constructor` names its aliases and its arguments' kind: "patterns" (any number of patterns: a number
or a mini-notation string is one) or "int-pattern" (one pattern of whole numbers, inner-joined as Tidal's
patterned arguments are: `run "<4 8>"` counts to 4 in even cycles and to 8 in odd ones)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import signals
from .core import Pattern, check_count, fastcat, reify, silence, slowcat, stack

PATTERNS = "patterns"
INT_PATTERN = "int-pattern"


@dataclass(frozen=True)
class Constructor:
    name: str
    kind: str  # what its arguments are: PATTERNS or INT_PATTERN
    fn: Callable[..., Pattern]
    doc: str
    aliases: tuple[str, ...] = ()

    def build(self, *args: object) -> Pattern:
        """The pattern for these arguments (patterns, numbers or strings already made patterns by the caller
        for PATTERNS; one pattern or whole number for INT_PATTERN). Raises ValueError naming what is wrong."""
        if self.kind == PATTERNS:
            return self.fn(*(reify(a) for a in args))
        if len(args) != 1:
            raise ValueError(f"{self.name} takes one argument, got {len(args)}")
        return reify(args[0]).inner_bind(lambda n: self.fn(_whole(self.name, n)))


def _whole(name: str, n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, float)) or n != n or abs(n) == float("inf"):
        raise ValueError(f"{name} takes whole numbers, not {n!r}")
    return int(n)


def _run(n: int) -> Pattern:
    """0, 1, ..., n - 1 in one cycle (Tidal's run); nothing for n <= 0."""
    if n <= 0:
        return silence
    check_count(n, "steps of run")
    return fastcat(*(reify(i) for i in range(n)))


_DEFINED = (
    Constructor("cat", PATTERNS, slowcat, "one pattern per cycle, in turn (Tidal's cat, Strudel's cat)", ("slowcat",)),
    Constructor("fastcat", PATTERNS, fastcat, "all the patterns in one cycle, each in an equal step", ("seq",)),
    Constructor("stack", PATTERNS, stack, "the patterns at the same time"),
    Constructor("run", INT_PATTERN, _run, "0 .. n-1 in one cycle"),
    Constructor("silence", PATTERNS, lambda: silence, "no events"),
    Constructor("irand", INT_PATTERN, signals.irand, "random whole numbers 0 .. n-1 (continuous: sample it)"),
    Constructor("randrun", INT_PATTERN, signals.randrun, "0 .. n-1 in a random order each cycle"),
    Constructor("randcat", PATTERNS, lambda *ps: signals.randcat(ps) if ps else silence,
                "one of the patterns per cycle, at random"),
)

CONSTRUCTORS: dict[str, Constructor] = {name: c for c in _DEFINED for name in (c.name, *c.aliases)}
