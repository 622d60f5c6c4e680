"""Compile a parsed program into a SignalGraph.

Names are resolved after parsing, so a bus may be used before its definition. Expressions compile to one of
three values: a constant, a pattern (kept symbolic so pattern arithmetic and transforms stay exact), or a
linear form `bias + sum(gain * node)`; linear forms become one `mix` node only when something needs a
signal, so `(~a + ~b - ~c) * 0.5 + 1` costs one node, and constants fold away entirely.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import replace
from fractions import Fraction
from typing import Any

from phonon.graph import ast
from phonon.graph.errors import PhononError, did_you_mean
from phonon.graph.kinds import (
    ARITHMETIC_FUNCTIONS,
    FUNCTIONS,
    GRAIN_PARAMS,
    KINDS,
    MAX_GRAIN_DENSITY,
    SYNTH_WAVES,
    VOICE_PARAMS,
    Function,
    Param,
)
from phonon.graph.glossary import unknown_hint
from phonon.graph.limits import MAX_CPS, MIN_CPS
from phonon.graph.orbits import add_orbits
from phonon.graph.parser import NUMBER_RANGE_HINT, parse
from phonon.graph.patterns import TRANSFORMS, PatternLimitError, TransformError, control_value
from phonon.graph.patterns.constructors import CONSTRUCTORS, Constructor
from phonon.graph.patterns.signals import SIGNALS
from phonon.graph.signal_graph import OUTMIX_MODES, PARTIAL_SUM, Input, Node, SignalGraph
from phonon.graph.values import (
    SIGNAL_CONTROLS, VOICE_CONTROLS, Const, Lin, Pat, Stereo, Value, Voices, apply_op, channels, control_name,
    has_notes,
    sample_controls, voice_value,
)

DEFAULT_CPS = Fraction(1, 2)
MIX_CHUNK = 16  # inputs per partial sum when a wide sum is split (see _split_wide_mixes)
AUTO_ROUTE_GAIN = 0.25


_OUTPUT = re.compile(r"^(?:out(\d*)|[od]([1-9]\d*))$")
# Tempo statements: cycles per second for each unit. `bpm` counts one beat per cycle, as the original Phonon
# did, unless a time signature says how many beats a cycle holds (`bpm: 130 "4/4"`, Tidal and Strudel's
# cps = bpm / 60 / 4).
_TEMPO = {"tempo": Fraction(1), "cps": Fraction(1), "cpm": Fraction(1, 60), "bpm": Fraction(1, 60)}
# A section's operator -> (the pattern operator, where the structure comes from), as Tidal's `#` and `|+` family.
_SECTION_OPS = {"#": (">", "left")} | {
    form: (op, structure)
    for op in "+-*/%<>"
    for form, structure in ((f"|{op}", "left"), (f"{op}|", "right"), (f"|{op}|", "both"), (op, "both"))
}


def _control_call(e: ast.Expr) -> bool:
    """`n 12`, `speed "1 2"`: a voice parameter with its value, as the right side of `|+` on voices."""
    return isinstance(e, ast.Call) and e.name in VOICE_PARAMS and len(e.args) == 1 and not e.keywords
_ARITHMETIC = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
_SIGNATURE = re.compile(r"^\s*([1-9]\d{0,2})\s*/\s*([1-9]\d{0,2})\s*$")


def compile_program(text: str, filename: str = "<program>") -> SignalGraph:
    """Parse and compile a whole program. Raises PhononError (with line and column) on any problem."""
    program = parse(text, filename)
    try:
        # A feedback reference is compiled before the bus it closes, so whether that bus is stereo is learnt
        # by compiling: compile again, those references stereo, until no new stereo loop turns up (each
        # round adds a bus, so this ends; a program without stereo loops compiles once).
        stereo_loops: frozenset[str] = frozenset()
        while True:
            compiler = _Compiler(program, stereo_loops)
            graph = compiler.run()
            found = stereo_loops | compiler.stereo_loops_found()
            if found == stereo_loops:
                return graph
            stereo_loops = found
    except PhononError as e:
        raise e.located(text, filename) from None
    except PatternLimitError as e:  # from a pattern queried where no position was at hand
        raise _limit_error(e).located(text, filename) from None


_EXPRESSION = "~events: "  # what `compile_pattern` puts before an expression to make it a program


def compile_pattern(text: str) -> Any:
    """The pattern of an expression of the language (`"0 2" $ scale "C:major"`, `n "0 .. 3" # s "arpy"`),
    or of bare mini-notation (`bd*2 sn`), as `phonon events` takes them: voices give their control maps,
    a number a constant pattern. Raises PhononError (columns those of `text`) or MiniNotationError."""
    from phonon.graph.patterns import MiniNotationError, parse_mini, pure

    if not any(c in text for c in '"$#('):  # no quote, $, # or parenthesis: mini-notation (`bd*2 sn`)
        return parse_mini(text)
    try:
        program = parse(f"{_EXPRESSION}{text}\n", "<expression>")
        (statement,) = program.statements
        value = _Compiler(program)._expr(statement.expr)  # only the expression: nothing is made a signal
    except (PhononError, PatternLimitError) as error:
        try:
            return parse_mini(text)  # mini-notation after all (`c# e`, `bd(3,8)`)
        except MiniNotationError:
            pass
        e = _limit_error(error) if isinstance(error, PatternLimitError) else error
        col = e.col - len(_EXPRESSION) if e.line == 1 and e.col and e.col > len(_EXPRESSION) else e.col
        raise PhononError(e.message, e.line, col, e.hint) from None
    if isinstance(value, Voices):
        return value.merged().pattern
    if isinstance(value, Pat):
        return value.pattern
    if isinstance(value, Const):
        return pure(value.value)
    raise PhononError("this expression is a signal, not a pattern: it has no events to list", 1, 1,
                      'list a pattern: `"0 2" $ scale "C:major"`, `s "bd*2 sn"`, `n "0 .. 3" # s "arpy"`')


class _Compiler:
    def __init__(self, program: ast.Program, stereo_loops: frozenset[str] = frozenset()) -> None:
        self.program = program
        self.stereo_loops = stereo_loops  # buses known to be stereo whose feedback references read both sides
        self.nodes: list[Node] = []
        self.bus_defs: dict[str, ast.Statement] = {}
        self.bus_values: dict[str, Value] = {}
        self.pattern_nodes: dict[int, int] = {}  # id(pattern) -> node id
        self.kept: list[Any] = []  # patterns made while compiling that nothing else holds (their ids stay theirs)
        self.mix_nodes: dict[Lin, int] = {}
        self.back_refs: dict[ast.Pos, list[str]] = {}  # position of a loop-closing reference -> the loop
        self.feedback_nodes: list[tuple[int, ast.BusRef, int | None]] = []  # node, reference, channel (None: mid)
        self.voice_nodes: dict[int, tuple[Voices, Stereo]] = {}
        self.leaf_transforms: list[Any] = []  # transforms applied to every pattern literal compiled now
        self.leaves_transformed = 0
        self.cps = DEFAULT_CPS
        self.tempo = ""  # how the program gave its tempo (graph/report says it)
        self.outmix = "none"
        self.warnings: list[str] = []  # `FILE:LINE:COL: warning: ...`, the graph's first notes

    # ---- statements ------------------------------------------------------------------------------------

    def run(self) -> SignalGraph:
        outputs: dict[int, tuple[ast.Statement, int]] = {}
        hush: ast.Command | None = None
        for st in self.program.statements:
            if isinstance(st, ast.Command):
                hush = hush or self._command(st)
                continue
            target = st.target
            if st.signature is not None and target not in _TEMPO:
                where = st.signature.pos
                raise PhononError(
                    "a pattern after the expression: only `bpm: N \"4/4\"` takes one", where.line, where.col,
                    "to play it, give it to a function (`s \"bd sn\"`); to add it, use an operator",
                )
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
                hint = did_you_mean(target, ["out", "o1", "d1", *_TEMPO, "outmix"])
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
        if hush is not None:  # everything still compiles (a mistake is still an error), and nothing plays
            graph_outputs = {}
            notes.append(f"note: hush (line {hush.pos.line}): every output is silent")
        elif not outputs:
            if not self.bus_defs:
                raise PhononError(
                    "nothing to play: the program has no output and no bus", 1, 1,
                    "for example `out: sine 440 * 0.2`, or `hush` for silence",
                )
            graph_outputs, note = self._auto_route()
            notes.append(f"note: {note}")

        output_names = {channel: st.target for channel, (st, _) in outputs.items()}
        add_orbits(self, graph_outputs, output_names)  # the orbits' effect buses (graph/orbits.py)
        self._split_wide_mixes()
        buses = {}
        for name, value in self.bus_values.items():
            if isinstance(value, Voices) and id(value) in self.voice_nodes:  # the signal it became
                value = self.voice_nodes[id(value)][1]
            elif isinstance(value, Pat) and id(value.pattern) in self.pattern_nodes:
                value = Lin.of(self.pattern_nodes[id(value.pattern)])
            for channel in dict.fromkeys(channels(value)):
                if isinstance(channel, Lin) and len(channel.terms) == 1 and channel.terms[0][1] == 1.0 and not channel.bias:
                    node_id = channel.terms[0][0]
                    buses.setdefault(name, node_id)
                    self.nodes[node_id].buses.append(name)
        return SignalGraph(
            nodes=self.nodes,
            outputs=graph_outputs,
            cps=self.cps,
            outmix=self.outmix,
            tempo=self.tempo,
            buses=buses,
            source=self.program.source,
            filename=self.program.filename,
            notes=list(dict.fromkeys(self.warnings)) + notes,  # a bus compiled twice warns once
            output_names=output_names,
        )

    def _split_wide_mixes(self) -> None:
        """A sum of many signals becomes partial sums of MIX_CHUNK inputs each, then one sum of those, so the
        parallel runtime can spread one heavy bus over several workers. The split depends only on the
        program, never on the worker count, so every worker count adds the same numbers in the same order."""
        for node in [n for n in self.nodes if n.kind == "mix"]:
            while len(node.inputs) > MIX_CHUNK:  # a tree: partial sums of partial sums for huge sums
                self._split_mix(node)

    def _split_mix(self, node: Node) -> None:
        bias, gains = node.consts[0], node.consts[1:]
        chunks = []
        for start in range(0, len(node.inputs), MIX_CHUNK):
            part = node.inputs[start : start + MIX_CHUNK]
            chunks.append(self._add_node("mix", part, (0.0, *gains[start : start + MIX_CHUNK]), PARTIAL_SUM, node.pos))
        node.inputs = tuple(chunks)
        node.consts = (bias, *([1.0] * len(chunks)))

    def _command(self, command: ast.Command) -> ast.Command:
        """`hush` (Tidal's: stop every output); any other lone word is a mistake, named as one."""
        if command.name != "hush":
            raise PhononError(
                f"'{command.name}' alone is not a statement", command.pos.line, command.pos.col,
                did_you_mean(command.name, ["hush"]) or "a statement is `target: expression` (e.g. `out: sine 440`), "
                "or `hush` to silence every output",
            )
        return command

    def _tempo(self, st: ast.Statement) -> Fraction:
        value = _exact_number(st.expr)
        if value is None or value <= 0:
            raise PhononError(
                f"{st.target} takes a positive number, or arithmetic of numbers", st.pos.line, st.pos.col,
                f"for example `{st.target}: 0.5`" + (" or `cps: 130/60/4`" if st.target == "cps" else ""),
            )
        beats = self._beats_per_cycle(st)
        cps = value * _TEMPO[st.target] / beats
        if not MIN_CPS <= cps <= MAX_CPS:
            too_fast = cps > MAX_CPS
            limit = float((MAX_CPS if too_fast else MIN_CPS) * beats / _TEMPO[st.target])
            raise PhononError(
                f"{st.target} {float(value):g} is too {'fast' if too_fast else 'slow'}: the "
                f"{'fastest' if too_fast else 'slowest'} tempo is `{st.target}: {limit:g}`",
                st.expr.pos.line if isinstance(st.expr, ast.Number) else st.pos.line,
                st.expr.pos.col if isinstance(st.expr, ast.Number) else st.pos.col,
                "tempo and cps count cycles per second, cpm cycles per minute, bpm beats per minute: e.g. "
                "`tempo: 0.5` or `bpm: 120 \"4/4\"`; " + (
                    "a faster clock is no tempo, and its work per second grows without bound" if too_fast
                    else "a cycle of a million seconds is the slowest that counts exactly"),
            )
        if st.target == "bpm" and st.signature is not None:
            self.tempo = f'bpm: {float(value):g} "{st.signature.text}": {beats} beat{"s" * (beats > 1)} per cycle'
        elif st.target == "bpm":
            self.tempo = (f"bpm: {float(value):g} counts one beat per cycle, as the original Phonon did (Tidal and "
                          f'Strudel count four: `bpm: {float(value):g} "4/4"`)')
        return cps

    def _beats_per_cycle(self, st: ast.Statement) -> int:
        """The beats in one cycle: 1, or the numerator of a time signature (`bpm: 130 "3/4"`: 3)."""
        if st.signature is None:
            return 1
        where = st.signature.pos
        if st.target != "bpm":
            raise PhononError(
                f"only bpm takes a time signature, not {st.target}", where.line, where.col,
                f'for example `bpm: 130 "4/4"`; {st.target} counts cycles, whatever their beats',
            )
        m = _SIGNATURE.match(st.signature.text)
        if m is None:
            raise PhononError(
                f'"{st.signature.text}" is not a time signature', where.line, where.col,
                'write beats per cycle over the beat\'s note value, e.g. "4/4", "3/4" or "7/8"',
            )
        return int(m.group(1))

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
        """A back reference: a `feedback` node whose input is connected once every bus is compiled; two, one
        per side, for a bus known to be stereo (`compile_program` learns which)."""
        sides: tuple[int | None, ...] = (0, 1) if ref.name in self.stereo_loops else (None,)
        values = []
        for channel in sides:
            label = f"~{ref.name}" + ("" if channel is None else (" (left)", " (right)")[channel])
            node_id = self._add_node("feedback", (), (), label, ref.pos)
            self.nodes[node_id].text = " -> ".join("~" + b for b in self.back_refs[ref.pos])
            self.feedback_nodes.append((node_id, ref, channel))
            values.append(Lin.of(node_id))
        return Stereo(*values) if len(values) == 2 else values[0]

    def _connect_feedback(self) -> None:
        for node_id, ref, channel in self.feedback_nodes:
            value = self.bus_values[ref.name]
            self.nodes[node_id].inputs = (self._signal(value if channel is None else channels(value)[channel], ref),)

    def stereo_loops_found(self) -> frozenset[str]:
        """The buses closed by a feedback reference that turned out stereo (voices sound in stereo)."""
        return frozenset(ref.name for _, ref, _ in self.feedback_nodes
                         if isinstance(self.bus_values[ref.name], (Stereo, Voices)))

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
            left, right = (Lin.of(self._node_of(c, st.expr.pos)) if isinstance(c, Lin) else c for c in channels(value))
            value = Stereo(left, right) if isinstance(value, Stereo) else left
        self.bus_values[name] = value
        return value

    # ---- expressions -----------------------------------------------------------------------------------

    def _expr(self, e: ast.Expr) -> Value:
        match e:
            case ast.Number(value=v):
                return Const(float(v))
            case ast.String():
                pattern = self._pattern(e)
                for fn in reversed(self.leaf_transforms):
                    pattern = fn(pattern)
                    self.leaves_transformed += 1
                return Pat(pattern, e.text, e.pos)
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
                    if isinstance(value, Voices) and op.op in _SECTION_OPS and _control_call(op.right):
                        value = self._transformed_value(ast.Section(op.op, op.right, op.pos), value)  # `|+ n 12`
                    else:
                        value = self._binop(op.op, value, self._expr(op.right), op)
                return value
            case ast.Neg(operand=operand):
                return self._binop("*", self._expr(operand), Const(-1.0), e)
            case ast.Chain(left=left, right=right):
                return self._inject(right, self._expr(left), e)
            case ast.Apply():
                return self._application(e)
            case ast.Shift():
                shift = ast.Call("early" if e.op == "<~" else "late", (e.amount,), (), e.pos)
                return self._transformed(e.pattern, [shift])
            case ast.Section(op=op, pos=pos):
                raise PhononError(
                    f"({op} ...) is a function of a pattern: give it to a transform or apply it with $",
                    pos.line, pos.col,
                    f'for example `s "bd sn" $ every 3 ({op} speed 2)` or `s "bd sn" $ ({op} speed 2)`',
                )
            case ast.List(pair=True):
                raise _pair_error(e)
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
        pair = next((a for a in call.args if isinstance(a, ast.List) and a.pair), None)
        if pair is not None and name not in CONSTRUCTORS and name not in TRANSFORMS:
            raise _pair_error(pair)
        if name in SIGNALS and name not in FUNCTIONS and not call.args and injected is None:
            return Pat(SIGNALS[name], name, call.pos)  # `rand`, `perlin`, `cosine`: continuous patterns
        if name in ("s", "sound"):
            return self._samples(call, injected)
        if name == "grain":
            return self._grain(call, injected)
        # A function of signals that is also a voice control (`lpf`, `vowel`, `distort`, `pan`) is the function on
        # a signal (`sine 440 # pan 0.2` places it), and given more than one argument (`s "x*4" # lpf 300 0.8`
        # filters the voices' sum); with one, on voices (or alone: an error that says so), it is the control, per
        # voice (`s "x*4" # lpf "300 3000"`).
        one = len(call.args) == 1 and not call.keywords
        signal_function = name in FUNCTIONS and not (one and (injected is None or isinstance(injected, Voices)))
        if name in VOICE_PARAMS and not signal_function and (isinstance(injected, Voices) or name not in ARITHMETIC_FUNCTIONS):
            return self._voice_param(call, injected)
        if name in CONSTRUCTORS and name not in ARITHMETIC_FUNCTIONS:
            return self._construct(call, injected)
        if name in ARITHMETIC_FUNCTIONS:
            return self._arithmetic_call(call, injected)
        if name in TRANSFORMS and len(call.args) == len(TRANSFORMS[name].params) + 1 and injected is None:
            # Tidal's prefix application: the last argument is what it transforms (`range 200 800 sine`)
            head = ast.Call(name, call.args[:-1], call.keywords, call.pos)
            return self._transformed(call.args[-1], [head])
        if name in TRANSFORMS:
            raise PhononError(
                f"{name} transforms a pattern; apply it with $",
                call.pos.line,
                call.pos.col,
                f'for example `s "bd sn" $ {name} ...` or `{name} ... $ s "bd sn"`',
            )
        function = FUNCTIONS.get(name)
        if function is None:
            raise PhononError(
                f"unknown function '{name}'",
                call.pos.line,
                call.pos.col,
                unknown_hint(name),
            )
        if name in SYNTH_WAVES and injected is None and call.args:
            first = self._expr(call.args[0])
            if isinstance(first, Pat) and _checked(has_notes, first.pattern, first.pos, ""):
                return self._synth(call, first)
        if injected is not None and function.chain == "multiply":
            envelope = self._call(call, None)
            return self._binop("*", injected, envelope, call)
        args = {k: self._sound(v) for k, v in self._bind(function.name, function.params, call, injected).items()}
        self._clamp_constants(function, args, call, injected)
        if function.sided:
            return self._sided(function, args, call)
        if any(isinstance(v, Stereo) for v in args.values()):  # one node per channel
            left = self._function_node(function, {k: channels(v)[0] for k, v in args.items()}, call)
            right = self._function_node(function, {k: channels(v)[1] for k, v in args.items()}, call)
            return Stereo(left, right)
        return self._function_node(function, args, call)

    def _clamp_constants(self, function: Function, args: dict[str, Value], call: ast.Call,
                         injected: Value | None) -> None:
        """A constant outside its parameter's range (graph/kinds.py Param lo, hi) becomes the end of the range,
        as the kernel would clamp it, and a warning at the argument says so: `delay 3` is a 2 s delay."""
        for p in function.params:
            value = args[p.name]
            if not isinstance(value, Const) or (p.lo is None and p.hi is None):
                continue
            lo, hi = -math.inf if p.lo is None else p.lo, math.inf if p.hi is None else p.hi
            clamped = min(max(value.value, lo), hi)
            if clamped != value.value:
                pos = _argument_nodes(function.params, call, injected).get(p.name, call).pos
                side = "above its maximum" if clamped < value.value else "below its minimum"
                self.warnings.append(
                    f"{self.program.filename}:{pos.line}:{pos.col}: warning: {function.name}'s {p.name} "
                    f"{value.value:g} is {side} {clamped:g}: clamped to {clamped:g} (see `phonon help {function.name}`)"
                )
                args[p.name] = Const(clamped)

    def _sided(self, function: Function, args: dict[str, Value], call: ast.Call) -> Stereo:
        """A stereo pair of nodes, one per side (`pan`, `width`, `reverb`: graph/kinds.py `Function.sided`)."""
        stereo = float(isinstance(args["input"], Stereo))
        sides = []
        for side in (0, 1):
            fixed = {**function.fixed, "side": float(side), "stereo": stereo}
            side_args = {k: channels(v)[side] for k, v in args.items()}
            side_args["other"] = channels(args["input"])[1 - side]
            sides.append(self._function_node(replace(function, fixed=fixed), side_args, call))
        return Stereo(*sides)

    def _function_node(self, function: Function, args: dict[str, Value], call: ast.Call) -> Lin:
        function = self._variant(function, args, call)
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
        self, fname: str, params: tuple[Param, ...], call: ast.Call, injected: Value | None, patterns: bool = False
    ) -> dict[str, Value]:
        """Match positional and keyword arguments to parameters; fill defaults; explain any mismatch. `patterns`:
        the arguments are where patterns are wanted (a bare `saw` is the continuous pattern, `_pattern_value`)."""
        signature = " ".join([fname, *(p.usage() for p in params)])
        value_of = self._pattern_value if patterns else self._expr
        given: list[Value] = [] if injected is None else [injected]
        given += [value_of(a) for a in call.args]
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
            bound[kw.name] = value_of(kw.value)
        for p in params:
            if p.name not in bound:
                if p.required:
                    raise PhononError(
                        f"{fname} needs its '{p.name}' argument", call.pos.line, call.pos.col, f"usage: {signature}"
                    )
                # absent: a number, or the value of an earlier parameter (a sidechain: the input itself)
                bound[p.name] = Const(p.default) if p.same_as is None else bound[p.same_as]
        return bound

    def _variant(self, function: Function, args: dict[str, Value], call: ast.Call) -> Function:
        """The function with its variant kind when a `same_as` parameter is given another signal than the one
        it defaults to (`comp ... :sidechain ~kick`); the function itself otherwise, so a sidechain that is
        the input itself makes the plain kind, the same node as without it."""
        for name, kind in function.variants.items():
            same_as = next(p.same_as for p in function.params if p.name == name)
            given, default = self._signal(args[name], call), self._signal(args[same_as], call)
            if type(given) is not type(default) or given != default:  # a node id (int) is no constant (float)
                return replace(function, kind=kind)
        return function

    def _arithmetic_call(self, call: ast.Call, injected: Value | None) -> Value:
        params = ARITHMETIC_FUNCTIONS[call.name]
        if params:  # gain / amp
            args = self._bind(call.name, params, call, injected)
            return self._binop("*", args["input"], args["amount"], call)
        if call.keywords:
            kw = call.keywords[0]
            raise PhononError(f"{call.name} takes no keyword arguments", kw.pos.line, kw.pos.col)
        items = [e for a in call.args for e in (a.items if isinstance(a, ast.List) else (a,))]
        values = [self._expr(item) for item in items]
        patterns = values and all(isinstance(v, (Pat, Const)) for v in values)
        if call.name in CONSTRUCTORS and injected is None and patterns:  # `stack "bd" "hh*2"`: a pattern
            args = [_argument_of(v) for v in values]
            return self._pattern_of(call, CONSTRUCTORS[call.name], args, _call_text(call.name, values))
        total: Value = Const(0.0) if injected is None else injected  # signals: their sum (the original's stack)
        for item, value in zip(items, values):
            total = self._binop("+", total, value, item)
        return total

    def _construct(self, call: ast.Call, injected: Value | None) -> Pat:
        """`cat "bd sn" "hh"`, `run 4`, `choose [0, 2, 7]`, `silence`: a pattern made from its arguments."""
        if injected is not None or call.keywords:
            pos = call.keywords[0].pos if call.keywords else call.pos
            raise PhononError(
                f"{call.name} makes a pattern from its arguments; it takes no keyword and nothing from # or $",
                pos.line, pos.col, f'for example `s ({call.name} "bd sn" "hh*2")`',
            )
        constructor = CONSTRUCTORS[call.name]
        if not constructor.variadic:
            return self._pattern_of(call, constructor, [self._argument(a) for a in call.args], call.name)
        items = [e for a in call.args for e in (a.items if isinstance(a, ast.List) else (a,))]
        values = []
        for item in items:
            value = self._pattern_value(item)
            if not isinstance(value, (Pat, Const)):
                raise PhononError(
                    f"{call.name} takes patterns and numbers, not signals", item.pos.line, item.pos.col,
                    "a pattern is a string in quotes or a number; to sum signals use + or mix",
                )
            values.append(value)
        return self._pattern_of(call, constructor, [_argument_of(v) for v in values], _call_text(call.name, values))

    def _pattern_of(self, call: ast.Call, constructor: Constructor, args: list[Any], text: str) -> Pat:
        try:
            pattern = _probed(constructor.build(*args))
        except PatternLimitError as error:
            raise PhononError(error.message, call.pos.line, call.pos.col, error.hint) from None
        except ValueError as error:
            usage = " ".join([constructor.name, *(p.name for p in constructor.params)])
            raise PhononError(str(error), call.pos.line, call.pos.col, f"usage: {usage}: {constructor.doc}") from None
        return Pat(pattern, text, call.pos)

    # ---- voices ----------------------------------------------------------------------------------------

    def _samples(self, call: ast.Call, injected: Value | None) -> Voices:
        """`s "bd*2 [sn cp]"`: each event plays a sample; its name is the control "s". After controls that
        came first (`note "0 4 7" # s "arpy"`), it names their sound, sampled at each of their events."""
        if isinstance(injected, Voices) and not injected.named and len(call.args) == 1 and not call.keywords:
            named = self._voice_param(ast.Call("s", call.args, (), call.pos), injected)
            return replace(named, named=True)
        if injected is not None or len(call.args) != 1 or call.keywords:
            raise PhononError(
                f"{call.name} takes one pattern of sample names", call.pos.line, call.pos.col, 'usage: s "bd sn:2"'
            )
        value = self._expr(call.args[0])
        if not isinstance(value, Pat):
            raise PhononError(
                f"{call.name} takes a pattern of sample names", call.pos.line, call.pos.col, 'usage: s "bd sn:2"'
            )
        return Voices(value.pattern.fmap(sample_controls), "s", call.pos)

    def _grain(self, call: ast.Call, injected: Value | None) -> Voices:
        """`grain "arpy" 20 0.05 0.3 [pitch] [spray]`: a cloud of `density` grains a second, each a sample voice
        `size` seconds long (attack and release half of it each, hold 0: a triangle) starting at `pos` of the
        sample. Its events are a pattern like any `s` (sample-accurate, the same for every block and worker),
        and the arguments that are patterns are read at each grain's onset, as `#` reads them."""
        from phonon.graph.patterns import pure
        from phonon.graph.patterns.signals import SIGNALS

        usage = "usage: " + " ".join(["grain", *(p.usage() for p in GRAIN_PARAMS)])
        if injected is not None:
            raise PhononError("grain makes voices; it takes nothing from # or $", call.pos.line, call.pos.col, usage)
        args = self._bind("grain", GRAIN_PARAMS, call, None, patterns=True)
        patterns = {}
        for p in GRAIN_PARAMS:
            value = args[p.name]
            if not isinstance(value, (Const, Pat)) or (p.name == "name" and not isinstance(value, Pat)):
                takes = "a pattern of sample names" if p.name == "name" else "a number or a pattern"
                raise PhononError(f"grain's {p.name} takes {takes}", call.pos.line, call.pos.col, usage)
            if isinstance(value, Pat) and p.name != "name":  # numbers, found wrong now rather than mid-render
                _checked(_probe_controls, value.pattern, value.pos, f"grain's {p.name} takes numbers")
            patterns[p.name] = value.pattern if isinstance(value, Pat) else pure(value.value)
        density = args["density"]
        if not (isinstance(density, Const) and 0.0 < density.value <= MAX_GRAIN_DENSITY):
            raise PhononError(f"grain's density is a number of grains a second, above 0 and at most "
                              f"{MAX_GRAIN_DENSITY:g}", call.pos.line, call.pos.col, usage)
        rate = Fraction(density.value) / self.cps  # grains a cycle
        half = patterns["size"].fmap(lambda size: control_value(size) / 2)
        pos = patterns["pos"]
        if args["spray"] != Const(0.0):  # pos moves by spray * (rand - 1/2), Tidal's rand over each grain
            noise = SIGNALS["rand"].fmap(lambda r: r - 0.5)
            jitter = pure(0.0).fast(rate).op("+", noise, "left").op("*", patterns["spray"], "left")
            pos = pos.op("+", jitter, "right")
        params = [("s", patterns["name"]), ("begin", pos), ("attack", half), ("release", half)]
        if args["pitch"] != Const(0.0):
            params.append(("note", patterns["pitch"]))
        grains = pure({"end": 1.0, "hold": 0.0}).fast(rate)
        return Voices(grains, "s", call.pos, params=tuple(params))

    def _synth(self, call: ast.Call, notes: Pat) -> Voices:
        """`saw "c3 e3 g3" [attack decay sustain release]`: each event plays a note on a synth voice."""
        envelope = []
        for arg in call.args[1:5]:
            value = self._expr(arg)
            if not isinstance(value, Const):
                raise PhononError(
                    "a synth's envelope takes numbers", arg.pos.line, arg.pos.col, 'usage: saw "c3 e3" 0.01 0.2 0.5 0.3'
                )
            envelope.append(value.value)
        if len(call.args) > 5 or call.keywords:
            raise PhononError(
                f"{call.name} with notes takes at most an envelope: attack decay sustain release",
                call.pos.line,
                call.pos.col,
                'usage: saw "c3 e3" 0.01 0.2 0.5 0.3',
            )
        envelope += [-1.0] * (4 - len(envelope))  # not given: the kernel's defaults (engine/kernels/voices.py)
        return Voices(notes.pattern.fmap(lambda v: {"pitch": v}), call.name, call.pos, tuple(envelope))

    def _voice_param(self, call: ast.Call, injected: Value | None) -> Value:
        """`voices # gain "1 0.5"`: set a control on each event, sampled at the event's onset. `note` and `n`
        may come first (`note "0 4 7" # s "arpy"`, as in Tidal): their events are the structure, and a later
        `# s` names the sound."""
        if injected is None and call.name in ("note", "n") and len(call.args) == 1 and not call.keywords:
            value = self._pattern_value(call.args[0])
            if isinstance(value, (Pat, Const)):
                from phonon.graph.patterns import pure

                values = value.pattern if isinstance(value, Pat) else pure(value.value)
                controls = values.fmap(lambda v, name=call.name: {name: voice_value(name, v)})
                return Voices(controls, "s", call.pos, named=False)
        if not isinstance(injected, Voices):
            raise PhononError(
                f"{call.name} sets a parameter of sample or synth voices",
                call.pos.line,
                call.pos.col,
                f'use it after voices: `s "bd*4" # {call.name} ...`',
            )
        if len(call.args) != 1 or call.keywords:
            raise PhononError(f"{call.name} takes one value or pattern", call.pos.line, call.pos.col)
        name = control_name(call.name)  # `lpf` sets `cutoff`, `clip` sets `legato` (graph/values.py)
        value = self._pattern_value(call.args[0])
        if isinstance(value, Const):
            from phonon.graph.patterns import pure

            where = call.args[0].pos  # a number's place too, for errors about its value (graph/orbits.py)
            values = pure(value.value).located(where.line, where.col)
        elif isinstance(value, Pat):
            values = value.pattern.located(value.pos.line, value.pos.col)
        elif isinstance(value, Lin) and name in SIGNAL_CONTROLS:  # `# gain ~lfo`: read at each onset sample
            return replace(injected, signals=(*injected.signals, (name, value)))
        else:
            takes = "a number, a pattern or a signal" if name in SIGNAL_CONTROLS else "a number or a pattern"
            raise PhononError(
                f"{call.name} takes {takes} (it is read at each event's onset)", call.pos.line, call.pos.col,
                "signals may give every voice control but " + ", ".join(
                    c.name for c in VOICE_CONTROLS if c.name not in SIGNAL_CONTROLS)
                + "; those take patterns (`segment 8 $ range 1 2 sine`)",
            )
        return replace(injected, params=(*injected.params, (name, values)))

    # ---- transforms ------------------------------------------------------------------------------------

    def _is_transform(self, e: ast.Expr) -> bool:
        if isinstance(e, ast.Section):
            return True
        if isinstance(e, ast.Name):
            return e.name in TRANSFORMS and e.name not in FUNCTIONS
        if isinstance(e, ast.Call):  # given its pattern too (`range 1 5 sine`), it is a pattern, not a transform
            params = TRANSFORMS[e.name].params if e.name in TRANSFORMS else ()
            return e.name in TRANSFORMS and e.name not in FUNCTIONS and len(e.args) <= len(params)
        if isinstance(e, ast.Apply):
            return self._is_transform(e.func) and self._is_transform(e.arg)
        return False

    def _application(self, e: ast.Apply) -> Value:
        """`a $ b $ c`: a pipeline of transforms (`s "bd sn" $ fast 2 $ rev`, left to right), transforms in
        prefix form (`fast 2 $ rev $ s "bd"`, right to left), or application (`lpf 800 $ saw 55` is
        `saw 55 # lpf 800`)."""
        items = []
        while isinstance(e, ast.Apply):
            items.append(e.func)
            e = e.arg
        items.append(e)
        if not self._is_transform(items[0]) and all(self._is_transform(t) for t in items[1:]):
            return self._transformed(items[0], items[1:])
        if all(self._is_transform(t) for t in items[:-1]):
            return self._transformed(items[-1], items[-2::-1])
        value = self._expr(items[-1])
        for f in reversed(items[:-1]):
            value = self._transformed_value(f, value) if self._is_transform(f) else self._inject(f, value, f)
        return value

    def _transformed(self, subject: ast.Expr, transforms: list[ast.Expr]) -> Value:
        """Apply transforms, first to last, to a pattern-bearing subject. A signal made from patterns
        (`sine "220 440"`) gets them on every pattern literal inside it; a subject with no pattern at all is
        an error, never a silent no-op."""
        mark = len(self.nodes)
        value = self._pattern_value(subject)
        if isinstance(value, (Pat, Voices, Const)):
            for t in transforms:
                value = self._transformed_value(t, value)
            return value
        self._rollback(mark)
        fns = [self._transform_fn(t) for t in transforms]
        self.leaf_transforms.extend(reversed(fns))  # the last pushed applies first
        before = self.leaves_transformed
        try:
            value = self._expr(subject)
        finally:
            del self.leaf_transforms[len(self.leaf_transforms) - len(fns) :]
        if self.leaves_transformed == before:
            t = transforms[0]
            raise PhononError(
                f"{_source_name(t)} has no pattern to transform here",
                t.pos.line,
                t.pos.col,
                'transforms apply to patterns: `s "bd sn" $ fast 2`, `saw "55 110" $ rev`',
            )
        return value

    def _transformed_value(self, t: ast.Expr, value: Value) -> Value:
        fn = self._transform_fn(t)
        if isinstance(value, Pat):
            return Pat(fn(value.pattern), value.text, value.pos)
        if isinstance(value, Voices):
            merged = value.merged()
            return replace(merged, pattern=fn(merged.pattern))
        if isinstance(value, Const):
            from phonon.graph.patterns import pure

            return Pat(fn(pure(value.value)), f"{value.value:g}", t.pos)
        raise PhononError(
            f"{_source_name(t)} has no pattern to transform here",
            t.pos.line,
            t.pos.col,
            'transforms apply to patterns: `s "bd sn" $ fast 2`, `saw "55 110" $ rev`',
        )

    def _transform_fn(self, t: ast.Expr) -> Any:
        built = self._build_transform(t)

        def fn(pattern: Any) -> Any:
            try:
                return _probed(built(pattern))
            except PatternLimitError as error:
                name = _source_name(t)
                message = error.message if error.message.startswith(name) else f"{name}: {error.message}"
                raise PhononError(message, t.pos.line, t.pos.col, error.hint) from None
            except (TypeError, ValueError, ZeroDivisionError) as error:
                raise PhononError(f"{_source_name(t)}: {error}", t.pos.line, t.pos.col) from None

        return fn

    def _rollback(self, mark: int) -> None:
        """Forget the nodes made since `mark` (a subject compiled once to learn what it is)."""
        del self.nodes[mark:]
        self.mix_nodes = {k: v for k, v in self.mix_nodes.items() if v < mark}
        self.pattern_nodes = {k: v for k, v in self.pattern_nodes.items() if v < mark}
        self.voice_nodes = {k: v for k, v in self.voice_nodes.items() if v[1].right.terms[0][0] < mark}
        self.feedback_nodes = [entry for entry in self.feedback_nodes if entry[0] < mark]

    def _build_transform(self, e: ast.Expr) -> Any:
        if isinstance(e, ast.Section):
            return self._section(e)
        if isinstance(e, ast.Apply):  # (fast 2 $ rev): rev first
            outer, inner = self._build_transform(e.func), self._build_transform(e.arg)
            return lambda pattern: outer(inner(pattern))
        args = e.args if isinstance(e, ast.Call) else ()
        if isinstance(e, ast.Call) and e.keywords:
            kw = e.keywords[0]
            raise PhononError(f"{e.name} takes no keyword arguments", kw.pos.line, kw.pos.col)
        values = [self._transform_arg(a) for a in args]
        try:
            return TRANSFORMS[e.name].build(*values)
        except PatternLimitError as error:
            raise PhononError(error.message, e.pos.line, e.pos.col, error.hint) from None
        except (TransformError, ValueError) as error:
            usage = " ".join([e.name, *(p.name for p in TRANSFORMS[e.name].params)])
            raise PhononError(str(error), e.pos.line, e.pos.col, f"usage: {usage}") from None

    def _section(self, e: ast.Section) -> Any:
        """`(# speed 2)`, `(|+ n 12)`: a function of the voices' control maps, as Tidal's operator sections:
        `#` sets the control (values from the right, structure from the left), `|+` adds to it (a control the
        event lacks is set), `+|` takes the structure from the right, `+` from both."""
        call = e.right
        if not _control_call(call):
            raise PhononError(
                f"a section ({e.op} ...) takes one voice parameter and its value", e.pos.line, e.pos.col,
                f"for example `({e.op} speed 2)`; the parameters: " + ", ".join(VOICE_PARAMS),
            )
        value = self._pattern_value(call.args[0])
        if not isinstance(value, (Const, Pat)):
            raise PhononError(f"{call.name} takes a number or a pattern", call.pos.line, call.pos.col)
        from phonon.graph.patterns import pure

        values = value.pattern if isinstance(value, Pat) else pure(value.value)
        controls = values.fmap(lambda v, name=control_name(call.name): {name: voice_value(name, v)})
        op, structure = _SECTION_OPS[e.op]
        return lambda pattern: pattern.op(op, controls, structure)

    def _pattern_value(self, e: ast.Expr) -> Value:
        """An expression where a pattern is wanted: there a bare `sine`, `saw`, `tri` or `square` is Tidal's
        continuous pattern (0..1, sampled by each event: `# pan sine`), not an oscillator."""
        if isinstance(e, ast.Name) and e.name in SIGNALS:
            return Pat(SIGNALS[e.name], e.name, e.pos)
        return self._expr(e)

    def _transform_arg(self, a: ast.Expr) -> Any:
        if self._is_transform(a):
            return self._build_transform(a)
        return self._argument(a)

    def _argument(self, a: ast.Expr) -> Any:
        """An argument as the pattern registries take it: a number, a pattern, or a list `[...]` or pair `(a, b)`
        of them (`toScale [0, 2, 4]`, `wchoose [(0, 0.25), (2, 0.5)]`), each checked by the parameter's kind."""
        if isinstance(a, ast.List):  # its items may be transforms too (`layer [rev, fast 2]`)
            items = [self._transform_arg(item) for item in a.items]
            return tuple(items) if a.pair else items
        value = self._pattern_value(a)
        if isinstance(value, (Const, Pat)):
            return _argument_of(value)
        raise PhononError(
            "an argument here is a number, a pattern, or a list of them (not a signal)", a.pos.line, a.pos.col,
            'for example `fast 2`, `fast "<1 2>"`, `choose [0, 2, 7]`',
        )

    # ---- arithmetic ------------------------------------------------------------------------------------

    def _binop(self, op: str, a: Value, b: Value, where: Any) -> Value:
        a, b = self._sound(a), self._sound(b)
        if isinstance(a, Stereo) or isinstance(b, Stereo):
            (al, ar), (bl, br) = channels(a), channels(b)
            return Stereo(self._binop(op, al, bl, where), self._binop(op, ar, br, where))
        base = op.strip("|")
        if isinstance(a, Const) and isinstance(b, Const):
            return Const(apply_op(base, a.value, b.value))
        if isinstance(a, (Const, Pat)) and isinstance(b, (Const, Pat)):
            return self._pattern_op(op, a, b, where)
        if base in ("%", "<", ">"):
            raise PhononError(
                f"{op} works on numbers, patterns and voices, not on signals", where.pos.line, where.pos.col,
                f'for example `"0 3 7" {op} 5`, or `s "bd*4" {op} n 2`',
            )
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
        from phonon.graph.patterns import pure

        structure = {(True, False): "left", (False, True): "right"}.get((op[0] == "|", op[-1] == "|"), "both")
        pa = a.pattern if isinstance(a, Pat) else pure(a.value)
        pb = b.pattern if isinstance(b, Pat) else pure(b.value)
        text_a = a.text if isinstance(a, Pat) else f"{a.value:g}"
        text_b = b.text if isinstance(b, Pat) else f"{b.value:g}"
        pattern = pa.op(op.strip("|"), pb, structure)
        return Pat(pattern, f"{text_a} {op} {text_b}", where.pos)

    def _sound(self, v: Value) -> Value:
        """Voices become their stereo signal (one node per Voices value, however often it is used)."""
        if not isinstance(v, Voices):
            return v
        if id(v) not in self.voice_nodes:
            self.voice_nodes[id(v)] = (v, self._voices_signal(v))
        return self.voice_nodes[id(v)][1]

    def _voices_signal(self, v: Voices) -> Stereo:
        """Voices as a stereo signal: one voice node with two outputs."""
        if not v.named:
            raise PhononError(
                "these events name no sound to play", v.pos.line, v.pos.col,
                'add one with # s: `note "0 4 7" # s "arpy"`',
            )
        kind = "sampler" if v.source == "s" else "synth"
        consts = () if kind == "sampler" else (float(SYNTH_WAVES[v.source]), *v.envelope)
        inputs = tuple(self._materialize(signal, v.pos) for _, signal in v.signals)
        node_id = self._add_node(kind, inputs, consts, "s" if kind == "sampler" else v.source, v.pos)
        self.nodes[node_id].pattern = v.pattern.located(v.pos.line, v.pos.col)
        self.nodes[node_id].params = v.params
        self.nodes[node_id].signal_controls = tuple(name for name, _ in v.signals)
        right = self._add_node("channel", (node_id,), (1.0,), "right", v.pos)
        return Stereo(Lin.of(node_id), Lin.of(right))

    def _linear(self, v: Value, where: Any) -> Lin:
        if isinstance(v, Const):
            return Lin((), v.value)
        if isinstance(v, Pat):
            return Lin.of(self._pattern_node(v))
        return v

    # ---- nodes -----------------------------------------------------------------------------------------

    def _output(self, v: Value, where: Any) -> tuple[Input, Input]:
        """An output's left and right inputs (the same for a mono signal: it sits in the centre)."""
        left, right = channels(self._sound(v))
        return self._signal(left, where), self._signal(right, where)

    def _signal(self, v: Value, where: Any) -> Input:
        """The value as a mono node input: a constant stays a float, anything else becomes a node. A stereo
        value where one channel is needed (a parameter, a feedback reference) is its mid, (L + R) / 2."""
        v = self._sound(v)
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
            _checked(_probe_controls, v.pattern, v.pos, "a control pattern plays numbers or note names")
            node_id = self._add_node("pattern", (), (), "pattern", v.pos)
            self.nodes[node_id].pattern = v.pattern.located(v.pos.line, v.pos.col)
            self.nodes[node_id].text = v.text
            self.pattern_nodes[key] = node_id
            self.kept.append(v.pattern)  # the node holds a located copy: the key's object must outlive compiling
        return self.pattern_nodes[key]

    def _pattern(self, s: ast.String) -> Any:
        from phonon.graph.patterns import MiniNotationError, parse_mini

        try:
            return parse_mini(s.text)
        except MiniNotationError as e:
            col = s.pos.col + (e.column if e.column else 1)  # the quote is at s.pos.col
            raise PhononError(f"in pattern \"{s.text}\": {e.message}", s.pos.line, col, e.hint) from None
        except (ValueError, OverflowError) as e:  # a value the mini-notation parser let through (`a@1e99999`)
            raise PhononError(f"in pattern \"{s.text}\": {e}", s.pos.line, s.pos.col, NUMBER_RANGE_HINT) from None

    def _add_node(self, kind: str, inputs: tuple[Input, ...], consts: tuple[float, ...], label: str, pos: Any) -> int:
        node = Node(len(self.nodes), kind, inputs, consts, label, pos)
        self.nodes.append(node)
        return node.id


