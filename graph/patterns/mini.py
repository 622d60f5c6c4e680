"""Mini-notation: text -> Pattern, with Strudel's semantics (see `mini.lark` for the syntax summary).

Values: words that read as numbers (JavaScript's `Number`: `3`, `-1.5`, `1e3`, `.5`) become ints or floats
(integral floats become ints), everything else stays a string: sample names, note names (`c4`, `eb3`) and
bus names (`~lfo`) alike. `bd:3` is the string "bd:3" (`split_sample` takes it apart). A chord `c4'maj` is
a stack of `MidiNote` ints, one event per chord note. `~` and `-` are rests.

Randomness: `?` and `|` use Tidal's `timeToRand` of the event (or cycle) time, shifted by 0.0003 cycles per
seed, where seeds count `?`, `|` groups and `.` groups in the order Strudel's parser meets them; the same
text therefore always gives the same events, and the same events as Strudel.

Deliberate differences from Strudel 1.2 (everything else matches it event for event, see
tests/test_events_conformance.py):
- Euclid rotation `a(3,8,2)` rotates left, as Tidal (onsets 1/8, 4/8, 6/8), modulo the step count; Strudel
  rotates right and does not wrap.
- `bd:3` is the string "bd:3" (Strudel: the list ["bd", 3]).
- Extensions where Strudel reports a syntax error or yields a useless word: `.` feet mix with `,` and `|`
  (`a . b c, d`), `0..3` without spaces is a range (Strudel: the word "0..3"), chords `c4'maj`.
- Mistakes Strudel lets through are errors here: non-numeric `*`, `/`, `%`, euclid or range arguments,
  non-positive weights and replicate counts.
"""

from __future__ import annotations

import functools
import math
import re
from pathlib import Path
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from quicktions import Fraction

from phonon.graph.limits import MAX_NESTING

from .core import (
    MidiNote,
    Pattern,
    PatternLimitError,
    _seeded_rand,
    check_count,
    choose_in_with,
    fastcat,
    patternify,
    pure,
    silence,
    stack,
    timecat,
    to_time,
)
from .notes import chord_notes

__all__ = ["parse_mini", "MiniNotationError", "split_sample", "atom_value"]


class MiniNotationError(ValueError):
    """A mini-notation syntax or argument error. `column` is 1-based within the pattern text; `hint` says
    what to do, when there is more to say than the message."""

    def __init__(self, message: str, column: int, expected: tuple[str, ...] = (), hint: str = ""):
        self.message = message
        self.column = column
        self.expected = tuple(expected)
        self.hint = hint
        text = f"{message} at column {column}"
        if self.expected:
            text += f"; expected {_or_list(self.expected)}"
        super().__init__(text)


