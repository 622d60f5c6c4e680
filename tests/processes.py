"""Watching a `phonon` process from a test: whether it has started writing its output, and its children.

A render writes an unnamed file in the output folder (O_TMPFILE, linked under its name only at the end) or,
where that is not available, a hidden `.NAME.*.partial` file. Either way the process holds a descriptor
of a file in that folder while it renders, and /proc shows it: that is how a test knows the render is under
way (and can be stopped mid-render) without depending on which kind of temporary file it is.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path


def written_into(pid: int, folder: Path) -> int | None:
    """How many bytes the file process `pid` has open in `folder` (its output, named or not) holds; None
    when it has none open."""
    prefix = str(Path(folder).resolve()) + os.sep
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    for fd in fds:
        link = f"/proc/{pid}/fd/{fd}"
        try:
            if os.readlink(link).startswith(prefix):
                return os.stat(link).st_size
        except OSError:  # closed meanwhile
            continue
    return None


def writing_into(pid: int, folder: Path) -> bool:
    """True while process `pid` has a file in `folder` open (its output, named or not)."""
    return written_into(pid, folder) is not None


def wait_until_writing(proc: subprocess.Popen, folder: Path, guard: float = 60.0, written: int = 0) -> None:
    """Wait until `proc` has opened its output in `folder` and written more than `written` bytes into it.
    `guard` only stops a render that never gets there from stalling the suite (it fails the test instead)."""
    deadline = time.monotonic() + guard
    while (written_into(proc.pid, folder) or -1) <= written:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the render never started writing"
        time.sleep(0.05)


def children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def alive(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie is not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def is_resource_tracker(pid: int) -> bool:
    """Python's multiprocessing resource tracker: one per interpreter once anything was spawned (a Dask
    LocalCluster's workers), it lives as long as the interpreter, not as long as what spawned it."""
    try:
        return b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
