"""One definition per named pattern function, as Strudel's `register`: its name, aliases, typed parameters,
doc line and function live in one `define` (or `@register`) call, and everything else derives from it:

- the registry the compiler reads (`TRANSFORMS`: every name and alias -> its Transform);
- the patterned method (`Pattern.every(3, fast(2))`, `parse_mini("0 2").scale("C:major")`): attached to
  `Pattern` for every name and alias the core does not define itself;
- `phonon events` and the language (both compile through the registry);
- the README's pattern table (graph/patterns/reference.py lists each definition once, with its aliases).

`Pattern` (core.py) keeps the core: query plumbing, the applicative and monadic joins, and the primitive time
operations mini-notation is made of (`_fast`, `_early`, `rev`, `_ply`, ...). A transform's function takes its
converted arguments, then the pattern (Tidal's order), and lifts patterned arguments itself where it wants
them patterned (`patternify`: Tidal's tParam).

Parameter kinds (`Transform.build` checks and converts the arguments and raises `TransformError`, a
ValueError naming the transform and the parameter):
  "pattern"      a number, a mini-notation string or a Pattern;
  "int-pattern"  the same, for whole numbers (a constant must be an integer; patterned values are floored);
  "int"          a constant integer;   "number"  a constant number;
  "numbers"      a list of constant numbers (`toScale [0, 2, 4, 5, 7, 9, 11]`);
  "patterns"     a list of patterns (`squeeze "<0 1>" ["bd sn", "hh*4"]`);
  "values"       a list of values: numbers or single words (`choose [0, 2, 7]`, `choose ["bd", "sn"]`);
  "weighted"     a list of (value, weight) pairs (`wchoose [(0, 0.25), (2, 0.5)]`);
  "weighted-patterns"  a list of (pattern, weight) pairs (`wrandcat [("bd*2 sn", 3), ("hh*4", 1)]`);
  "named"        a list of (name, pattern) pairs (`inhabit [("a", "bd sn"), ("b", "hh*4")]`);
  "transform"    a function Pattern -> Pattern (another built transform, or any callable);
  "transforms"   a list of them (`layer [rev, fast 2]`).
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Any, Callable

from .core import FRACTIONS, Pattern
from .mini import parse_mini

__all__ = [
    "TRANSFORMS", "Transform", "Param", "TransformError", "BuiltTransform", "define", "register", "suggest",
    "PATTERN", "INT_PATTERN", "INT", "NUMBER", "NUMBERS", "PATTERNS", "VALUES", "WEIGHTED", "WEIGHTED_PATTERNS", "NAMED",
    "TRANSFORM", "TRANSFORMS_LIST",
]

PATTERN = "pattern"
INT_PATTERN = "int-pattern"
INT = "int"
NUMBER = "number"
NUMBERS = "numbers"
PATTERNS = "patterns"
VALUES = "values"
WEIGHTED = "weighted"
WEIGHTED_PATTERNS = "weighted-patterns"
NAMED = "named"
TRANSFORM = "transform"
TRANSFORMS_LIST = "transforms"

_LIST_EXAMPLES = {
    NUMBERS: "a list of numbers, such as [0, 2, 4]",
    PATTERNS: 'a list of patterns, such as ["bd sn", "hh*4"]',
    VALUES: 'a list of numbers or words, such as [0, 2, 7] or ["bd", "sn"]',
    WEIGHTED: "a list of (value, weight) pairs, such as [(0, 0.25), (2, 0.5)]",
    WEIGHTED_PATTERNS: 'a list of (pattern, weight) pairs, such as [("bd*2 sn", 3), ("hh*4", 1)]',
    NAMED: 'a list of (name, pattern) pairs, such as [("a", "bd sn"), ("b", "hh*4")]',
    TRANSFORMS_LIST: "a list of transforms, such as [rev, fast 2]",
}


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

    def __init__(self, name: str, args: tuple, fn: Callable[[Pattern], Pattern]):
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
    if isinstance(a, (list, tuple)):
        inner = ", ".join(_show_arg(x) for x in a)
        return f"[{inner}]" if isinstance(a, list) else f"({inner})"
    if callable(a):
        return getattr(a, "__name__", "<function>")
    return str(a)


@dataclass(frozen=True)
class Transform:
    name: str
    params: tuple[Param, ...]
    fn: Callable[..., Pattern]  # fn(*args, pat)
    doc: str = ""
    aliases: tuple[str, ...] = ()
    alias_of: str | None = None  # an alias's entry names itself in messages and points to its definition

    @property
    def signature(self) -> str:
        return " ".join([self.name] + [f"{p.name}:{p.kind}" for p in self.params])

    def build(self, *args: Any) -> BuiltTransform:
        """Check and convert the arguments; the result maps a Pattern to the transformed Pattern."""
        values = self.convert(args)
        fn = self.fn
        return BuiltTransform(self.name, args, lambda pat: fn(*values, pat))

    __call__ = build

    def apply(self, pat: Pattern, *args: Any) -> Pattern:
        return self.build(*args)(pat)

    def convert(self, args: tuple) -> tuple:
        """The arguments checked against the parameters and converted to what the function takes."""
        if len(args) != len(self.params):
            names = " ".join(p.name for p in self.params) or "no arguments"
            raise TransformError(
                f"{self.name} takes {len(self.params)} argument{'s' * (len(self.params) != 1)} ({names}), "
                f"got {len(args)}")
        return tuple(self._coerce(p, a) for p, a in zip(self.params, args))

    def _coerce(self, p: Param, a: Any) -> Any:
        def fail(what: str) -> TransformError:
            return TransformError(f"{self.name}: argument '{p.name}' must be {what}, got {_show_arg(a)}")

        if p.kind == TRANSFORM:
            if isinstance(a, Pattern) or not callable(a):
                raise fail("a transform (such as `fast 2` or `rev`)")
            return a
        if p.kind in (PATTERN, INT_PATTERN):
            converted = _pattern_arg(a)
            if converted is None:
                raise fail("a number or a pattern")
            if p.kind == INT_PATTERN and _is_number(converted):
                if not float(converted).is_integer():
                    raise fail("a whole number")
                return int(converted)
            return converted
        if p.kind == INT:
            if _is_number(a) and float(a).is_integer():
                return int(a)
            raise fail("a whole number")
        if p.kind == NUMBER:
            if _is_number(a):
                return a
            raise fail("a number")
        items = a if isinstance(a, (list, tuple)) and a else None
        converted = None if items is None else [_LIST_ITEMS[p.kind](x) for x in items]
        if converted is None or None in converted:
            raise fail(_LIST_EXAMPLES[p.kind])
        return tuple(converted)


def _is_number(a: Any) -> bool:
    return isinstance(a, (int, float, *FRACTIONS)) and not isinstance(a, bool) and math.isfinite(a)


def _pattern_arg(a: Any) -> Any:
    """A pattern argument: a Pattern, a mini-notation string parsed (its errors carry their column), a number
    as it is; None for anything else."""
    if isinstance(a, Pattern) or _is_number(a):
        return a
    if isinstance(a, str):
        return parse_mini(a)
    return None


def _value(a: Any) -> Any:
    """A list item that is one value: a number, a word, or a pattern of one constant value (`"bd"`)."""
    if _is_number(a) or (isinstance(a, str) and a.strip() and " " not in a.strip()):
        return a.strip() if isinstance(a, str) else a
    if isinstance(a, Pattern) and a.is_pure:
        return a._pure
    return None


def _pair(first: Callable[[Any], Any], second: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def convert(a: Any) -> Any:
        if not isinstance(a, tuple) or len(a) != 2:
            return None
        x, y = first(a[0]), second(a[1])
        return None if x is None or y is None else (x, y)

    return convert


def _weight(a: Any) -> Any:
    return a if _is_number(a) and a >= 0 else None


def _name(a: Any) -> Any:
    v = _value(a)
    return v if isinstance(v, str) else None


_LIST_ITEMS: dict[str, Callable[[Any], Any]] = {
    NUMBERS: lambda a: a if _is_number(a) else None,
    PATTERNS: _pattern_arg,
    VALUES: _value,
    WEIGHTED: _pair(_value, _weight),
    WEIGHTED_PATTERNS: _pair(_pattern_arg, _weight),
    NAMED: _pair(_name, _pattern_arg),
    TRANSFORMS_LIST: lambda a: a if callable(a) and not isinstance(a, Pattern) else None,
}

TRANSFORMS: dict[str, Transform] = {}


def define(name: str, params: tuple[Param, ...], fn: Callable[..., Pattern], doc: str,
           aliases: tuple[str, ...] = ()) -> Transform:
    """Register a transform under its name and aliases, and give `Pattern` its method (for each name the core
    does not define: the core's own `rev` or `_fast` stay as they are)."""
    transform = Transform(name, params, fn, doc, aliases)
    entries = [transform, *(Transform(a, params, fn, doc, alias_of=name) for a in aliases)]
    for entry in entries:
        if entry.name in TRANSFORMS:
            raise ValueError(f"transform {entry.name!r} is defined twice")
        TRANSFORMS[entry.name] = entry
        if not hasattr(Pattern, entry.name):
            setattr(Pattern, entry.name, _method(entry))
    return transform


def register(name: str, *params: Param, doc: str, aliases: tuple[str, ...] = ()) -> Callable:
    """`define` as a decorator of the function: `@register("trunc", Param("fraction", PATTERN), doc=...)`."""

    def decorate(fn: Callable[..., Pattern]) -> Callable[..., Pattern]:
        define(name, params, fn, doc, aliases)
        return fn

    return decorate


def _method(transform: Transform) -> Callable[..., Pattern]:
    def method(self: Pattern, *args: Any) -> Pattern:
        return transform.build(*args)(self)

    method.__name__ = transform.name
    method.__doc__ = f"{transform.signature}: {transform.doc}"
    return method


def suggest(name: str) -> list[str]:
    """Names close to an unknown transform name, for "did you mean" messages."""
    return difflib.get_close_matches(name, TRANSFORMS, n=3, cutoff=0.6)