def _or_list(items: tuple[str, ...]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


_GRAMMAR = Path(__file__).with_name("mini.lark")


@functools.lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(_GRAMMAR.read_text(), parser="lalr", start="start")


@functools.lru_cache(maxsize=1024)
def parse_mini(text: str) -> Pattern:
    """Parse mini-notation into a Pattern. Raises MiniNotationError (never a lark exception)."""
    if not text.strip():
        raise MiniNotationError("empty pattern", 1, ("a word, '~', '[', '<' or '{'",))
    _check_nesting(text)
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as e:
        raise _convert_error(e, text) from None
    return _Builder().pattern(tree.children[0])


def _check_nesting(text: str) -> None:
    """Refuse brackets nested deeper than MAX_NESTING (each level costs stack frames in every query)."""
    depth = 0
    for i, ch in enumerate(text):
        if ch in "[<{(":
            depth += 1
            if depth > MAX_NESTING:
                raise MiniNotationError(f"brackets nested more than {MAX_NESTING} deep", i + 1,
                                        hint="flatten the pattern: a few levels of brackets say everything")
        elif ch in "]>})":
            depth = max(depth - 1, 0)


# ---------------------------------------------------------------------------------------------------------
# Values

_DECIMAL = re.compile(r"^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$", re.ASCII)  # ASCII digits only, as in programs
_BASED = re.compile(r"^0(?:[xX][0-9a-fA-F]+|[bB][01]+|[oO][0-7]+)$")


def atom_value(word: str) -> Any:
    """The value of a word, as Strudel's `Number(word)` decides: a number when it reads as one."""
    if _DECIMAL.match(word):
        f = float(word)
        if not math.isfinite(f):
            return word
        if "." not in word and "e" not in word.lower():
            return int(word)
        return int(f) if f.is_integer() and abs(f) < 2**53 else f
    if _BASED.match(word):
        return int(word, 0)
    return word


def _is_rest(word: str) -> bool:
    return word in ("~", "-")


def _js_str(v: Any) -> str:
    """How JavaScript prints a value inside a string (used to join `bd:3`)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e21 else repr(v)
    if isinstance(v, int):
        return str(int(v))
    return str(v)


def _tail(a: Any, b: Any) -> str:
    return f"{_js_str(a)}:{_js_str(b)}"


def split_sample(value: Any) -> tuple[str, int]:
    """`"bd:3"` -> ("bd", 3); `"bd"` -> ("bd", 0). Raises ValueError for a non-integer index."""
    name, sep, index = str(value).partition(":")
    if not sep:
        return name, 0
    try:
        return name, int(float(index))
    except ValueError:
        raise ValueError(f"sample index in {value!r} is not a number") from None


def _array_range(start: Any, stop: Any) -> list[Any]:
    # Strudel's arrayRange: inclusive, counting down when stop < start, length floor(|stop-start|) + 1.
    n = math.floor(abs(stop - start) + 1)
    check_count(n, "numbers in a range")
    return [start + i if start < stop else start - i for i in range(n)]


# ---------------------------------------------------------------------------------------------------------
# Tree -> Pattern


def _trees(tree: Tree) -> list[Tree]:
    return [c for c in tree.children if isinstance(c, Tree)]


def _op_number(token: Token) -> float | None:
    text = str(token)[1:]
    if not text:
        return None
    f = float(text)
    return int(f) if f.is_integer() else f


class _Builder:
    """Builds patterns bottom-up, left to right: the order in which Strudel's PEG parser runs its actions,
    which is the order that hands out seeds to `?`, `|` and `.`."""

    def __init__(self) -> None:
        self.seed = 0

    def next_seed(self) -> int:
        self.seed += 1
        return self.seed - 1

    # pattern: stack / choose / single
    def pattern(self, tree: Tree) -> Pattern:
        layers = [self.layer(t) for t in _trees(tree)]
        if tree.data == "single":
            return layers[0]
        if tree.data == "stack":
            return stack(*layers)
        seed = self.next_seed()
        return choose_in_with(_seeded_rand(seed)._segment(1), layers)

    def layer(self, tree: Tree) -> Pattern:
        seqs = [self.sequence(t)[0] for t in _trees(tree)]
        if tree.data == "plain":
            return seqs[0]
        self.next_seed()  # Strudel's parser spends a seed on every feet group
        return fastcat(*seqs)

    def sequence(self, tree: Tree) -> tuple[Pattern, Fraction]:
        """A sequence and its total weight (the step count `<...>` and `{...}` need)."""
        elems = [self.element(t) for t in _trees(tree)]
        total = sum((w for _, w in elems), Fraction(0))
        if len(elems) == 1:
            return elems[0][0], total
        return timecat(*[(w, p) for p, w in elems]), total

    def element(self, tree: Tree) -> tuple[Pattern, Fraction]:
        slice_tree, *ops = _trees(tree)
        if any(op.data == "range" for op in ops):
            self.check_numbers(slice_tree, "a range needs numbers")
        pat = self.slice(slice_tree)
        # Operator arguments are parsed (and take their seeds) before the element's own `?`s get theirs.
        args = [self.op_args(op) for op in ops]
        weight, reps = Fraction(1), 1
        plan: list[tuple[str, Any, int]] = []  # (operator, argument, its column)
        for op, arg in zip(ops, args):
            kind = op.data
            column = op.children[0].column
            if kind == "weight":
                n = _op_number(op.children[0])
                try:
                    weight = weight + to_time(2 if n is None else n) - 1
                except ValueError:  # not a finite time (a@1e99999)
                    raise MiniNotationError("a weight must be a finite number", column) from None
                if weight <= 0:
                    raise MiniNotationError("weight must be positive", op.children[0].column)
            elif kind == "elongate":
                weight += 1
            elif kind == "replicate":
                n = _op_number(op.children[0])
                reps = reps + (2 if n is None else n) - 1
                if not isinstance(reps, int) or reps <= 0:
                    raise MiniNotationError("replicate count must be a positive integer", op.children[0].column)
                plan = [p for p in plan if p[0] != "replicate"] + [("replicate", reps, column)]
                weight = Fraction(reps)
            elif kind == "degrade":
                n = _op_number(op.children[0])
                plan.append(("degrade", (0.5 if n is None else n, self.next_seed()), column))
            else:
                if kind == "range" and any(k == "tail" for k, _, _ in plan):
                    raise MiniNotationError("a range needs numbers, not a ':' value", op.children[0].column)
                plan.append((kind, arg, column))
        for kind, arg, column in plan:
            try:
                _check_factor(kind, arg)
                pat = _apply(kind, arg, pat)
            except PatternLimitError as e:
                raise MiniNotationError(e.message, column, hint=e.hint) from None
        return pat, weight

    def op_args(self, op: Tree) -> Any:
        kind = op.data
        if kind in ("fast", "slow"):
            self.check_numbers(op.children[1], f"'{op.children[0]}' needs a number")
            return self.slice(op.children[1])
        if kind == "tail":
            return self.slice(op.children[1])
        if kind == "range":
            self.check_numbers(op.children[1], "a range needs numbers")
            return self.slice(op.children[1])
        if kind == "euclid":
            elems = _trees(op)
            for e in elems:
                self.check_numbers(e, "euclid arguments must be numbers")
            return [self.element(e)[0] for e in elems]
        return None

    def slice(self, tree: Tree) -> Pattern:
        kind = tree.data
        if kind == "word":
            return self.word(tree.children[0])
        if kind == "group":
            return self.pattern(tree.children[0])
        alts = [self.sequence(t) for t in _trees(tree.children[0])]
        if kind == "alternation":
            return stack(*[p._slow(w) for p, w in alts])
        # polymeter: each sequence is sped up so that `steps` of its steps fill a cycle
        rest = tree.children[1:]
        if not rest:  # steps per cycle default to the first sequence's
            return stack(*[p._fast(alts[0][1] / w) for p, w in alts])
        self.check_numbers(rest[1], "'%' needs a number")
        steps = self.slice(rest[1])
        try:
            _check_factor("polymeter", steps)
        except PatternLimitError as e:
            raise MiniNotationError(e.message, rest[0].column, hint=e.hint) from None
        steps = steps.fmap(to_time)
        return stack(*[_PATTERNED_FAST(steps.fmap(lambda x, w=w: x / w), p) for p, w in alts])

    def word(self, token: Token) -> Pattern:
        text = str(token)
        if _is_rest(text):
            return silence
        if "'" in text:
            try:
                notes = chord_notes(text)
            except ValueError as e:
                raise MiniNotationError(str(e), token.column) from None
            return stack(*[pure(MidiNote(n)) for n in notes])
        return pure(atom_value(text))

    def check_numbers(self, tree: Tree, message: str) -> None:
        """Literal arguments of `*`, `/`, `%`, `..` and euclid must be numbers (or rests)."""
        for tok in tree.scan_values(lambda v: isinstance(v, Token) and v.type == "WORD"):
            if not _is_rest(str(tok)) and not isinstance(atom_value(str(tok)), (int, float)):
                raise MiniNotationError(f"{message}, got {str(tok)!r}", tok.column)


_FACTORS = {"fast": "times faster (`*`)", "replicate": "repeats (`!`)", "polymeter": "steps per cycle (`%`)"}


def _check_factor(kind: str, arg: Any) -> None:
    """A constant factor of `*`, `!` or `%` beyond the event limit fails here, at its column (a patterned one
    fails when a cycle asks for too much)."""
    if kind not in _FACTORS:
        return
    value = arg._pure if isinstance(arg, Pattern) and arg.is_pure else arg
    if isinstance(value, (int, float, Fraction)) and not isinstance(value, bool):
        check_count(value, _FACTORS[kind])


# Mini-notation's operators are the core's time primitives with patterned arguments (`bd*<2 3>`).
_PATTERNED_FAST = patternify(lambda x, p: p._fast(x))


def _apply(kind: str, arg: Any, pat: Pattern) -> Pattern:
    if kind == "fast":
        return _PATTERNED_FAST(arg, pat)
    if kind == "slow":
        return patternify(lambda x, p: p._slow(x))(arg, pat)
    if kind == "replicate":
        return pat._repeat_cycles(arg)._fast(arg)
    if kind == "degrade":
        amount, seed = arg
        return pat._degrade_by_with(_seeded_rand(seed), float(amount))
    if kind == "euclid":
        return patternify(lambda k, n, r, p: p._euclid(k, n, r))(*(*arg, 0)[:3], pat)
    if kind == "tail":
        return pat.fmap(lambda a: lambda b: _tail(a, b)).app_left(arg)
    if kind == "range":
        friend = arg
        return pat.squeeze_bind(
            lambda a: friend.bind(lambda b: fastcat(*[pure(x) for x in _array_range(a, b)])))
    raise AssertionError(kind)


# ---------------------------------------------------------------------------------------------------------
# Errors

_TERMINALS = {
    "WORD": "a word or number", "LSQB": "'['", "RSQB": "']'", "LESSTHAN": "'<'", "MORETHAN": "'>'",
    "LBRACE": "'{'", "RBRACE": "'}'", "COMMA": "','", "VBAR": "'|'", "DOT": "'.'", "STAR": "'*'",
    "SLASH": "'/'", "LPAR": "'('", "RPAR": "')'", "COLON": "':'", "RANGE": "'..'", "PERCENT": "'%'",
    "WEIGHT": "'@'", "REPLICATE": "'!'", "DEGRADE": "'?'", "ELONGATE": "'_'", "$END": "the end",
}
# Operators are always allowed after a step; listing them all buries the useful part of the message.
_OPERATORS = {"STAR", "SLASH", "LPAR", "COLON", "RANGE", "WEIGHT", "REPLICATE", "DEGRADE", "ELONGATE"}


_CLOSERS = {"RSQB": "[", "MORETHAN": "<", "RBRACE": "{", "RPAR": "("}


def _open_bracket(text: str) -> str | None:
    """The innermost bracket still open in `text` (brackets never occur inside words)."""
    stack: list[str] = []
    pairs = {"]": "[", ">": "<", "}": "{", ")": "("}
    for ch in text:
        if ch in "[<{(":
            stack.append(ch)
        elif ch in pairs and stack and stack[-1] == pairs[ch]:
            stack.pop()
    return stack[-1] if stack else None


def _expected(names: set[str] | frozenset[str], before: str) -> tuple[str, ...]:
    names = set(names)
    if names & _OPERATORS and names - _OPERATORS:
        names -= _OPERATORS
    # LALR states are shared between bracket kinds; only the closer of the bracket that is open makes sense.
    opened = _open_bracket(before)
    names = {n for n in names if (n not in _CLOSERS or _CLOSERS[n] == opened) and (n != "$END" or opened is None)}
    order = list(_TERMINALS)
    return tuple(_TERMINALS[n] for n in sorted(names, key=lambda n: order.index(n) if n in order else 99)
                 if n in _TERMINALS)


def _convert_error(e: UnexpectedInput, text: str) -> MiniNotationError:
    if isinstance(e, UnexpectedCharacters):
        pos = e.pos_in_stream
        return MiniNotationError(f"unexpected character {text[pos]!r}", e.column,
                                 _expected(e.allowed or set(), text[:pos]))
    if isinstance(e, UnexpectedToken):
        if e.token.type == "$END":
            return MiniNotationError("unexpected end of pattern", len(text) + 1, _expected(e.expected, text))
        pos = e.token.start_pos
        return MiniNotationError(f"unexpected {str(e.token)!r}", e.token.column, _expected(e.expected, text[:pos]))
    if isinstance(e, UnexpectedEOF):
        return MiniNotationError("unexpected end of pattern", len(text) + 1, _expected(e.expected, text))
    return MiniNotationError(str(e), getattr(e, "column", 1) or 1)
