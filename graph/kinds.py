"""Node kinds and the language's functions that make them.

A *kind* is what the engine runs; a *function* is what a program calls (`lpf`, `hpf`, `dist`). Several
functions may share a kind and differ only in fixed per-node constants (`lpf` and `hpf` are both the `svf`
kind with another `mode`). Each kind is defined once, by one `define(Kind(...))`: its inputs, its
constants, its named state, its outputs, its cost, the functions that make it, and its code: a per-sample
`step` (the engine generates the batched kernel from it) or a block `kernel` where a kind needs the whole
block (delay lines, voices, filters that run four at a time). The built-in kinds are defined beside their
code in engine/kernels; a kind defined anywhere else (a test, a plug-in) is one `define` call too.

State layout (derived from the definition; kernels read it by name): every node owns one row of a float64
state table, `[sr, *consts, *state fields]`. A field is one number, a fixed array, or a buffer of `size(sr)`
numbers; the buffers come last, so every field's column is fixed (`Kind.column`).

A `step` is `step(sr, *consts, *inputs, *fields) -> (out, *fields)`, its parameters named like the
definition's (checked by `define`): one sample of one node, inlined into the generated kernel's loop.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field
from typing import Callable, Iterator

from phonon.graph.values import VOICE_PARAMS as _VOICE_PARAMS


@dataclass(frozen=True)
class Param:
    """One input of a function. `default is None` means required, unless `same_as` names an earlier parameter
    whose value it takes when absent (a sidechain absent: the input itself); `lo`/`hi` are the clamp its
    kernel applies."""

    name: str
    default: float | None = None
    lo: float | None = None
    hi: float | None = None
    doc: str = ""
    same_as: str | None = None

    @property
    def required(self) -> bool:
        return self.default is None and self.same_as is None

    def default_text(self) -> str:
        return self.same_as if self.default is None else format(self.default, "g")

    def usage(self) -> str:
        """How a signature shows it: `name`, or `[name=default]` when optional."""
        return self.name if self.required else f"[{self.name}={self.default_text()}]"


@dataclass(frozen=True)
class Field:
    """A named part of a node's state: `size` numbers, or a buffer of `size(sr)` numbers."""

    name: str
    size: int | Callable[[int], int] = 1

    @property
    def buffer(self) -> bool:
        return callable(self.size)

    def width(self, sr: int) -> int:
        return self.size(sr) if callable(self.size) else self.size


@dataclass(frozen=True)
class Function:
    """A callable name in the language.

    `chain` says what `x # f args` means: "input" passes x as the first parameter; "multiply" multiplies x by
    `f args` (envelopes). `fixed` are consts fixed by the name (e.g. the filter mode). `variants` maps a
    `same_as` parameter to the kind made instead when it is given another signal than its `same_as` (the
    compressor with `:sidechain` is the `sidechain_compressor` kind; without, or with the input itself, it
    stays the plain `compressor`). A `sided` function makes a stereo pair, one node per side: its kind's const
    `side` is 0 (left) or 1 (right), `stereo` (if the kind has it) 1 when the input was stereo, its `input` is
    that side's channel (a mono input feeds both, so the sides can spread it) and `other` (if the kind has it)
    the opposite channel.
    """

    name: str
    kind: str
    params: tuple[Param, ...]
    fixed: dict[str, float] = field(default_factory=dict)
    chain: str = "input"
    doc: str = ""
    variants: dict[str, str] = field(default_factory=dict)
    sided: bool = False

    def signature(self) -> str:
        return " ".join([self.name, *(p.usage() for p in self.params)])


