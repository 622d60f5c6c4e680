"""Shared-memory arena: one numpy array that the master and its forked workers see at the same address.

Mechanism (why nothing can ever leak into ``/dev/shm``)
-------------------------------------------------------
The arena is a ``memfd`` (``os.memfd_create``): an anonymous, RAM-backed file that has a *name* (for
debugging it shows as ``/memfd:phonon_<pid>_<random> (deleted)`` in ``/proc/<pid>/maps``) but no directory
entry anywhere, so there is nothing to unlink. The master maps it ``MAP_SHARED`` before forking the workers;
a forked child inherits the mapping at the same address, with no attach step and no pickling. The kernel frees
the memory when the last process that maps it (or holds its fd) exits, whatever the way it exits: normal
return, exception, SIGINT, SIGTERM, or SIGKILL of the master. That is a stronger guarantee than
``multiprocessing.shared_memory`` (a named ``/dev/shm`` file that a killed master leaves behind).

Where ``memfd_create`` is missing (non-Linux), the arena falls back to an anonymous ``MAP_SHARED`` mapping,
which has the same lifetime rules but no fd.

``close()`` unmaps the arena in this process (deferred while numpy views of it are still alive: they keep the
mapping valid, and it goes when they are garbage collected). ``unlink()`` closes the memfd so no other process
can attach by path any more; it exists for API symmetry with ``shared_memory`` and never touches the
filesystem. Both are idempotent; the context manager calls both.

A process that was *not* forked from the master (e.g. a debugging tool) can attach with
``SharedArena.attach(arena.path, shape, dtype)`` while the master keeps the memfd open (``/proc/<pid>/fd/<n>``).
"""

from __future__ import annotations

import mmap
import os
import secrets
from typing import Any

import numpy as np

__all__ = ["SharedArena", "PAGE"]

PAGE = mmap.PAGESIZE


def _unique_name() -> str:
    return f"phonon_{os.getpid()}_{secrets.token_hex(4)}"


class SharedArena:
    """A shared-memory numpy array (``.array``) created by the master, inherited by forked workers.

    ``SharedArena(shape, dtype=np.float32)``: zero-filled, page aligned (so every row whose byte size is a
    multiple of 64 starts on its own cache line). ``name`` is ``phonon_<pid>_<random>``.
    """

    def __init__(self, shape: int | tuple[int, ...], dtype: Any = np.float32, *, name: str | None = None):
        self.shape: tuple[int, ...] = (int(shape),) if np.isscalar(shape) else tuple(int(s) for s in shape)
        if any(s < 0 for s in self.shape):
            raise ValueError(f"SharedArena: negative dimension in shape {self.shape}")
        self.dtype = np.dtype(dtype)
        self.name = name or _unique_name()
        self.nbytes = int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize
        self._owner_pid = os.getpid()
        self._fd: int | None = None
        size = max(self.nbytes, 1)
        if hasattr(os, "memfd_create"):
            fd = os.memfd_create(self.name, os.MFD_CLOEXEC)
            try:
                os.ftruncate(fd, size)
                self._mmap = mmap.mmap(fd, size, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE)
            except BaseException:
                os.close(fd)
                raise
            self._fd = fd
        else:  # pragma: no cover - non-Linux fallback
            self._mmap = mmap.mmap(-1, size, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE)
        self._closed = False
        self.array: np.ndarray | None = self._view()

    # -- attaching from an unrelated process -------------------------------------------------------------------
    @property
    def path(self) -> str | None:
        """``/proc/<pid>/fd/<n>`` of the memfd while it is open (None after ``unlink()`` or without memfd)."""
        if self._fd is None:
            return None
        return f"/proc/{self._owner_pid}/fd/{self._fd}"

    @classmethod
    def attach(cls, path: str, shape: int | tuple[int, ...], dtype: Any = np.float32) -> "SharedArena":
        """Map an arena by its ``path`` from another process (same user). Forked workers never need this."""
        self = cls.__new__(cls)
        self.shape = (int(shape),) if np.isscalar(shape) else tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        self.name = os.path.basename(os.readlink(path)) if os.path.islink(path) else path
        self.nbytes = int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize
        self._owner_pid = os.getpid()
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        try:
            if os.fstat(fd).st_size < self.nbytes:
                raise ValueError(f"SharedArena.attach: {path} is smaller than {self.nbytes} bytes")
            self._mmap = mmap.mmap(fd, max(self.nbytes, 1), flags=mmap.MAP_SHARED,
                                   prot=mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)
        self._fd = None
        self._closed = False
        self.array = self._view()
        return self

    def _view(self) -> np.ndarray:
        count = self.nbytes // self.dtype.itemsize
        return np.frombuffer(self._mmap, dtype=self.dtype, count=count).reshape(self.shape)

    # -- lifetime -------------------------------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Unmap in this process. If numpy views of ``.array`` are still alive the unmap is left to them."""
        if self._closed:
            return
        self._closed = True
        self.array = None
        try:
            self._mmap.close()
        except BufferError:
            # Exported views still exist; the mapping stays valid for them and goes away with them.
            pass

    def unlink(self) -> None:
        """Drop the memfd (no later attach by path). Never touches /dev/shm: there is no entry there."""
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def __enter__(self) -> "SharedArena":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
        self.unlink()

    def __del__(self) -> None:  # the fd would be closed at exit anyway; be tidy for long-lived masters
        try:
            self.unlink()
        except Exception:
            pass

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"SharedArena({self.name!r}, shape={self.shape}, dtype={self.dtype}, {state})"
