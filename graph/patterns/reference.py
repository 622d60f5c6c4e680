"""The README's pattern table, derived from the registries: every transform (graph/patterns/transforms.py),
constructor (constructors.py) and continuous pattern (signals.py), once each with its aliases, its parameters
and what it does. `python -m phonon.graph.patterns.reference` prints it; tests/test_vocabulary.py holds the README
to it."""

from __future__ import annotations

from .constructors import CONSTRUCTORS
from .signals import SIGNALS
from .transforms import TRANSFORMS


def _names(definition: object) -> str:
    return " ".join(f"`{n}`" for n in (definition.name, *definition.aliases))  # type: ignore[attr-defined]


def _params(definition: object) -> str:
    return " ".join(f"`{p.name}`" for p in definition.params)  # type: ignore[attr-defined]


def pattern_table() -> str:
    rows = ["| transform | parameters (then its pattern, or with `$`) | what it does |", "|---|---|---|"]
    for t in (t for t in TRANSFORMS.values() if t.alias_of is None):  # once each, with its aliases
        rows.append(f"| {_names(t)} | {_params(t)} | {t.doc} |")
    rows += ["", "| makes a pattern | arguments | what it does |", "|---|---|---|"]
    for c in dict.fromkeys(CONSTRUCTORS.values()):
        rows.append(f"| {_names(c)} | {_params(c) if c.name != 'silence' else ''} | {c.doc} |")
    signals = " ".join(f"`{name}`" for name in SIGNALS)
    rows.append(f"| {signals} | | continuous: values in time, which a structure samples (`# pan sine`) |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(pattern_table())
