"""Writes that never leave a half-written file: a temporary file in the same folder, then a rename.

``write_atomic`` replaces the target in one step; ``create_exclusive`` puts a file
in place only if nothing is there (a hard link cannot overwrite), so two
concurrent ``opsgov init`` runs can never clobber each other or a user's file.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator


@contextlib.contextmanager
def _temporary(path: str, data: bytes) -> Iterator[str]:
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".opsgov-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        yield tmp
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def write_atomic(path: str, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (keeping an existing file's permissions)."""
    with _temporary(path, data) as tmp:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
        if not os.path.exists(path):
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)


def create_exclusive(path: str, data: bytes) -> bool:
    """Create ``path`` with ``data``; False (and nothing written) when it already exists."""
    if os.path.lexists(path):
        return False
    with _temporary(path, data) as tmp:
        os.chmod(tmp, 0o666 & ~_umask())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
        except OSError:
            return _create_without_links(path, data)
    return True


def _create_without_links(path: str, data: bytes) -> bool:
    """For file systems without hard links: O_EXCL still refuses to overwrite."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
