"""Parse program text into the syntax tree of `graph.ast`, using the lark grammar `phonon.lark`."""

from __future__ import annotations

import functools
import hashlib
import io
import math
import sys
import unicodedata
from fractions import Fraction
from pathlib import Path

import lark
from lark import Token, Transformer, v_args

from phonon.graph import ast
from phonon.graph.caches import cache_root, write_atomic
from phonon.graph.errors import PhononError
from phonon.graph.limits import MAX_NESTING

_GRAMMAR = Path(__file__).with_name("phonon.lark")
NUMBER_RANGE_HINT = "numbers are floating point: at most about 1.8e308 in size"

# What the user sees for each terminal the parser expected.
_FRIENDLY = {
    "NUMBER": "a number",
    "STRING": 'a pattern "..."',
    "BUS": "a bus ~name",
    "NAME": "a function name",
    "KEYWORD": "a keyword argument :name",
    "ADD_OP": "+ or -",
    "MUL_OP": "* or /",
    "LPAR": "(",
    "RPAR": ")",
    "LSQB": "[",
    "RSQB": "]",
    "COMMA": ",",
    "COLON": ":",
    "DOLLAR": "$",
    "CHAIN_OP": "# or an operator such as |+",
    "SECTION_OP": "an operator section such as (# speed 2)",
    "SHIFT_OP": "<~ or ~>",
    "MINUS": "-",
    "_NL": "end of line",
    "$END": "end of program",
}


@functools.cache
def _parser() -> lark.Lark:
    """The LALR parser of the grammar. Its tables are built once per grammar and lark version and kept in the
    cache folder (loading them takes a few ms, building them 40 ms: every command pays it)."""
    grammar = _GRAMMAR.read_text()
    key = hashlib.sha256(f"{grammar}{lark.__version__}{sys.version_info[:2]}".encode()).hexdigest()[:16]
    path = cache_root() / f"grammar-{key}.lark"
    try:
        with open(path, "rb") as f:
            return lark.Lark.load(f)
    except Exception:  # missing, unreadable, or written by another version: build it again
        pass
    parser = lark.Lark(grammar, parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=False)
    tables = io.BytesIO()
    parser.save(tables)
    try:
        write_atomic(path, tables.getvalue())
    except OSError:  # a read-only cache folder only costs the time to build them
        pass
    return parser


def _pos(item: Token | lark.tree.Meta) -> ast.Pos:
    return ast.Pos(item.line, item.column)


@v_args(meta=True)
class _ToAst(Transformer):
    def start(self, meta, statements):
        return tuple(statements)

    def statement(self, meta, children):
        target, expr, *signature = children
        return ast.Statement(str(target), expr, _pos(target), *signature)

    def command(self, meta, children):
        (tok,) = children
        return ast.Command(str(tok), _pos(tok))

    def signature(self, meta, children):
        return self.string(meta, children)

    def number(self, meta, children):
        (tok,) = children
        return ast.Number(_number_value(tok), _pos(tok))

    def string(self, meta, children):
        (tok,) = children
        return ast.String(str(tok)[1:-1], _pos(tok))

    def bus(self, meta, children):
        (tok,) = children
        return ast.BusRef(str(tok)[1:], _pos(tok))

    def name(self, meta, children):
        (tok,) = children
        return ast.Name(str(tok), _pos(tok))

    def keyword(self, meta, children):
        tok, value = children
        return ast.Keyword(str(tok)[1:], value, _pos(tok))

    def call(self, meta, children):
        name, *args = children
        positional = tuple(a for a in args if not isinstance(a, ast.Keyword))
        keywords = tuple(a for a in args if isinstance(a, ast.Keyword))
        return ast.Call(str(name), positional, keywords, _pos(name))

    def binops(self, meta, children):
        result = children[0]
        for op, right in zip(children[1::2], children[2::2]):
            result = ast.BinOp(str(op), result, right, _pos(op))
        return result

    def neg(self, meta, children):
        (operand,) = children
        if isinstance(operand, ast.Number):
            return ast.Number(-operand.value, _pos(meta))
        return ast.Neg(operand, _pos(meta))

    def chain(self, meta, children):
        result = children[0]
        for op, right in zip(children[1::2], children[2::2]):
            chained = ast.Chain(result, right, _pos(meta)) if op == "#" else None
            result = chained or ast.BinOp(str(op), result, right, _pos(op))
        return result

    def shift(self, meta, children):
        amount, op, pattern = children
        return ast.Shift(str(op), amount, pattern, _pos(op))

    def section(self, meta, children):
        op, right = children
        return ast.Section(str(op), right, _pos(op))

    def apply(self, meta, children):
        func, arg = children
        return ast.Apply(func, arg, _pos(meta))

    def list(self, meta, children):
        return ast.List(tuple(c for c in children if not isinstance(c, Token)), _pos(meta))

    def tuple(self, meta, children):
        """A pair `(a, b)`, placed at its first comma: outside an argument list, it is a call written
        `f(a, b)`, and the error points there."""
        comma = next(c for c in children if isinstance(c, Token))
        return ast.List(tuple(c for c in children if not isinstance(c, Token)), _pos(comma), pair=True)


