"""Compiling in tests: the error a program is refused with."""

from __future__ import annotations

import pytest

from phonon.graph.compiler import compile_program
from phonon.graph.errors import PhononError


def compile_error(program: str, filename: str = "prog.phonon") -> PhononError:
    """The PhononError compiling `program` raises (the test fails if it compiles)."""
    with pytest.raises(PhononError) as caught:
        compile_program(program, filename)
    return caught.value
