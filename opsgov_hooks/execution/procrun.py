"""Run one command for ``opsgov run``: no shell, bounded output, a timeout, a clean stop.

* The command is an argv list, never a shell string.
* It runs in its own session with an empty stdin: it cannot read the terminal
  (a password prompt fails at once instead of hanging), and its whole process
  group can be stopped on a timeout or an interruption.
* stdout and stderr are merged in the order they were written; at most
  ``max_bytes`` are kept (the first and the last half), the rest is counted.
"""
from __future__ import annotations

import codecs
import contextlib
import dataclasses
import os
import selectors
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import IO, TextIO

_GRACE_SECONDS = 5.0        # between SIGTERM and SIGKILL when stopping a command
_DRAIN_SECONDS = 2.0        # how long to wait for output after the command has exited


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, SIGTERM or SIGHUP while a step runs."""

    def __init__(self, signal_name: str = "SIGINT") -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


def signal_name(exc: BaseException) -> str:
    return exc.signal_name if isinstance(exc, Interrupted) else "SIGINT"


@dataclasses.dataclass(frozen=True)
class Outcome:
    argv: tuple[str, ...]
    returncode: int | None
    head: bytes = b""
    tail: bytes = b""
    omitted: int = 0
    seconds: float = 0.0
    timed_out: bool = False
    interrupted: str | None = None      # the signal's name
    error: str | None = None            # why the command could not start
    output_open: bool = False           # a background process kept the output open

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not (self.timed_out or self.interrupted or self.error)


class _Capture:
    """Keeps the first and the last ``max_bytes // 2`` bytes; optionally echoes everything."""

    def __init__(self, max_bytes: int, tee: TextIO | None) -> None:
        self.half = max(max_bytes // 2, 1)
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self.tee = tee
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.stop = threading.Event()

    def add(self, chunk: bytes) -> None:
        self._echo(chunk)
        self.total += len(chunk)
        room = self.half - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        self.tail += chunk
        if len(self.tail) > self.half:
            del self.tail[:len(self.tail) - self.half]

    def _echo(self, chunk: bytes) -> None:
        if self.tee is not None:
            with contextlib.suppress(OSError, ValueError):
                self.tee.write(self.decoder.decode(chunk))
                self.tee.flush()

    def pump(self, stream: IO[bytes]) -> None:
        fd = stream.fileno()
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while not self.stop.is_set():
                if not selector.select(timeout=0.1):
                    continue
                chunk = os.read(fd, 65536)
                if not chunk:
                    return
                self.add(chunk)

    @property
    def omitted(self) -> int:
        return self.total - len(self.head) - len(self.tail)


def _nothing() -> None:
    pass


def run_bounded(argv: Sequence[str], *, cwd: str, timeout: float | None, max_bytes: int,
                tee: TextIO | None = None, env: Mapping[str, str] | None = None,
                hold: Callable[[], None] = _nothing, release: Callable[[], None] = _nothing) -> Outcome:
    """Run ``argv`` with bounded output capture.

    ``hold``/``release`` defer the caller's signal handling while the child is being
    started: a Ctrl-C that lands between fork and the wait below would otherwise leave
    a running command nobody stops. ``release`` raises a deferred interrupt inside the
    ``try`` that stops the command's process group.
    """
    start = time.monotonic()
    hold()
    try:
        proc = subprocess.Popen(list(argv), cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True, env=env)
    except OSError as exc:
        release()
        return Outcome(tuple(argv), None, error=f"{exc.strerror or exc}: {argv[0]}")
    assert proc.stdout is not None
    capture = _Capture(max_bytes, tee)
    reader = threading.Thread(target=capture.pump, args=(proc.stdout,), daemon=True)
    reader.start()
    timed_out, interrupted = False, None
    try:
        release()
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        stop_group(proc)
    except KeyboardInterrupt as exc:
        interrupted = signal_name(exc)
        stop_group(proc)
    try:
        output_open = _drain(reader, capture, proc.stdout)
    except KeyboardInterrupt as exc:  # interrupted while collecting the last output
        interrupted = interrupted or signal_name(exc)
        capture.stop.set()
        output_open = False
    return Outcome(tuple(argv), proc.returncode, bytes(capture.head), bytes(capture.tail), capture.omitted,
                   time.monotonic() - start, timed_out, interrupted, None, output_open)


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the command's process group, SIGKILL if it is still there after a grace period."""
    for sig, wait in ((signal.SIGTERM, _GRACE_SECONDS), (signal.SIGKILL, None)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _drain(reader: threading.Thread, capture: _Capture, stream: IO[bytes]) -> bool:
    """Wait for the rest of the output; True when a background process kept the pipe open."""
    reader.join(_DRAIN_SECONDS)
    still_open = reader.is_alive()
    if still_open:
        capture.stop.set()
        reader.join()
    stream.close()
    return still_open
