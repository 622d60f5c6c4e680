"""The README's pattern table, derived from the registries: every transform (graph/patterns/transforms.py),
constructor (constructors.py) and continuous pattern (signals.py), with its parameters and what it does.
`python -m graph.patterns.reference` prints it; tests/test_vocabulary.py holds the README to it."""

from __future__ import annotations

from .constructors import CONSTRUCTORS, INT_PATTERN
from .signals import SIGNALS
from .transforms import TRANSFORMS


def pattern_table() -> str:
    rows = ["| transform | parameters (then its pattern, or with `$`) | what it does |", "|---|---|---|"]
    for t in TRANSFORMS.values():
        rows.append(f"| `{t.name}` | {' '.join(f'`{p.name}`' for p in t.params)} | {t.doc} |")
    rows += ["", "| makes a pattern | arguments | what it does |", "|---|---|---|"]
    for c in dict.fromkeys(CONSTRUCTORS.values()):  # once each, with its aliases
        names = " ".join(f"`{n}`" for n in (c.name, *c.aliases))
        args = "`n`, a whole number or a pattern of them" if c.kind == INT_PATTERN else "patterns or numbers"
        rows.append(f"| {names} | {args if c.name != 'silence' else ''} | {c.doc} |")
    signals = " ".join(f"`{name}`" for name in SIGNALS)
    rows.append(f"| {signals} | | continuous: values in time, which a structure samples (`# pan sine`) |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(pattern_table())