PROBE_CYCLES = 8


def _probed(pattern: Any) -> Any:
    """Query the first cycles once, so a pattern that cannot be evaluated fails while compiling, with a
    position, rather than in the middle of a render. One cycle at a time: each is held to the per-cycle
    limits on its own, as when it plays."""
    for cycle in range(PROBE_CYCLES):
        pattern.query_arc(cycle, cycle + 1)
    return pattern


def _probe_controls(pattern: Any) -> None:
    """The first cycles of a pattern that becomes a control signal: its values must be numbers or notes."""
    for cycle in range(PROBE_CYCLES):
        for hap in pattern.query_arc(cycle, cycle + 1):
            control_value(hap.value)


def _checked(check: Any, pattern: Any, pos: ast.Pos, hint: str) -> Any:
    """check(pattern), with what it finds wrong about the pattern reported at pos (with `hint`)."""
    try:
        return check(pattern)
    except PatternLimitError as e:
        raise _limit_error(e, pos) from None
    except ValueError as e:
        raise PhononError(str(e), pos.line, pos.col, hint) from None
    except OverflowError as e:  # a whole number too large for a float (400 digits)
        message = f"a value of this pattern is out of range ({e})"
        raise PhononError(message, pos.line, pos.col, NUMBER_RANGE_HINT) from None