@dataclass(frozen=True)
class Kind:
    """A node kind: what one kernel computes, defined once.

    `inputs` are signal inputs (each a constant, a pattern or a signal, read per sample); `consts` are fixed
    per-node numbers the compiler bakes into the state row; `state` the named fields after them. `cost_ns` is
    the estimated cost per sample (reports, partitioning); `lane_cost_ns` the cost per sample of a node that
    runs in SIMD lanes (graph/plan/lanes.py), per input for a variadic kind. `functions` are the names a program
    calls to make one; `doc` is its line in the README's function table. Code: `step` (per sample) or
    `kernel` (per block, `kernel(arena, wiring, state, start, stop)`, see engine/kernels), and `phases`,
    the "read"/"write" kernels of a kind that can close a feedback loop without latency.
    """

    name: str
    inputs: tuple[str, ...] = ()
    consts: tuple[str, ...] = ()
    state: tuple[Field, ...] = ()
    cost_ns: float = 1.0
    lane_cost_ns: float | None = None
    variadic: bool = False
    host_filled: bool = False  # filled by the host once per block (patterns, voices): no kernel
    outputs: int = 1  # a node with 2 outputs (left, right) owns two consecutive arena rows
    functions: tuple[Function, ...] = ()
    doc: str = ""
    step: Callable | None = None
    kernel: Callable | None = None
    phases: dict[str, Callable] = field(default_factory=dict)

    def state_size(self, sr: int) -> int:
        """Columns of the state fields (after sr and the consts)."""
        return sum(f.width(sr) for f in self.state)

    def column(self, name: str) -> int:
        """The state row column of a const or of a state field (a buffer's first column)."""
        if name in self.consts:
            return 1 + self.consts.index(name)
        offset = 1 + len(self.consts)
        for f in self.state:
            if f.name == name:
                return offset
            if f.buffer:
                break  # after a buffer, a column would depend on sr
            offset += f.width(0)
        raise KeyError(f"kind {self.name!r} has no const or state field {name!r} at a fixed column")

    def columns(self, *names: str) -> tuple[int, ...]:
        return tuple(self.column(n) for n in names)

    @property
    def first_mutable(self) -> int:
        """Column where the mutable state starts (what a reset clears)."""
        return 1 + len(self.consts)


def fields(*names: str, **sized: int | Callable[[int], int]) -> tuple[Field, ...]:
    """State fields: numbers by name, then arrays (name=count) and buffers (name=size(sr))."""
    return tuple(Field(n) for n in names) + tuple(Field(n, size) for n, size in sized.items())


class _Registry(dict):
    """Kinds or functions by name. The built-in kinds are defined beside their code (engine/kernels), so the
    first lookup imports those definitions; `define` adds to it from anywhere."""

    def _ready(self) -> "_Registry":
        if not _builtins_loaded:
            _load_builtins()
        return self

    def __getitem__(self, key: str):
        return dict.__getitem__(self._ready(), key)

    def __contains__(self, key: object) -> bool:
        return dict.__contains__(self._ready(), key)

    def __iter__(self) -> Iterator[str]:
        return dict.__iter__(self._ready())

    def __len__(self) -> int:
        return dict.__len__(self._ready())

    def get(self, key: str, default=None):
        return dict.get(self._ready(), key, default)

    def keys(self):
        return dict.keys(self._ready())

    def values(self):
        return dict.values(self._ready())

    def items(self):
        return dict.items(self._ready())


KINDS: dict[str, Kind] = _Registry()
FUNCTIONS: dict[str, Function] = _Registry()
_builtins_loaded = False
BUILTIN_DEFINITIONS = "phonon.engine.kernels"  # the package whose `load_definitions()` defines the built-in kinds


def _load_builtins() -> None:
    global _builtins_loaded
    _builtins_loaded = True  # first: the definitions call `define`, which looks names up
    importlib.import_module(BUILTIN_DEFINITIONS).load_definitions()