def _number_value(tok: Token) -> Fraction:
    """The exact value of a number literal; one a float cannot hold (1e309, 5000 digits) is an error here,
    at its position, rather than an OverflowError wherever it is first used as a float."""
    text = str(tok)
    try:
        approximately = float(text)
        if math.isfinite(approximately):
            # With an exponent of more than 5 digits, Fraction would compute 10**exponent exactly (a number
            # of that many digits: for ever); such a number is 0 (or out of range), as the float says.
            exponent = text.lower().partition("e")[2].lstrip("+-")
            return Fraction(approximately) if len(exponent) > 5 else Fraction(text)
    except ValueError:  # more digits than Python converts
        pass
    shown = str(tok) if len(tok) <= 24 else f"{str(tok)[:12]}... ({len(tok)} characters)"
    raise PhononError(f"the number {shown} is out of range", tok.line, tok.column, NUMBER_RANGE_HINT)


def _check_nesting(tree: lark.Tree, text: str, filename: str) -> None:
    """Refuse expressions nested more than MAX_NESTING deep (calls, brackets, `$`, unary minus): compiling and
    playing them recurses once per level, and Python stops at about a thousand levels. Iterative, so the
    check itself never recurses."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_NESTING:
            line, col = _first_position(node)
            raise PhononError(
                f"expression nested more than {MAX_NESTING} levels deep", line, col,
                "split it into buses (`~part: ...`) and combine those",
            ).located(text, filename)
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, lark.Tree))


def _first_position(node: lark.Tree) -> tuple[int | None, int | None]:
    """Where a subtree starts (searched without recursion: the subtree may be thousands of levels deep)."""
    stack: list = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Token):
            return item.line, item.column
        if not item.meta.empty:
            return item.meta.line, item.meta.column
        stack.extend(reversed(item.children))
    return None, None


def _describe(token: Token) -> str:
    if token.type == "$END":
        return "end of program"
    if token.type == "_NL":
        return "end of line"
    return f"'{token}'"


def _expected(names: set[str]) -> str:
    words = sorted({_FRIENDLY.get(n, n.strip('"').lower()) for n in names})
    return ", ".join(words[:8])


def _hint_for(token: Token, expected: set[str]) -> str:
    if token.type == "COMMA":
        return "calls take space-separated arguments: write `lpf 800 0.7`, not `lpf(800, 0.7)`"
    if token.type == "_NL" or token.type == "$END":
        return "the statement ends here; continue it on an indented line or finish the expression"
    if expected <= {"COLON", "DOLLAR"}:
        return "a statement is `~bus: expr`, `out: expr`, `o1: expr` or `tempo: 0.5`"
    if token.type in ("NUMBER", "STRING", "BUS", "LPAR", "LSQB") and "ADD_OP" in expected:
        return "only a function name takes arguments; is an operator missing?"
    if token.type == "NUMBER" and str(token).startswith("-"):
        return f"for a subtraction write `- {str(token)[1:]}` with a space"
    return ""


def _character(char: str) -> str:
    """A character as the user should see it: quoted, with its Unicode name when it is not plain ASCII."""
    if char.isascii():
        return repr(char)
    return f"{char!r} ({unicodedata.name(char, f'U+{ord(char):04X}')})"


def _character_hint(char: str) -> str:
    if char == "'":
        return "strings use double quotes"
    if char == "#":
        return "comments start with --"
    if unicodedata.category(char) == "Nd":  # a digit of another script: ٤, ४, ４ ...
        return "write numbers with the ASCII digits 0-9"
    return ""


def parse(text: str, filename: str = "<program>") -> ast.Program:
    """Parse a whole program; raise PhononError at the first syntax error (nothing is half-parsed)."""
    try:
        tree = _parser().parse(text + ("\n" if not text.endswith("\n") else ""))
    except lark.UnexpectedToken as e:
        message = f"unexpected {_describe(e.token)}; expected {_expected(set(e.expected))}"
        raise PhononError(message, e.line, e.column, _hint_for(e.token, set(e.expected))).located(
            text, filename
        ) from None
    except lark.UnexpectedCharacters as e:
        char = text[e.pos_in_stream] if e.pos_in_stream < len(text) else "?"
        raise PhononError(
            f"unexpected character {_character(char)}", e.line, e.column, _character_hint(char)
        ).located(text, filename) from None
    except lark.UnexpectedEOF:
        raise PhononError("unexpected end of program", None, None).located(text, filename) from None
    _check_nesting(tree, text, filename)
    try:
        statements = _ToAst().transform(tree)
    except lark.exceptions.VisitError as e:  # a PhononError raised while building the syntax tree
        if isinstance(e.orig_exc, PhononError):
            raise e.orig_exc.located(text, filename) from None
        raise
    return ast.Program(statements, text, filename)
