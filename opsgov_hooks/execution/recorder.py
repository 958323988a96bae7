"""``opsgov run``: perform one step of an operation and record it in its Execution log.

Order of events, chosen so that the record is never silent about a command that ran:

1. Refuse, without running anything (exit 2): a command outside the scope contract
   (HALT), a step after a failed one unless it is a rollback step, a normal step
   on an operation its ops-* tag closed, a second step while one is still running.
2. Append the step to the Execution log as ``Status: IN PROGRESS`` (atomically).
   Even a ``kill -9`` of opsgov now leaves evidence that the command was started.
3. Run the command, then every ``--verify`` check, each without a shell.
4. Replace the in-progress step by the final one, PASS only if the command and
   every check succeeded. Ctrl-C, SIGTERM or SIGHUP stop the command's process
   group and the step is written as FAIL (INTERRUPTED); a crash of opsgov itself
   still reaches step 4 (``finally``). Only the step's own lines ever change.

An in-progress step whose recorder is gone (same host, its pid no longer runs)
counts as failed: only ``--rollback`` may follow, and it first records that step
as FAIL with an unknown effect.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime
import os
import re
import shlex
import shutil
import signal
import socket
from collections.abc import Callable
from types import FrameType
from typing import TextIO, TypeVar

from opsgov_hooks.atomicfile import write_atomic
from opsgov_hooks.execution.cmdpolicy import violations
from opsgov_hooks.policy.config import Policy, load_policy
from opsgov_hooks.execution.execlog import IN_PROGRESS, ExecutionLog, Step, parse_record_log
from opsgov_hooks.findings import UsageError
from opsgov_hooks.execution.operation import load_operation
from opsgov_hooks.execution.procrun import Interrupted, Outcome, run_bounded, signal_name
from opsgov_hooks.check.runner import RECORDING_ENV
from opsgov_hooks.output.text import format_line
from opsgov_hooks.records.declaration import Declaration
from opsgov_hooks.records.ids import parse_utc, tag_name
from opsgov_hooks.rules.execution import structure_findings
from opsgov_hooks.git.sources import WorktreeSource
from opsgov_hooks.execution.steptext import (FENCE_CLOSE, FENCE_OPEN, command_text, exit_text, insert_block,
                                             replace_lines, result_lines, step_lines)
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.git.process import find_root
from opsgov_hooks.records.yamlstrict import MAX_BYTES

T = TypeVar("T")
_RUNNING = re.compile(r"pid ([0-9]+) on host (\S+?)\)")
_OUTPUT_CAPS = (None, 16384, 4096, 1024, 0)     # tried in turn to keep a record under the size limit


class Halt(UsageError):
    """opsgov refuses the step: nothing was run and nothing was recorded (exit 2)."""


@dataclasses.dataclass(frozen=True)
class StepRequest:
    operation_id: str
    argv: tuple[str, ...]
    verifies: tuple[str, ...] = ()
    rollback: bool = False
    timeout: float | None = None


@dataclasses.dataclass
class StepResult:
    command: Outcome | None = None
    verifications: list[Outcome] = dataclasses.field(default_factory=list)
    interrupted: str | None = None
    crashed: str | None = None

    def passed(self, checks: int) -> bool:
        return (self.command is not None and self.command.ok and len(self.verifications) == checks
                and all(v.ok for v in self.verifications) and not self.interrupted and not self.crashed)


@dataclasses.dataclass(frozen=True)
class Pending:
    number: int
    timestamp: str
    marker: str             # "pid N on host H": identifies this run's in-progress step


@dataclasses.dataclass(frozen=True)
class _Run:
    """Everything one ``opsgov run`` needs, resolved before anything runs."""
    request: StepRequest
    policy: Policy
    declaration: Declaration
    checks: list[list[str]]
    path: str               # absolute path of the record
    rel: str                # its repository path
    cwd: str
    closed_by: str | None   # the ops-* tag that closed the operation: no step but a rollback step follows


def record_step(start: str, request: StepRequest, out: TextIO, err: TextIO) -> int:
    run = prepare(start, request)
    with SignalGuard() as guard:
        pending = update_record(run.path, lambda text: begin_step(text, run))
        result = StepResult()
        try:
            guard.live()
            execute(run, pending, result, out, err, guard)
        except KeyboardInterrupt as exc:
            result.interrupted = signal_name(exc)
        except Exception as exc:
            result.crashed = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            guard.defer()
            finish_step(run, pending, result, err)
    return conclude(run, pending, result, err)


def prepare(start: str, request: StepRequest) -> _Run:
    root = find_root(start)
    policy = load_policy(WorktreeSource(root))
    declaration, _raw = load_operation(root, policy, request.operation_id)
    checks = [split_check(v) for v in request.verifies]
    cwd = os.path.abspath(start)
    refuse_out_of_scope(declaration, policy, [list(request.argv), *checks], cwd)
    for argv in [list(request.argv), *checks]:
        if _program(argv[0], cwd) is None:
            raise UsageError(f"cannot run `{argv[0]}`: no such program on PATH (nothing was run)")
    rel = policy.record_path(request.operation_id)
    return _Run(request, policy, declaration, checks, os.path.join(root, rel), rel, cwd,
                closing_tag(root, request.operation_id))


def closing_tag(root: str, operation_id: str) -> str | None:
    """The operation's ``ops-*`` tag when it exists: the tag closes an operation, not its ledger entry.

    Until the tag, steps may still be recorded (a verification the gate asked for after
    ``opsgov ledger record``, for instance); the tag seals the record as it is.
    """
    if not os.path.exists(os.path.join(root, ".git")):
        return None
    name = tag_name(operation_id)
    return name if Git(root).local_tag(name) is not None else None


def split_check(check: str) -> list[str]:
    """A ``--verify`` string as an argv: split like a shell would, run without one."""
    try:
        argv = shlex.split(check)
    except ValueError as exc:
        raise UsageError(f"--verify {check!r}: {exc}; quote it as you would for a shell (it is split with "
                         "shlex and run without a shell: write sh -c '...' for a pipe)") from None
    if not argv:
        raise UsageError("--verify needs a command")
    return argv


def _program(name: str, cwd: str) -> str | None:
    if "/" not in name:
        return shutil.which(name)
    path = os.path.join(cwd, name)
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def refuse_out_of_scope(declaration: Declaration, policy: Policy, argvs: list[list[str]], cwd: str = ".") -> None:
    def resolve(program: str) -> str | None:
        """The file a program name runs here, through its symbolic links (``ipt`` -> ``iptables``)."""
        found = _program(program, cwd)
        return os.path.realpath(found) if found else None

    found = [v for argv in argvs for v in violations(argv, declaration.allowed_services, policy, resolve)]
    if found:
        lines = [f"{v.message}\n  needs: {v.needs}" for v in found]
        raise Halt("\n".join(lines) + f"\nNothing was run. The scope contract of {declaration.operation_id} "
                   "does not allow this step; when uncertain, ask.")


# -- the record: read, transform, compare-and-swap ------------------------------------------------------

def update_record(path: str, transform: Callable[[str], tuple[str, T]]) -> T:
    """Apply ``transform`` to the record and write the result atomically.

    The file is read again just before the rename: if someone saved it meanwhile
    (an editor), the transform is applied again to the new text, so no edit is lost.
    """
    for _ in range(5):
        raw = _read(path)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{path} is not UTF-8; re-save it as UTF-8") from None
        bom = "\ufeff" if text.startswith("\ufeff") else ""
        new, value = transform(text[len(bom):])
        if _read(path) == raw:
            write_atomic(path, (bom + new).encode("utf-8"))
            return value
    raise UsageError(f"{path} keeps changing while opsgov writes to it; close the editor, then run again")


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


# -- step 1 and 2: checks, then the in-progress step --------------------------------------------------------

def begin_step(text: str, run: _Run) -> tuple[str, Pending]:
    log = parse_record_log(text, run.rel)
    last = log.last()
    broken = [f for f in structure_findings(log, run.rel)
              if not (f.code == "X007" and last is not None and f.line == last.line)]
    if broken:
        raise Halt(f"the Execution log of {run.rel} is broken; nothing was run. Fix it first:\n"
                   + "\n".join(format_line(f) for f in broken))
    stale = refuse_by_state(log, run)
    now = _now(last)
    pending = Pending((last.number if last else 0) + 1, now, f"pid {os.getpid()} on host {_host()}")
    planned = [f"$ {command_text(argv)}" for argv in run.checks] + ["(pending)"]
    lines = step_lines(pending.number, now, run.request.rollback, command_text(run.request.argv),
                       [f"running: started by opsgov run ({pending.marker})"], IN_PROGRESS, planned)
    text = insert_block(text, log.insert_line, [FENCE_OPEN, *lines, FENCE_CLOSE])
    if stale is not None:  # above the insertion point, so its line numbers still hold
        text = replace_lines(text, stale.line, stale.last_line, _stale_as_failed(stale))
    return text, pending


def refuse_by_state(log: ExecutionLog, run: _Run) -> Step | None:
    """Refuse what the log forbids; the stale in-progress step to record as FAIL, if any."""
    request, last = run.request, log.last()
    stale = None
    if last is not None and last.status == IN_PROGRESS:
        stale = _stale_step(last, request)
    failed = log.first_failure()
    if failed is not None and not request.rollback:
        raise Halt(f"step {failed.number} of {request.operation_id} FAILED ({run.rel}:{failed.line}): only "
                   "rollback steps may follow (never fix forward). STOP and roll back:\n    "
                   f"{run.declaration.rollback_strategy}\nRecord each rollback step with: opsgov run "
                   f"{request.operation_id} --rollback -- COMMAND...")
    if run.closed_by is not None and not request.rollback:
        raise Halt(f"{request.operation_id} is closed (tag {run.closed_by}): only "
                   "rollback steps may follow; new work is a new operation ('opsgov new')")
    return stale


def _stale_step(step: Step, request: StepRequest) -> Step:
    m = _RUNNING.search(step.text("Result"))
    if m is None or m[2] != _host():
        where = f"on host {m[2]}" if m else "by an unknown recorder"
        raise Halt(f"step {step.number} is in progress {where}: opsgov cannot tell whether it still runs. Finish "
                   "it there; if that run is gone for good, mark the step 'Status: FAIL' by hand")
    if _alive(int(m[1])):
        raise Halt(f"step {step.number} is still running (opsgov pid {m[1]}): steps run one at a time")
    if not request.rollback:
        raise Halt(f"step {step.number} never finished: its recorder (pid {m[1]}) stopped, so the command's "
                   f"effect is unknown and the step counts as failed. Roll back with: opsgov run "
                   f"{request.operation_id} --rollback -- COMMAND... (the step is then recorded as FAIL)")
    return step


def _stale_as_failed(step: Step) -> list[str]:
    m = _RUNNING.search(step.text("Result"))
    recorder = f"pid {m[1]} on host {m[2]}" if m else "unknown"
    result = [f"INTERRUPTED: the recorder ({recorder}) stopped before this step finished; the command's effect "
              "is unknown"]
    return step_lines(step.number, step.timestamp, step.rollback, step.text("Command"), result, "FAIL",
                      ["(not run: the recorder stopped)"])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _host() -> str:
    return socket.gethostname() or "localhost"


def _now(last: Step | None) -> str:
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    before = parse_utc(last.timestamp) if last is not None else None
    if before is not None and now < before:
        raise Halt(f"this machine's clock ({now.isoformat()}) is behind step {last.number if last else 0}'s "
                   f"timestamp ({before.isoformat()}); fix the clock (timestamps never go backwards)")
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- step 3: run ------------------------------------------------------------------------------------------

def execute(run: _Run, pending: Pending, result: StepResult, out: TextIO, err: TextIO,
            guard: SignalGuard | None = None) -> None:
    request = run.request
    err.write(f"opsgov: [STEP {pending.number}] $ {command_text(request.argv)}\n")
    err.flush()
    result.command = _run(run, request.argv, out, guard)
    if result.command.interrupted:
        result.interrupted = result.command.interrupted
        return
    for argv in run.checks:
        err.write(f"opsgov: [verify] $ {command_text(argv)}\n")
        err.flush()
        outcome = _run(run, argv, out, guard)
        result.verifications.append(outcome)
        if outcome.interrupted:
            result.interrupted = outcome.interrupted
            return


def _run(run: _Run, argv: list[str] | tuple[str, ...], out: TextIO, guard: SignalGuard | None) -> Outcome:
    # A verification may itself be 'opsgov validate': it must know that the step in progress in this
    # record is the one being recorded right now, not one whose recorder died (X007).
    env = {**os.environ, RECORDING_ENV: run.rel}
    if guard is None:
        return run_bounded(argv, cwd=run.cwd, timeout=run.request.timeout,
                           max_bytes=run.policy.max_output_bytes, tee=out, env=env)
    return run_bounded(argv, cwd=run.cwd, timeout=run.request.timeout, max_bytes=run.policy.max_output_bytes,
                       tee=out, env=env, hold=guard.defer, release=guard.live)


# -- step 4: the final step -------------------------------------------------------------------------------

def final_lines(run: _Run, pending: Pending, result: StepResult, cap: int | None) -> list[str]:
    timeout = run.request.timeout
    if result.command is not None:
        outcome = result_lines(result.command, timeout, cap)
    else:
        outcome = [f"INTERRUPTED by {result.interrupted}: the command did not start" if result.interrupted
                   else f"opsgov failed before the command ran: {result.crashed}"]
    if result.crashed and result.command is not None:
        outcome.append(f"(opsgov failed after the command ran: {result.crashed})")
    checks: list[str] = []
    for i, argv in enumerate(run.checks):
        checks.append(f"$ {command_text(argv)}")
        checks += (result_lines(result.verifications[i], timeout, cap) if i < len(result.verifications)
                   else [f"(not run: the step was {'interrupted' if result.interrupted else 'stopped'})"])
    status = "PASS" if result.passed(len(run.checks)) else "FAIL"
    return step_lines(pending.number, pending.timestamp, run.request.rollback, command_text(run.request.argv),
                      outcome, status, checks or ["(none)"])


def finish_step(run: _Run, pending: Pending, result: StepResult, err: TextIO) -> None:
    def transform(text: str) -> tuple[str, None]:
        step = _own_step(parse_record_log(text, run.rel), pending)
        for cap in _OUTPUT_CAPS:
            new = replace_lines(text, step.line, step.last_line, final_lines(run, pending, result, cap))
            if len(new.encode("utf-8")) <= MAX_BYTES - 4096:
                break
        return new, None

    try:
        update_record(run.path, transform)
    except BaseException:
        err.write("opsgov: could not write the step into the record; this is what it says:\n"
                  + "\n".join(final_lines(run, pending, result, None)) + "\n")
        raise


def _own_step(log: ExecutionLog, pending: Pending) -> Step:
    for step in log.steps:
        if (step.number, step.timestamp, step.status) == (pending.number, pending.timestamp, IN_PROGRESS) \
                and pending.marker in step.text("Result"):
            return step
    raise UsageError(f"step {pending.number} ({pending.timestamp}) is no longer in progress in the record: "
                     "someone changed it while the step ran")


def conclude(run: _Run, pending: Pending, result: StepResult, err: TextIO) -> int:
    request = run.request
    if result.passed(len(run.checks)):
        err.write(f"opsgov: STEP {pending.number} PASS (recorded in {run.rel})\n")
        return 0
    err.write(f"opsgov: STEP {pending.number} FAIL: {_why(run, result)} (recorded in {run.rel})\n")
    if request.rollback:
        err.write("opsgov: a rollback step failed: HALT and ASK, do not guess. The declared ROLLBACK_STRATEGY:\n"
                  f"    {run.declaration.rollback_strategy}\n")
        return 130 if result.interrupted else 1
    err.write("opsgov: STOP. Roll back now, never fix forward. The declared ROLLBACK_STRATEGY:\n"
              f"    {run.declaration.rollback_strategy}\n"
              f"opsgov: record each rollback step with: opsgov run {request.operation_id} --rollback -- COMMAND...\n")
    return 130 if result.interrupted else 1


def _why(run: _Run, result: StepResult) -> str:
    if result.interrupted:
        return f"interrupted by {result.interrupted}"
    command = result.command
    if command is None or not command.ok:
        return "the command " + (_failure(command) if command is not None else "did not run")
    for argv, outcome in zip(run.checks, result.verifications):
        if not outcome.ok:
            return f"verification `{command_text(argv)}` {_failure(outcome)}"
    return "a verification did not run"


def _failure(outcome: Outcome) -> str:
    if outcome.error:
        return f"could not start ({outcome.error})"
    return "timed out" if outcome.timed_out else f"failed ({exit_text(outcome.returncode)})"


# -- signals -------------------------------------------------------------------------------------------------

class SignalGuard:
    """SIGINT, SIGTERM and SIGHUP become :class:`Interrupted` while a step runs, and wait while opsgov writes.

    While deferred (writing the record), a signal is remembered and raised by the
    next :meth:`live`; after the first signal, later ones are ignored until the
    step is recorded: a second Ctrl-C must not leave a step half-written.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self) -> None:
        self.received: str | None = None
        self.raised = False
        self.deferring = True
        self.previous: dict[int, object] = {}

    def __enter__(self) -> SignalGuard:
        with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
            for sig in self.SIGNALS:
                self.previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signal.Signals(signum).name
        if not self.deferring:
            self.live()

    def live(self) -> None:
        self.deferring = False
        if self.received is not None and not self.raised:
            self.raised = True
            raise Interrupted(self.received)

    def defer(self) -> None:
        self.deferring = True