def define(kind: Kind) -> Kind:
    """Register a kind and its functions. Checks what the engine relies on: a step's parameters are named
    like the definition's (sr, consts, inputs, state fields), buffers come last, names are new."""
    if dict.__contains__(KINDS, kind.name):
        raise ValueError(f"kind {kind.name!r} defined twice")
    sized = [f.buffer for f in kind.state]
    if sized != sorted(sized):
        raise ValueError(f"kind {kind.name!r}: buffers must come after the numbers in its state")
    if kind.step is not None:
        expected = ["sr", *kind.consts, *kind.inputs, *(f.name for f in kind.state)]
        py = getattr(kind.step, "py_func", kind.step)
        got = list(inspect.signature(py).parameters)
        if got != expected or any(f.width(0) != 1 or f.buffer for f in kind.state):
            raise ValueError(f"the step of kind {kind.name!r} takes ({', '.join(got)}), not ({', '.join(expected)})")
    for function in kind.functions:
        if function.kind != kind.name or dict.__contains__(FUNCTIONS, function.name):
            raise ValueError(f"function {function.name!r} of kind {kind.name!r} is for {function.kind!r} or taken")
        names = [p.name for p in function.params]
        for i, p in enumerate(function.params):
            if p.same_as is not None and p.same_as not in names[:i]:
                raise ValueError(f"{function.name}: '{p.name}' defaults to '{p.same_as}', not an earlier parameter")
        for name, variant in function.variants.items():
            if not any(p.name == name and p.same_as for p in function.params):
                raise ValueError(f"{function.name}: variant {variant!r} needs '{name}' to be a `same_as` parameter")
    dict.__setitem__(KINDS, kind.name, kind)
    for function in kind.functions:
        dict.__setitem__(FUNCTIONS, function.name, function)
    return kind


# Parameters that several kinds share.
FREQ = Param("freq", 1.0, doc="Hz; a number, pattern or signal (audio-rate FM)")
INPUT = Param("input", doc="the signal to process (the left side of #)")
MIX = Param("mix", 0.5, 0.0, 1.0, "dry/wet")


def function(name: str, kind: str, *params: Param, doc: str = "", **options) -> Function:
    return Function(name, kind, tuple(params), doc=doc, **options)


# Kinds the compiler makes from the program's structure rather than from a function call.
for _kind in (
    # voices triggered by pattern events (samples, or synth notes), panned into two outputs; the host turns each
    # block's events into triggers for the voice kernels (engine/voices.py)
    Kind("sampler", host_filled=True, outputs=2, cost_ns=40.0),
    Kind("synth", consts=("wave", "attack", "decay", "sustain", "release"), host_filled=True, outputs=2, cost_ns=40.0),
    # the second output (right channel) of a two-output node: no work, it names the row
    Kind("channel", ("input",), consts=("index",), cost_ns=0.0),
    # a pattern read as a stepped control signal: filled by the host once per block
    Kind("pattern", host_filled=True, cost_ns=0.3),
):
    dict.__setitem__(KINDS, _kind.name, _kind)

# Functions the compiler folds into arithmetic instead of nodes: name -> parameter names.
ARITHMETIC_FUNCTIONS: dict[str, tuple[Param, ...]] = {
    "gain": (INPUT, Param("amount")),
    "amp": (INPUT, Param("amount")),
    "mix": (),  # variadic: sums its arguments
    "stack": (),  # variadic: sums its arguments
}


# Per-event parameters of voices (`s "bd*4" # gain "1 0.5"`), evaluated at each event's onset: one definition,
# graph/values.py's VOICE_CONTROLS (names and aliases -> what each does).
VOICE_PARAMS = _VOICE_PARAMS
# Oscillators that become polyphonic synth voices when their argument is a pattern of note names.
SYNTH_WAVES: dict[str, int] = {"sine": 0, "saw": 1, "square": 2, "tri": 3, "triangle": 3}
# Synth voices that a name under `s` plays (`s "sawtooth"`, `note "c e g" # s "superpiano"`): Strudel's waveforms
# and supersaw, an additive piano (SuperDirt's superpiano's name) and a Karplus-Strong pluck, each the voice
# kernel's waveform number (engine/kernels/voices.py). They win over sample folders of the same name, so a
# program sounds the same whatever folders a machine has.
SYNTH_SOUNDS: dict[str, int] = {
    "sine": 0, "sawtooth": 1, "square": 2, "triangle": 3, "supersaw": 4, "superpiano": 5, "pluck": 6,
}

