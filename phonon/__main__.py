"""`python -m phonon ...` is the `phonon` command."""

from phonon.engine.cli import run

run()
