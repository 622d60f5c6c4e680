"""Phonon, a live-coding music language: the project's one import name.

Its packages are `phonon.graph` (the language and the plan), `phonon.engine` (kernels, rendering, the command
line) and `phonon.workers` (processes and shared memory). In the source tree they are the top-level folders
beside this one, where the design card puts them; an installed wheel holds them inside this package
(pyproject.toml's package-dir). Either way each module has one name, so nothing is imported twice."""

from __future__ import annotations

from pathlib import Path

if not (Path(__file__).parent / "graph").is_dir():  # the source tree: the packages sit one folder up
    __path__.append(str(Path(__file__).parent.parent))


def __getattr__(name: str) -> str:
    """`phonon.__version__`, the installed metadata's, looked up on first use (it costs milliseconds that every
    start-up would pay); "unknown" in a checkout that was never installed."""
    if name != "__version__":
        raise AttributeError(f"module 'phonon' has no attribute {name!r}")
    import importlib.metadata

    try:
        version = importlib.metadata.version("phonon")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    globals()["__version__"] = version
    return version
