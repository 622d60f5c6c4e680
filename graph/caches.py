"""Where Phonon keeps what it builds once and reuses (the grammar's parse tables, generated fused code), and
how it writes there: atomically, so concurrent renders never see half a file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def cache_root() -> Path:
    """$PHONON_CACHE_DIR, else $XDG_CACHE_HOME/phonon, else ~/.cache/phonon (not created here)."""
    base = os.environ.get("PHONON_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "phonon"
    )
    return Path(base)


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
