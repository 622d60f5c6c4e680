"""Every name a program can call, read from the registries: the signal functions of the node kinds
(graph/kinds.py FUNCTIONS), the language's own calls, the pattern transforms (graph/patterns/registry.py
TRANSFORMS), constructors and continuous patterns, and the voice controls (graph/values.py VOICE_CONTROLS).

`phonon functions` prints `listing()` (all of them, a line each), `phonon help NAME` prints `describe(NAME)`
(one name in full: its signature, each parameter's default and range, what it does), and the compiler's
unknown-function hint is `unknown_hint(NAME)` (the closest names, and these two commands). A name may be
several things (`lpf` is a filter and a voice control; `sine` an oscillator and a continuous pattern): each
is an entry of its own."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from phonon.graph.kinds import ARITHMETIC_FUNCTIONS, FUNCTIONS, KINDS, LANGUAGE_ROWS, Param
from phonon.graph.patterns.constructors import CONSTRUCTORS
from phonon.graph.patterns.registry import TRANSFORMS
from phonon.graph.patterns.signals import SIGNALS
from phonon.graph.values import VOICE_CONTROLS

LIST_COMMAND = "phonon functions"
HELP_COMMAND = "phonon help"

# Each group of names: what one of them is called, and the heading of the group, which says how they are used.
GROUPS = {
    "signal": ("signal function", "signal functions: `x # f args` passes x as the first argument; [name=default]"),
    "language": ("call of the language", "the language's own calls"),
    "transform": ("pattern transform", "pattern transforms: `pattern $ f args`, or `f args pattern`"),
    "constructor": ("pattern constructor", "patterns made from their arguments"),
    "continuous": ("continuous pattern", "continuous patterns: values in time, which a structure samples "
                   "(`segment 4 $ sine`, `# pan sine`)"),
    "control": ("voice control", 'voice controls, per event: `s "bd*4" # name pattern`'),
}


@dataclass(frozen=True)
class Entry:
    """One meaning of a name: its group, how it is called, what it does, and the lines that detail its
    parameters (`phonon help`). An alias points to the name it stands for."""

    name: str
    group: str
    usage: str
    doc: str
    details: tuple[str, ...] = ()
    alias_of: str | None = None


def entries() -> list[Entry]:
    """Every entry, group by group in GROUPS' order, each group in its registry's order."""
    return [*_signal_functions(), *_language_calls(), *_transforms(), *_constructors(), *_continuous(), *_controls()]


def lookup(name: str) -> list[Entry]:
    return [e for e in entries() if e.name == name]


def names() -> list[str]:
    return list(dict.fromkeys(e.name for e in entries()))


def unknown_hint(name: str) -> str:
    """The hint for an unknown function: the closest names, and where to see them all."""
    close = difflib.get_close_matches(name, names(), n=3, cutoff=0.6)
    see = f"`{LIST_COMMAND}` lists every function; `{HELP_COMMAND} NAME` explains one"
    return ("did you mean " + " or ".join(f"'{c}'" for c in close) + "? " if close else "") + see


def listing() -> str:
    """`phonon functions`: each group under its heading, one line per name: its usage and what it does."""
    lines: list[str] = []
    for group, (_, heading) in GROUPS.items():
        members = [e for e in entries() if e.group == group]
        width = max(len(_short(e)) for e in members)
        lines += ["", heading + ":"] if lines else [heading + ":"]
        if group == "continuous":  # names alone: they share their doc, the heading
            lines.append("  " + " ".join(e.name for e in members))
            continue
        lines += [f"  {_short(e):<{width}}  {_summary(e)}".rstrip() for e in members]
    lines += ["", f"`{HELP_COMMAND} NAME` shows one in full: its parameters, their defaults and ranges"]
    return "\n".join(lines)


def describe(name: str) -> str:
    """`phonon help NAME`: every meaning of the name, in full; a KeyError when it has none."""
    found = lookup(name)
    if not found:
        raise KeyError(name)
    blocks = []
    for e in found:
        what = f"{GROUPS[e.group][0]}" + (f", the same as {e.alias_of}" if e.alias_of else "")
        blocks.append("\n".join([f"{e.usage}  ({what})", f"  {e.doc}", *(f"    {line}" for line in e.details)]))
    return "\n\n".join(blocks)


def _short(e: Entry) -> str:
    return e.usage if len(e.usage) <= 48 else e.usage[:45] + "..."


def _summary(e: Entry) -> str:
    """The listing's words for an entry: its doc to the first `;` (the rest is in `phonon help`)."""
    return f"same as {e.alias_of}" if e.alias_of else e.doc.split("; ")[0]


# ---- the registries, as entries


def _range(p: Param) -> str:
    if p.lo is None and p.hi is None:
        return ""
    return f"range {'' if p.lo is None else format(p.lo, 'g')}..{'' if p.hi is None else format(p.hi, 'g')}"


def _param_line(p: Param) -> str:
    """`name  required | default D  range lo..hi  doc`."""
    default = "required" if p.required else f"default {p.default_text()}"
    return "  ".join(part for part in (f"{p.name:<10}", default, _range(p), p.doc) if part)


def _signal_functions() -> list[Entry]:
    return [
        Entry(f.name, "signal", f.signature(), f.doc or KINDS[f.kind].doc, tuple(_param_line(p) for p in f.params))
        for f in FUNCTIONS.values()
    ]


def _language_calls() -> list[Entry]:
    """gain, amp, mix, stack, s, sound, grain: their README rows (graph/kinds.py), read back (a name that is a
    signal function too, `saw`, is that function's entry)."""
    out = []
    for names_cell, args, doc in LANGUAGE_ROWS:
        for name in (w for cell in re.findall(r"`([^`]*)`", names_cell) for w in cell.split()):
            if re.fullmatch(r"[A-Za-z_]\w*", name) and (name in ARITHMETIC_FUNCTIONS or name not in FUNCTIONS):
                out.append(Entry(name, "language", f"{name} {args.replace('`', '')}", doc))
    return out


def _transforms() -> list[Entry]:
    out = []
    for t in TRANSFORMS.values():
        details = tuple(f"{p.name:<10}  {p.kind}" + (f"  {p.doc}" if p.doc else "") for p in t.params)
        out.append(Entry(t.name, "transform", t.signature, t.doc, details, t.alias_of))
    return out


def _constructors() -> list[Entry]:
    out = []
    for name, c in CONSTRUCTORS.items():
        usage = " ".join([name, *(f"{p.name}:{p.kind}" for p in c.params)]) if name != "silence" else name
        out.append(Entry(name, "constructor", usage, c.doc, alias_of=None if name == c.name else c.name))
    return out


def _continuous() -> list[Entry]:
    doc = GROUPS["continuous"][1].split(": ", 1)[1]
    return [Entry(name, "continuous", name, doc) for name in SIGNALS]


def _controls() -> list[Entry]:
    out = []
    for c in VOICE_CONTROLS:
        default = c.shown_default or ("none" if c.default != c.default else f"{c.default:g}")
        details = (f"default {default}", f"range {c.range}") + ((f"words {' '.join(c.words)}",) if c.words else ())
        out += [Entry(name, "control", f"{name} pattern", c.doc, details, None if name == c.name else c.name)
                for name in (c.name, *c.aliases)]
    return out
