"""The ledger's writer lock.

Writes go through :func:`opsgov_hooks.atomicfile.write_atomic` (temporary file in
the same directory, fsync, rename, mode kept). The lock (``filelock``, imported
only by writers) serialises read-modify-write cycles between processes.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from opsgov_hooks.findings import UsageError

LOCK_TIMEOUT_SECONDS = 30.0


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
