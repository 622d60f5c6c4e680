"""Compile a parsed program into a SignalGraph.

Names are resolved after parsing, so a bus may be used before its definition. Expressions compile to one of
three values: a constant, a pattern (kept symbolic so pattern arithmetic and transforms stay exact), or a
linear form `bias + sum(gain * node)`; linear forms become one `mix` node only when something needs a
signal, so `(~a + ~b - ~c) * 0.5 + 1` costs one node, and constants fold away entirely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from graph import ast
from graph.errors import PhononError, did_you_mean
from graph.kinds import ARITHMETIC_FUNCTIONS, FUNCTIONS, KINDS, Function, Param, all_names
from graph.parser import parse
from graph.signal_graph import OUTMIX_MODES, Input, Node, SignalGraph

DEFAULT_CPS = Fraction(1, 2)
AUTO_ROUTE_GAIN = 0.25


@dataclass(frozen=True)
class Const:
    value: float


@dataclass(frozen=True)
class Pat:
    pattern: Any
    text: str
    pos: ast.Pos


@dataclass(frozen=True)
class Lin:
    """bias + sum(gain * node) over `terms` ((node id, gain), ...)."""

    terms: tuple[tuple[int, float], ...]
    bias: float = 0.0

    @staticmethod
    def of(node_id: int) -> Lin:
        return Lin(((node_id, 1.0),))

    def scaled(self, k: float) -> Lin:
        return Lin(tuple((n, g * k) for n, g in self.terms), self.bias * k)

    def plus(self, other: Lin) -> Lin:
        gains = dict(self.terms)
        for n, g in other.terms:
            gains[n] = gains.get(n, 0.0) + g
        return Lin(tuple((n, g) for n, g in gains.items() if g != 0.0), self.bias + other.bias)


@dataclass(frozen=True)
class Stereo:
    """Two channels (each a Const or a Lin). Calls on a stereo signal run once per channel, arithmetic works
    per channel with mono values on both sides, and a stereo output keeps its sides in the master."""

    left: Const | Lin
    right: Const | Lin


Value = Const | Pat | Lin | Stereo


def _channels(v: Value) -> tuple[Value, Value]:
    return (v.left, v.right) if isinstance(v, Stereo) else (v, v)

_OUTPUT = re.compile(r"^(?:out(\d*)|[od]([1-9]\d*))$")
_TEMPO = {"tempo": Fraction(1), "cps": Fraction(1), "bpm": Fraction(1, 60)}


def compile_program(text: str, filename: str = "<program>") -> SignalGraph:
    """Parse and compile a whole program. Raises PhononError (with line and column) on any problem."""
    program = parse(text, filename)
    try:
        return _Compiler(program).run()
    except PhononError as e:
        raise e.located(text, filename) from None


class _Compiler:
    def __init__(self, program: ast.Program) -> None:
        self.program = program
        self.nodes: list[Node] = []
        self.bus_defs: dict[str, ast.Statement] = {}
        self.bus_values: dict[str, Value] = {}
        self.pattern_nodes: dict[int, int] = {}  # id(pattern) -> node id
        self.mix_nodes: dict[Lin, int] = {}
        self.back_refs: dict[ast.Pos, list[str]] = {}  # position of a loop-closing reference -> the loop
        self.feedback_nodes: list[tuple[int, ast.BusRef]] = []
        self.cps = DEFAULT_CPS
        self.outmix = "none"

    # ---- statements ------------------------------------------------------------------------------------

    def run(self) -> SignalGraph:
        outputs: dict[int, tuple[ast.Statement, int]] = {}
        for st in self.program.statements:
            target = st.target
            if target.startswith("~"):
                name = target[1:]
                if name in self.bus_defs:
                    first = self.bus_defs[name].pos.line
                    raise PhononError(f"bus ~{name} is defined twice (first on line {first})", st.pos.line, st.pos.col)
                self.bus_defs[name] = st
            elif target in _TEMPO:
                self.cps = self._tempo(st)
            elif target == "outmix":
                self.outmix = self._outmix(st)
            elif m := _OUTPUT.match(target):
                channel = int(m.group(1) or m.group(2) or 0)
                if channel in outputs:
                    first = outputs[channel][0].pos.line
                    raise PhononError(
                        f"output {target} is defined twice (first on line {first})",
                        st.pos.line,
                        st.pos.col,
                        "each output channel is defined once; out is channel 0, o1/d1/out1 are channel 1",
                    )
                outputs[channel] = (st, channel)
            else:
                hint = did_you_mean(target, ["out", "o1", "d1", "tempo", "cps", "bpm", "outmix"])
                raise PhononError(
                    f"unknown statement '{target}'",
                    st.pos.line,
                    st.pos.col,
                    hint or f"buses start with ~ (write ~{target}); outputs are out, o1..oN, d1..dN",
                )

        # Buses compile in dependency order, so each reference finds its bus compiled (no deep recursion).
        for name in self._bus_order():
            self._bus(name, self.bus_defs[name].pos)
        self._connect_feedback()
        graph_outputs: dict[int, tuple[Input, Input]] = {}
        notes: list[str] = []
        for channel, (st, _) in sorted(outputs.items()):
            graph_outputs[channel] = self._output(self._expr(st.expr), st.expr)
        if not outputs:
            if not self.bus_defs:
                raise PhononError(
                    "nothing to play: the program has no output and no bus", 1, 1, "for example `out: sine 440 * 0.2`"
                )
            graph_outputs, note = self._auto_route()
            notes.append(note)

        buses = {}
        for name, value in self.bus_values.items():
            for channel in dict.fromkeys(_channels(value)):
                if isinstance(channel, Lin) and len(channel.terms) == 1 and channel.terms[0][1] == 1.0 and not channel.bias:
                    node_id = channel.terms[0][0]
                    buses.setdefault(name, node_id)
                    self.nodes[node_id].buses.append(name)
        return SignalGraph(
            nodes=self.nodes,
            outputs=graph_outputs,
            cps=self.cps,
            outmix=self.outmix,
            buses=buses,
            source=self.program.source,
            filename=self.program.filename,
            notes=notes,
        )

    def _tempo(self, st: ast.Statement) -> Fraction:
        if not isinstance(st.expr, ast.Number) or st.expr.value <= 0:
            raise PhononError(
                f"{st.target} takes a positive number", st.pos.line, st.pos.col, f"for example `{st.target}: 0.5`"
            )
        return st.expr.value * _TEMPO[st.target]

    def _outmix(self, st: ast.Statement) -> str:
        mode = st.expr.name if isinstance(st.expr, ast.Name) else None
        if mode not in OUTMIX_MODES:
            raise PhononError(
                "outmix takes one of " + ", ".join(OUTMIX_MODES), st.pos.line, st.pos.col, "for example `outmix: sqrt`"
            )
        return mode

    def _auto_route(self) -> tuple[dict[int, Input], str]:
        """No output statement: play ~master, else ~out, else the ~dN/~outN buses, else every bus at 0.25."""
        names = list(self.bus_defs)
        for special in ("master", "out"):
            if special in names:
                return {0: self._output(self.bus_values[special], self.bus_defs[special].expr)}, f"playing ~{special}"
        numbered = [n for n in names if re.fullmatch(r"(?:d|out)\d+", n)]
        chosen, gain = (numbered, 1.0) if numbered else (names, AUTO_ROUTE_GAIN)
        total: Value = Const(0.0)
        for n in chosen:
            total = self._binop("+", total, self.bus_values[n], self.bus_defs[n].expr)
        summary = ", ".join("~" + n for n in chosen) or "nothing"
        note = f"no output statement: playing {summary}" + (" at gain 0.25" if gain != 1.0 else "")
        where = self.bus_defs[chosen[0]].expr
        return {0: self._output(self._binop("*", total, Const(gain), where), where)}, note

    # ---- buses -----------------------------------------------------------------------------------------

    def _bus_order(self) -> list[str]:
        """Every bus, each after the buses it references (iterative DFS, buses and references in source
        order). A reference to a bus still on the DFS path closes a feedback loop: it is recorded as a back
        reference and compiles to a `feedback` node, so the order below it stays acyclic."""
        refs = {name: _bus_refs(st.expr) for name, st in self.bus_defs.items()}
        order: list[str] = []
        state: dict[str, int] = {}  # 1 = on the DFS path, 2 = done
        for root in self.bus_defs:
            if root in state:
                continue
            path = [root]
            stack = [iter(refs[root])]
            state[root] = 1
            while stack:
                ref = next(stack[-1], None)
                if ref is None:
                    stack.pop()
                    done = path.pop()
                    state[done] = 2
                    order.append(done)
                    continue
                if ref.name not in self.bus_defs:
                    self._bus(ref.name, ref.pos)  # raises "undefined bus"
                if state.get(ref.name) == 1:
                    self.back_refs[ref.pos] = path[path.index(ref.name) :] + [ref.name]
                elif ref.name not in state:
                    state[ref.name] = 1
                    path.append(ref.name)
                    stack.append(iter(refs[ref.name]))
        return order

    def _feedback_node(self, ref: ast.BusRef) -> Value:
        """A back reference: a `feedback` node whose input is connected once every bus is compiled."""
        node_id = self._add_node("feedback", (), (), f"~{ref.name}", ref.pos)
        self.nodes[node_id].text = " -> ".join("~" + b for b in self.back_refs[ref.pos])
        self.feedback_nodes.append((node_id, ref))
        return Lin.of(node_id)

    def _connect_feedback(self) -> None:
        for node_id, ref in self.feedback_nodes:
            self.nodes[node_id].inputs = (self._signal(self.bus_values[ref.name], ref),)

    def _bus(self, name: str, pos: ast.Pos) -> Value:
        if name in self.bus_values:
            return self.bus_values[name]
        if name not in self.bus_defs:
            known = list(self.bus_defs)
            hint = did_you_mean(name, known, "~") or (
                "defined buses: " + ", ".join("~" + b for b in known) if known else "no bus is defined yet"
            )
            raise PhononError(f"undefined bus ~{name}", pos.line, pos.col, hint)
        st = self.bus_defs[name]
        value = self._expr(st.expr)
        if isinstance(value, (Lin, Stereo)):  # a bus is one shared node (per channel), however often it is used
            left, right = (Lin.of(self._node_of(c, st.expr.pos)) if isinstance(c, Lin) else c for c in _channels(value))
            value = Stereo(left, right) if isinstance(value, Stereo) else left
        self.bus_values[name] = value
        return value

    # ---- expressions -----------------------------------------------------------------------------------

    def _expr(self, e: ast.Expr) -> Value:
        match e:
            case ast.Number(value=v):
                return Const(float(v))
            case ast.String():
                return Pat(self._pattern(e), e.text, e.pos)
            case ast.BusRef(name=name, pos=pos):
                if pos in self.back_refs:
                    return self._feedback_node(e)
                return self._bus(name, pos)
            case ast.Name():
                return self._call(ast.Call(e.name, (), (), e.pos), None)
            case ast.Call():
                return self._call(e, None)
            case ast.BinOp():
                # Walk the left spine iteratively: generated programs sum hundreds of terms.
                spine = []
                while isinstance(e, ast.BinOp):
                    spine.append(e)
                    e = e.left
                value = self._expr(e)
                for op in reversed(spine):
                    value = self._binop(op.op, value, self._expr(op.right), op)
                return value
            case ast.Neg(operand=operand):
                return self._binop("*", self._expr(operand), Const(-1.0), e)
            case ast.Chain(left=left, right=right):
                return self._inject(right, self._expr(left), e)
            case ast.Apply(func=func, arg=arg):
                return self._inject(func, self._expr(arg), e)
            case ast.List(items=items):
                total: Value = Const(0.0)
                for item in items:
                    total = self._binop("+", total, self._expr(item), item)
                return total
        raise AssertionError(f"unknown syntax node {e!r}")

    def _inject(self, e: ast.Expr, value: Value, where: ast.Chain | ast.Apply) -> Value:
        """`value # e`: pass value into the leftmost call of e (looking through parentheses and operators)."""
        match e:
            case ast.Call():
                return self._call(e, value)
            case ast.Name():
                return self._call(ast.Call(e.name, (), (), e.pos), value)
            case ast.BinOp():
                return self._binop(e.op, self._inject(e.left, value, where), self._expr(e.right), e)
            case ast.Neg():
                return self._binop("*", self._inject(e.operand, value, where), Const(-1.0), e)
            case ast.Chain():
                return self._inject(e.right, self._inject(e.left, value, where), where)
        op = "#" if isinstance(where, ast.Chain) else "$"
        raise PhononError(
            f"the {op} operator needs a function on its {'right' if op == '#' else 'left'}",
            e.pos.line,
            e.pos.col,
            "for example `saw 110 # lpf 800 0.7`",
        )

    # ---- calls -----------------------------------------------------------------------------------------

    def _call(self, call: ast.Call, injected: Value | None) -> Value:
        name = call.name
        if name in ARITHMETIC_FUNCTIONS:
            return self._arithmetic_call(call, injected)
        function = FUNCTIONS.get(name)
        if function is None:
            raise PhononError(
                f"unknown function '{name}'",
                call.pos.line,
                call.pos.col,
                did_you_mean(name, all_names()) or "see the function list in README.md",
            )
        if injected is not None and function.chain == "multiply":
            envelope = self._call(call, None)
            return self._binop("*", injected, envelope, call)
        args = self._bind(function.name, function.params, call, injected)
        if any(isinstance(v, Stereo) for v in args.values()):  # one node per channel
            left = self._function_node(function, {k: _channels(v)[0] for k, v in args.items()}, call)
            right = self._function_node(function, {k: _channels(v)[1] for k, v in args.items()}, call)
            return Stereo(left, right)
        return self._function_node(function, args, call)

    def _function_node(self, function: Function, args: dict[str, Value], call: ast.Call) -> Lin:
        kind = KINDS[function.kind]
        inputs = tuple(self._signal(args[p], call) for p in kind.inputs)
        consts = tuple(self._const_for(function, c) for c in kind.consts)
        return Lin.of(self._add_node(function.kind, inputs, consts, call.name, call.pos))

    def _const_for(self, function: Function, const: str) -> float:
        if const in function.fixed:
            return function.fixed[const]
        if const == "seed":
            return float(len(self.nodes) + 1)  # deterministic: depends only on the program
        if const == "cps":
            return float(self.cps)
        raise AssertionError(f"no value for const {const!r} of {function.name}")

    def _bind(
        self, fname: str, params: tuple[Param, ...], call: ast.Call, injected: Value | None
    ) -> dict[str, Value]:
        """Match positional and keyword arguments to parameters; fill defaults; explain any mismatch."""
        signature = " ".join([fname, *(p.name if p.default is None else f"[{p.name}={p.default:g}]" for p in params)])
        given: list[Value] = [] if injected is None else [injected]
        given += [self._expr(a) for a in call.args]
        if len(given) > len(params):
            raise PhononError(
                f"{fname} takes at most {len(params)} argument{'s' if len(params) != 1 else ''}, got {len(given)}",
                call.pos.line,
                call.pos.col,
                f"usage: {signature}" + (" (the left side of # is the first)" if injected is not None else ""),
            )
        bound = {p.name: v for p, v in zip(params, given)}
        for kw in call.keywords:
            names = [p.name for p in params]
            if kw.name not in names:
                raise PhononError(
                    f"{fname} has no parameter '{kw.name}'",
                    kw.pos.line,
                    kw.pos.col,
                    did_you_mean(kw.name, names, ":") or f"usage: {signature}",
                )
            if kw.name in bound:
                raise PhononError(f"{fname}: '{kw.name}' is given twice", kw.pos.line, kw.pos.col, f"usage: {signature}")
            bound[kw.name] = self._expr(kw.value)
        for p in params:
            if p.name not in bound:
                if p.default is None:
                    raise PhononError(
                        f"{fname} needs its '{p.name}' argument", call.pos.line, call.pos.col, f"usage: {signature}"
                    )
                bound[p.name] = Const(p.default)
        return bound

    def _arithmetic_call(self, call: ast.Call, injected: Value | None) -> Value:
        params = ARITHMETIC_FUNCTIONS[call.name]
        if params:  # gain / amp
            args = self._bind(call.name, params, call, injected)
            return self._binop("*", args["input"], args["amount"], call)
        if call.keywords:
            kw = call.keywords[0]
            raise PhononError(f"{call.name} takes no keyword arguments", kw.pos.line, kw.pos.col)
        items = [e for a in call.args for e in (a.items if isinstance(a, ast.List) else (a,))]
        total: Value = Const(0.0) if injected is None else injected
        for item in items:
            total = self._binop("+", total, self._expr(item), item)
        return total

    # ---- arithmetic ------------------------------------------------------------------------------------

    def _binop(self, op: str, a: Value, b: Value, where: Any) -> Value:
        if isinstance(a, Stereo) or isinstance(b, Stereo):
            (al, ar), (bl, br) = _channels(a), _channels(b)
            return Stereo(self._binop(op, al, bl, where), self._binop(op, ar, br, where))
        base = op.strip("|")
        if isinstance(a, Const) and isinstance(b, Const):
            return Const(_apply(base, a.value, b.value))
        if isinstance(a, (Const, Pat)) and isinstance(b, (Const, Pat)):
            return self._pattern_op(op, a, b, where)
        la, lb = self._linear(a, where), self._linear(b, where)
        if base == "+":
            return la.plus(lb)
        if base == "-":
            return la.plus(lb.scaled(-1.0))
        if base == "*":
            if not la.terms:
                return lb.scaled(la.bias)
            if not lb.terms:
                return la.scaled(lb.bias)
            return Lin.of(self._add_node("mul", (self._materialize(la, where.pos), self._materialize(lb, where.pos)), (), "*", where.pos))
        if base == "/":
            if not lb.terms:
                return la.scaled(1.0 / lb.bias) if abs(lb.bias) > 1e-10 else Const(0.0)
            return Lin.of(self._add_node("div", (self._materialize(la, where.pos), self._materialize(lb, where.pos)), (), "/", where.pos))
        raise AssertionError(op)

    def _pattern_op(self, op: str, a: Value, b: Value, where: Any) -> Value:
        from graph.patterns import pure

        structure = "left" if op.startswith("|") else "right" if op.endswith("|") else "both"
        pa = a.pattern if isinstance(a, Pat) else pure(a.value)
        pb = b.pattern if isinstance(b, Pat) else pure(b.value)
        text_a = a.text if isinstance(a, Pat) else f"{a.value:g}"
        text_b = b.text if isinstance(b, Pat) else f"{b.value:g}"
        pattern = pa.op(op.strip("|"), pb, structure)
        return Pat(pattern, f"{text_a} {op} {text_b}", where.pos)

    def _linear(self, v: Value, where: Any) -> Lin:
        if isinstance(v, Const):
            return Lin((), v.value)
        if isinstance(v, Pat):
            return Lin.of(self._pattern_node(v))
        return v

    # ---- nodes -----------------------------------------------------------------------------------------

    def _output(self, v: Value, where: Any) -> tuple[Input, Input]:
        """An output's left and right inputs (the same for a mono signal: it sits in the centre)."""
        left, right = _channels(v)
        return self._signal(left, where), self._signal(right, where)

    def _signal(self, v: Value, where: Any) -> Input:
        """The value as a mono node input: a constant stays a float, anything else becomes a node. A stereo
        value where one channel is needed (a parameter, a feedback reference) is its mid, (L + R) / 2."""
        if isinstance(v, Stereo):
            v = self._binop("*", self._binop("+", v.left, v.right, where), Const(0.5), where)
        if isinstance(v, Const):
            return v.value
        return self._materialize(self._linear(v, where), where.pos)

    def _materialize(self, lin: Lin, pos: ast.Pos | None) -> Input:
        if not lin.terms:
            return lin.bias
        if len(lin.terms) == 1 and lin.terms[0][1] == 1.0 and lin.bias == 0.0:
            return lin.terms[0][0]
        return self._node_of(lin, pos)

    def _node_of(self, lin: Lin, pos: ast.Pos | None) -> int:
        if len(lin.terms) == 1 and lin.terms[0][1] == 1.0 and lin.bias == 0.0:
            return lin.terms[0][0]
        if lin not in self.mix_nodes:
            inputs = tuple(n for n, _ in lin.terms)
            consts = (lin.bias, *(g for _, g in lin.terms))
            self.mix_nodes[lin] = self._add_node("mix", inputs, consts, "mix", pos)
        return self.mix_nodes[lin]

    def _pattern_node(self, v: Pat) -> int:
        key = id(v.pattern)
        if key not in self.pattern_nodes:
            node_id = self._add_node("pattern", (), (), "pattern", v.pos)
            self.nodes[node_id].pattern = v.pattern
            self.nodes[node_id].text = v.text
            self.pattern_nodes[key] = node_id
        return self.pattern_nodes[key]

    def _pattern(self, s: ast.String) -> Any:
        from graph.patterns import MiniNotationError, parse_mini

        try:
            return parse_mini(s.text)
        except MiniNotationError as e:
            col = s.pos.col + (e.column if e.column else 1)  # the quote is at s.pos.col
            raise PhononError(f"in pattern \"{s.text}\": {e.message}", s.pos.line, col) from None

    def _add_node(self, kind: str, inputs: tuple[Input, ...], consts: tuple[float, ...], label: str, pos: Any) -> int:
        node = Node(len(self.nodes), kind, inputs, consts, label, pos)
        self.nodes.append(node)
        return node.id


def _bus_refs(expr: ast.Expr) -> list[ast.BusRef]:
    """Bus references in an expression, in source order."""
    found, stack = [], [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, ast.BusRef):
            found.append(e)
        elif isinstance(e, ast.Keyword):
            stack.append(e.value)
        elif isinstance(e, (ast.Call, ast.List)):
            stack.extend(reversed([*getattr(e, "args", ()), *getattr(e, "items", ()), *getattr(e, "keywords", ())]))
        elif isinstance(e, (ast.BinOp, ast.Chain, ast.Apply)):
            a, b = (e.left, e.right) if not isinstance(e, ast.Apply) else (e.func, e.arg)
            stack.extend((b, a))
        elif isinstance(e, ast.Neg):
            stack.append(e.operand)
    return sorted(found, key=lambda r: (r.pos.line, r.pos.col))


def _apply(op: str, a: float, b: float) -> float:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return a / b if abs(b) > 1e-10 else 0.0
