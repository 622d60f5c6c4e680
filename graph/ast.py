"""The syntax tree of a Phonon program. Every node keeps the position it came from (1-based line and
column) so that any later stage can point at the source."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Pos:
    line: int
    col: int


@dataclass(frozen=True)
class Number:
    value: Fraction
    pos: Pos


@dataclass(frozen=True)
class String:
    """A mini-notation pattern; `pos` is the opening quote."""

    text: str
    pos: Pos


@dataclass(frozen=True)
class BusRef:
    name: str  # without the ~
    pos: Pos


@dataclass(frozen=True)
class Name:
    """A bare function name: a call with no arguments (`noise`, `sine` = 1 Hz), or a transform (`rev`)."""

    name: str
    pos: Pos


@dataclass(frozen=True)
class Keyword:
    name: str
    value: Expr
    pos: Pos


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Expr, ...]
    keywords: tuple[Keyword, ...]
    pos: Pos


@dataclass(frozen=True)
class BinOp:
    op: str  # + - * / and the structure forms |+ +| ...
    left: Expr
    right: Expr
    pos: Pos


@dataclass(frozen=True)
class Neg:
    operand: Expr
    pos: Pos


@dataclass(frozen=True)
class Chain:
    """`left # right`: right's leftmost call receives left."""

    left: Expr
    right: Expr
    pos: Pos


@dataclass(frozen=True)
class Apply:
    """`func $ arg`."""

    func: Expr
    arg: Expr
    pos: Pos


@dataclass(frozen=True)
class List:
    items: tuple[Expr, ...]
    pos: Pos
    pair: bool = False  # `(a, b)`: a tuple (wchoose's value and weight), not a list


@dataclass(frozen=True)
class Shift:
    """`amount <~ pattern` (early) or `amount ~> pattern` (late)."""

    op: str
    amount: Expr
    pattern: Expr
    pos: Pos


@dataclass(frozen=True)
class Section:
    """`(# speed 2)`, `(|+ n 12)`: the operator with its right side, a function of a left side to come."""

    op: str
    right: Expr
    pos: Pos


Expr = Number | String | BusRef | Name | Call | BinOp | Neg | Chain | Apply | List | Shift | Section


@dataclass(frozen=True)
class Statement:
    """`target: expr` or `target $ expr`; `target` is `~bus` or a name such as out, o2, tempo, outmix."""

    target: str
    expr: Expr
    pos: Pos
    signature: String | None = None  # `bpm: 130 "3/4"`: the time signature a tempo in beats per minute counts in


@dataclass(frozen=True)
class Command:
    """A line of one word: `hush`."""

    name: str
    pos: Pos


@dataclass(frozen=True)
class Program:
    statements: tuple[Statement, ...]
    source: str
    filename: str