def _limit_error(e: PatternLimitError, pos: ast.Pos | None = None) -> PhononError:
    """A pattern limit error as a program error, at the pattern's own position if it knows it, else at pos."""
    line, col = (e.line, e.col) if e.line is not None or pos is None else (pos.line, pos.col)
    return PhononError(e.message, line, col, e.hint)


def _source_name(e: ast.Expr) -> str:
    return getattr(e, "name", None) or getattr(getattr(e, "func", None), "name", "this transform")


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


def _exact_number(e: ast.Expr) -> Fraction | None:
    """The exact value of arithmetic on numbers (`130/60/4`), or None for anything else (or a division by 0)."""
    if isinstance(e, ast.Number):
        return e.value
    if isinstance(e, ast.Neg):
        inner = _exact_number(e.operand)
        return None if inner is None else -inner
    if isinstance(e, ast.BinOp) and e.op in _ARITHMETIC:
        a, b = _exact_number(e.left), _exact_number(e.right)
        if a is None or b is None or (e.op == "/" and b == 0):
            return None
        return _ARITHMETIC[e.op](a, b)
    return None


def _pair_error(pair: ast.List) -> PhononError:
    return PhononError(
        "unexpected ','", pair.pos.line, pair.pos.col,
        "calls take space-separated arguments: write `lpf 800 0.7`, not `lpf(800, 0.7)`; a pair `(a, b)` is an "
        "argument of wchoose, wrandcat or inhabit",
    )


def _argument_nodes(params: tuple[Param, ...], call: ast.Call, injected: Value | None) -> dict[str, Any]:
    """The expression the program gave each parameter, as `_Compiler._bind` matches them (the left side of #,
    which has no place in the call, is absent)."""
    given = [None] * (injected is not None) + list(call.args)
    nodes = {p.name: node for p, node in zip(params, given) if node is not None}
    return nodes | {kw.name: kw.value for kw in call.keywords}


def _call_text(name: str, values: list["Const | Pat"]) -> str:
    return " ".join([name, *(f'"{v.text}"' if isinstance(v, Pat) else f"{v.value:g}" for v in values)])


def _argument_of(value: "Const | Pat") -> Any:
    return value.pattern if isinstance(value, Pat) else _number_arg(value.value)


def _number_arg(x: float) -> int | float:
    """A number as a pattern's value: whole numbers as ints (`run 4`, `cat 0 2`), as mini-notation gives them."""
    return int(x) if float(x).is_integer() else x
