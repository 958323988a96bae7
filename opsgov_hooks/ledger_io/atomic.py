"""Atomic file replacement and the ledger's writer lock.

A write goes to a temporary file in the target's own directory (same file
system, so ``os.replace`` is atomic), is flushed and fsynced, takes the old file's
mode, and replaces the target in one step: a reader sees the old file or the new
one, never half of either. The lock (``filelock``, imported only by writers)
serialises read-modify-write cycles between processes.
"""
from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator

from opsgov_hooks.findings import UsageError

LOCK_TIMEOUT_SECONDS = 30.0


def atomic_write(path: str, data: bytes) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    mode = _mode_of(path)
    fd, temp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_dir(directory)


def _mode_of(path: str) -> int:
    """The existing file's permission bits; for a new file, what the umask gives."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _fsync_dir(directory: str) -> None:
    # The rename itself must survive a crash; not every platform can open a directory.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def locked(lock_path: str, timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
    """Hold an exclusive inter-process lock on ``lock_path`` (exit 2 naming the lock when it stays busy)."""
    import filelock

    os.makedirs(os.path.dirname(lock_path), exist_ok=True)
    lock = filelock.FileLock(lock_path, timeout=timeout)
    try:
        with lock:
            yield
    except filelock.Timeout:
        raise UsageError(f"another opsgov process has held the ledger lock {lock_path} for {timeout:.0f}s; "
                         "wait for it to finish and run again") from None
