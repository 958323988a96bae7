from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from opsgov_hooks.atomicfile import write_atomic


def test_replaces_a_regular_file_keeping_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "ledger.yaml"
    target.write_bytes(b"old\n")
    target.chmod(0o640)
    write_atomic(str(target), b"new\n")
    assert target.read_bytes() == b"new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["ledger.yaml"]  # no temporary file left behind


def test_exclusive_never_replaces(tmp_path: Path) -> None:
    target = tmp_path / "record.md"
    target.write_bytes(b"mine\n")
    with pytest.raises(FileExistsError):
        write_atomic(str(target), b"theirs\n", exclusive=True)
    assert target.read_bytes() == b"mine\n"


def test_a_pipe_or_device_is_written_not_replaced(tmp_path: Path) -> None:
    """``-o /dev/null`` must not turn the device into a regular file (a FIFO stands in for it here)."""
    fifo = tmp_path / "out"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    write_atomic(str(fifo), b"report\n")
    reader.join(10)
    assert received == [b"report\n"]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