# `grain name density size pos [pitch] [spray]`: a cloud of grains, each a sample voice (graph/compiler.py `_grain`).
GRAIN_PARAMS: tuple[Param, ...] = (
    Param("name", doc="a pattern of sample names, read at each grain"),
    Param("density", doc="grains per second, a number above 0, at most 1000"),
    Param("size", doc="s, each grain's length (a number or a pattern, read at each grain)"),
    Param("pos", doc="0..1, where in the sample a grain starts (a pattern: `slow 4 saw` scans it)"),
    Param("pitch", 0.0, doc="semitones (the voices' note)"),
    Param("spray", 0.0, doc="0..1, each grain's position moves by up to half this either way, at random"),
)
MAX_GRAIN_DENSITY = 1000.0  # grains a second (GRAIN_PARAMS's density says it)

# README rows for what is not a kind's function.
LANGUAGE_ROWS = (
    ("`gain amp`", "`amount`", "multiply"),
    ("`mix stack`", "any number of signals, or a `[a, b]` list", "sum (`stack` of patterns is a pattern, below)"),
    ("`s` / `sound`", "a pattern of sample names", "sample voices, or synth voices for the names "
     + " ".join(f"`{n}`" for n in SYNTH_SOUNDS) + " (below); per-event controls: the voice controls table below"),
    (
        "`" + " ".join(dict.fromkeys(SYNTH_WAVES)) + ' "c3 e3"`',
        "note names `[attack decay sustain release]`",
        "synth voices (note names make voices; numbers make a stepped oscillator)",
    ),
    (
        "`grain`",
        "`name`, `density` grains/s, `size` s, `pos` 0..1, `pitch` (0) semitones, `spray` (0) 0..1",
        "granular: density grains a second, each a sample voice `size` long (a triangle: half attack, half "
        "release) from `pos` of the sample; voice controls chain on (`# pan rand`); density * size = 2 sums "
        "to the sample's level",
    ),
)


def _param_text(p: Param) -> str:
    """`name` (default) lo..hi unit, as far as the parameter has them."""
    text = f"`{p.name}`" + ("" if p.required else f" ({p.default_text()})")
    if p.lo is not None and p.hi is not None:
        text += f" {p.lo:g}..{p.hi:g}"
    unit = p.doc.split(",")[0]
    return text + (f" {unit}" if unit in ("s", "Hz", "dB") else "")


def _params_text(params: tuple[Param, ...]) -> str:
    return ", ".join(_param_text(p) for p in params if p.name != "input")


def function_table() -> str:
    """The README's function table: one row per built-in kind (its functions, their parameters and clamps,
    its doc), then the language's own calls. `python -m phonon.graph.kinds` prints it."""
    rows = ["| function | parameters (defaults) | notes |", "|---|---|---|"]
    modules = [f"{BUILTIN_DEFINITIONS}.{m}" for m in importlib.import_module(BUILTIN_DEFINITIONS).MODULES]
    placed = {}  # built-in kind -> (its family: the modules' order, where its code is in the module)
    for kind in KINDS.values():
        code = getattr(kind.kernel or kind.step, "py_func", kind.kernel or kind.step)
        if kind.functions and code.__module__ in modules:
            placed[kind.name] = modules.index(code.__module__), code.__code__.co_firstlineno
    for kind in sorted((KINDS[k] for k in placed), key=lambda k: placed[k.name]):
        if kind.functions:
            names = " ".join(dict.fromkeys(f.name for f in kind.functions))
            rows.append(f"| `{names}` | {_params_text(kind.functions[0].params)} | {kind.doc} |")
    rows += [f"| {a} | {b} | {c} |" for a, b, c in LANGUAGE_ROWS]
    return "\n".join(rows)


if __name__ == "__main__":  # run as a script this file is a second module: ask the real one
    from phonon.graph import kinds

    print(kinds.function_table())
