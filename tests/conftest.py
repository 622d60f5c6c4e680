"""Shared pytest setup: the repository root is importable (`engine`, `graph`, `tests.audio`) however pytest
is started (`python -m pytest`, the `pytest` script, or from another directory)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
