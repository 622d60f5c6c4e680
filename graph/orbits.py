"""Orbits: the global effect buses voices send to (SuperDirt's DirtOrbit, Strudel's per-orbit effects).

- Each voice sends to its orbit's reverb at its own event's `room` and to its orbit's delay at its `delay` (per
  voice, as Strudel's sends: the voice kernels add voice * level to the voice node's send rows, after its own two;
  engine/kernels/voices.py). Its dry sound stays in its own output, unchanged.
- Each orbit some voice can send to gets ONE chain of ordinary nodes: the sends of every voice node on it summed
  (one `mix` per side) -> `reverb` (room = size, damping 0.5, mix 1) times 1 - dry, plus -> `delay` (time:
  delaytime, or delaysync / cps; feedback: delayfeedback; mix 1). Their sum is an output of its own, `orbitN`,
  mixed into the master like any output and written as its own stem by `render --stems`. The partitioner places
  and parallelises these nodes like any others.
- The orbit's settings (size, dry, delaytime, delaysync, delayfeedback) follow the latest event on the orbit that
  gives them, from its onset sample (SuperDirt's global effects: the last event's parameters win): a stepped
  control signal (a `pattern` node) of those events. A setting no event on the orbit gives is its default.

Graph structure is decided when compiling, from each voice node's events: over one period of its pattern when
the pattern says it repeats (within ORBIT_PROBE_PERIOD cycles), else over its first PROBE_CYCLES cycles. Which
orbits a node plays on, and whether it can send there (a room or delay above 0 in some event, or given by a
signal), makes its send rows and the orbit's bus; a program where no event can send gets no bus at all, and its
voice nodes render as before. An orbit must be a whole number 0 .. MAX_ORBITS - 1 (an error names the place). A
send that the probed cycles never showed (a random pattern that first sends on a new orbit later) is not made.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from phonon.graph import ast
from phonon.graph.errors import PhononError
from phonon.graph.kinds import FUNCTIONS
from phonon.graph.signal_graph import Input
from phonon.graph.values import MAX_ORBITS, VOICE_CONTROL, Const, Lin, Pat, Stereo, Value, Voices, channels

if TYPE_CHECKING:
    from phonon.graph.compiler import _Compiler

ORBIT_OUTPUT = 1000  # orbit N's output channel: ORBIT_OUTPUT + N, after every program output in mix order
ORBIT_PROBE_PERIOD = 256  # cycles of a repeating pattern probed for its orbits (engine/clock.py keeps as many)
PROBE_CYCLES = 32  # cycles probed of a pattern that does not say it repeats
REVERB, DELAY = 0, 1  # a send's effect (the columns of engine/voices.py `routes`)
SENDS = {"room": REVERB, "delay": DELAY}
REVERB_DAMPING = 0.5
FEEDBACK_MAX = 0.98  # delayfeedback's clamp (Strudel's)
# The names without which no event can send (the send controls and their aliases): a program that never
# writes one is not probed at all.
_MENTIONS_SENDS = re.compile(r"\b(" + "|".join(n for s in SENDS for n in (s, *VOICE_CONTROL[s].aliases)) + r")\b")


def orbit_name(orbit: int) -> str:
    return f"orbit{orbit}"


def add_orbits(compiler: "_Compiler", outputs: dict[int, tuple[Input, Input]], names: dict[int, str]) -> None:
    """Give the voice nodes the outputs reach their send rows, and each orbit they send to its effect chain as
    an output (`outputs` and `names` gain them)."""
    if not _MENTIONS_SENDS.search(compiler.program.source):
        return
    from phonon.graph.analysis import reachable
    from phonon.graph.signal_graph import SignalGraph

    live = reachable(SignalGraph(nodes=compiler.nodes, outputs=outputs))
    voices = [(v, stereo.left.terms[0][0]) for v, stereo in compiler.voice_nodes.values()]
    voices = [(v, node) for v, node in voices if node in live]
    played: dict[int, list[tuple[Voices, int, set[str]]]] = defaultdict(list)  # orbit -> (voices, node, settings)
    sends: dict[int, set[tuple[int, int]]] = defaultdict(set)  # node -> (orbit, effect)
    for v, node in voices:
        for orbit, (effects, settings) in sorted(_probe(v).items()):
            played[orbit].append((v, node, settings))
            sends[node] |= {(orbit, e) for e in effects}
    buses: dict[tuple[int, int], list[int]] = defaultdict(list)  # (orbit, effect) -> its send rows' left channel
    for v, node in voices:
        compiler.nodes[node].sends = tuple(sorted(sends[node]))
        for k, route in enumerate(compiler.nodes[node].sends):
            left = compiler._add_node("channel", (node,), (2.0 + 2 * k,), "send", v.pos)
            compiler._add_node("channel", (node,), (3.0 + 2 * k,), "send", v.pos)
            buses[route].append(left)
    for orbit in sorted({o for o, _ in buses}):
        value = _orbit_effects(compiler, orbit, buses, played[orbit])
        outputs[ORBIT_OUTPUT + orbit] = compiler._output(value, _where(played[orbit][0][0], "orbit"))
        names[ORBIT_OUTPUT + orbit] = orbit_name(orbit)


def _probe(v: Voices) -> dict[int, tuple[set[int], set[str]]]:
    """The orbits a voice node's events play on: for each, the effects they can send to and the orbit settings
    they give."""
    pattern = v.merged().pattern
    period = pattern.period
    cycles = period if period is not None and period <= ORBIT_PROBE_PERIOD else PROBE_CYCLES
    by_signal = {SENDS[name] for name, _ in v.signals if name in SENDS}  # `# room ~lfo`: may send anywhere
    found: dict[int, tuple[set[int], set[str]]] = {}
    for cycle in range(cycles):
        for hap in pattern.onsets(cycle, cycle + 1):
            controls = hap.value if isinstance(hap.value, dict) else {}
            orbit = _orbit(controls.get("orbit", 0), v)
            effects, settings = found.setdefault(orbit, (set(by_signal), set()))
            effects |= {e for name, e in SENDS.items() if _level(controls.get(name)) > 0.0}
            settings |= {name for name in _SETTINGS_READ if _given(controls.get(name))}
    return found


def _orbit(value: Any, v: Voices) -> int:
    """An event's orbit as a whole number in range; an error at the orbit's place (or the voices') otherwise."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        number = math.nan
    if number.is_integer() and 0 <= number < MAX_ORBITS:
        return int(number)
    origin = next((getattr(p, "_origin", None) for name, p in v.params if name == "orbit"), None)
    line, col = origin or (v.pos.line, v.pos.col)
    shown = f"{number:g}" if number == number else repr(value)
    raise PhononError(f"orbit {shown} is not one of 0 .. {MAX_ORBITS - 1}", line, col,
                      f"orbits are whole numbers 0 .. {MAX_ORBITS - 1}: `# orbit 1`, `# orbit \"0 1\"`")


def _level(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return 0.0


# The orbit settings: the controls each reads (the first given wins) and how a value becomes the effect's input.
_SETTINGS: dict[str, tuple[str, ...]] = {
    "size": ("size",), "dry": ("dry",), "delaytime": ("delaysync", "delaytime"), "delayfeedback": ("delayfeedback",),
}
_SETTINGS_READ = {name for names in _SETTINGS.values() for name in names}


def _orbit_effects(compiler: "_Compiler", orbit: int, buses: dict, played: list) -> Value:
    """The orbit's returns: its reverb times 1 - dry, plus its delay (each only if some voice sends to it)."""
    returns: Value = Const(0.0)
    where = _where(played[0][0], "orbit")
    if (orbit, REVERB) in buses:
        send = _sum(buses[orbit, REVERB])
        reverb = FUNCTIONS["reverb"]
        args = {"input": send, "room": _setting(compiler, orbit, "size", played),
                "damping": Const(REVERB_DAMPING), "mix": Const(1.0)}
        wet = compiler._sided(reverb, args, _where(played[0][0], "reverb"))
        dry = _setting(compiler, orbit, "dry", played)
        returns = compiler._binop("*", wet, compiler._binop("-", Const(1.0), dry, where), where)
    if (orbit, DELAY) in buses:
        send = _sum(buses[orbit, DELAY])
        delay = FUNCTIONS["delay"]
        call = _where(played[0][0], "delay")
        time = _setting(compiler, orbit, "delaytime", played)
        feedback = _setting(compiler, orbit, "delayfeedback", played)
        echoes = Stereo(*(compiler._function_node(delay, {"input": side, "time": time, "feedback": feedback,
                                                          "mix": Const(1.0)}, call) for side in channels(send)))
        returns = compiler._binop("+", returns, echoes, where)
    return returns


def _sum(lefts: list[int]) -> Stereo:
    """The send rows of every voice node on a bus, summed per side (a right row is its left row's neighbour
    node: `add_orbits` makes them in pairs)."""
    return Stereo(Lin(tuple((n, 1.0) for n in lefts)), Lin(tuple((n + 1, 1.0) for n in lefts)))


def _setting(compiler: "_Compiler", orbit: int, name: str, played: list) -> Const | Pat:
    """An orbit setting: the value of the latest event on the orbit that gives it, from its onset sample (a
    stepped pattern of those events), or its default when no probed event gives it."""
    reads = _SETTINGS[name]
    default = VOICE_CONTROL[name].default
    cps = float(compiler.cps)
    parts = [v.merged().pattern.filter_values(lambda c, v=v: _gives(c, orbit, reads, v))
             for v, _, settings in played if settings & set(reads)]
    if not parts:
        return Const(_clamped(name, default))
    from phonon.graph.patterns import stack

    def value(controls: dict) -> float:
        given = next(r for r in reads if _given(controls.get(r)))
        number = float(controls[given])
        return _clamped(name, number / cps if given == "delaysync" else number)

    pattern = _from_start(stack(*parts).fmap(value), _clamped(name, default))
    compiler.kept.append(pattern)  # the compiler knows pattern nodes by id(pattern): it must outlive compiling
    return Pat(pattern, f"{orbit_name(orbit)} {name}", played[0][0].pos)


def _from_start(pattern: Any, default: float) -> Any:
    """The pattern from cycle 0 on, and before it one event of `default`: what a stepped control signal holds
    until the first event (engine/controls.py holds cycle -1's last value). It says no period, so a player
    never takes cycle -1 for a later one."""
    from phonon.graph.patterns import Pattern, TimeSpan, pure

    before = pure(default)

    def query(span: TimeSpan) -> list:
        if span.end <= 0:
            return before.query(span)
        if span.begin >= 0:
            return pattern.query(span)
        return before.query(TimeSpan(span.begin, 0)) + pattern.query(TimeSpan(0, span.end))

    return Pattern(query)


def _gives(controls: Any, orbit: int, reads: tuple[str, ...], v: Voices) -> bool:
    return (isinstance(controls, dict) and any(_given(controls.get(r)) for r in reads)
            and _orbit(controls.get("orbit", 0), v) == orbit)


def _given(value: Any) -> bool:
    return value is not None and value == value  # NaN (delaysync's "not given") is not


_RANGES = {"size": (0.0, 1.0), "dry": (0.0, 1.0), "delaytime": (0.0, 2.0), "delayfeedback": (0.0, FEEDBACK_MAX)}


def _clamped(name: str, x: float) -> float:
    lo, hi = _RANGES[name]
    return min(max(x, lo), hi) if x == x else lo


def _where(v: Voices, name: str) -> ast.Call:
    """A position for the nodes an orbit makes (`phonon graph` shows it): the first voices sending to it."""
    return ast.Call(name, (), (), v.pos)
