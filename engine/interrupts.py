"""Ctrl-C, SIGTERM and SIGHUP for the command line.

The first such signal unwinds as KeyboardInterrupt, so every cleanup runs (workers joined, shared memory
released, the partial output removed); later ones are only remembered, so they cannot interrupt that cleanup.
The request is also remembered because Python can swallow the KeyboardInterrupt: raised inside a ctypes
callback (numba loading code) or a `__del__`, it is printed as "Exception ignored" and the program runs on.
`check()`, called by the render loop once per chunk, raises it again there."""

from __future__ import annotations

import signal
import threading
from types import FrameType

STOP_SIGNALS = tuple(s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None)

_requested = False
_depth = 0  # nested installs: `phonon` itself, then `main` (which a test may also call in-process)


def _on_stop_signal(signum: int, frame: FrameType | None) -> None:
    global _requested
    if _requested:
        return  # already unwinding: let the cleanup finish
    _requested = True
    raise KeyboardInterrupt


def install() -> dict[int, object]:
    """Handle the stop signals (main thread only); returns the handlers they replaced, for `restore`."""
    global _requested, _depth
    if threading.current_thread() is not threading.main_thread():
        return {}
    if _depth == 0:
        _requested = False
    _depth += 1
    return {sig: signal.signal(sig, _on_stop_signal) for sig in STOP_SIGNALS}


def restore(saved: dict[int, object]) -> None:
    """Put back the handlers `install` replaced (`requested()` still tells whether a signal came)."""
    global _depth
    if saved:
        _depth -= 1
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def requested() -> bool:
    """True once a stop signal arrived (since the outermost `install`)."""
    return _requested


def check() -> None:
    """Raise KeyboardInterrupt if a stop signal arrived while installed, even one whose KeyboardInterrupt
    Python swallowed."""
    if _requested and _depth > 0:
        raise KeyboardInterrupt
