"""Execution-log rules (X codes): the Execution Contract of each operation record.

Pure functions over the records. The log's shape (X002-X007) and its scope
(X008, X010, X011) are checked for every operation; "no log" (X001), the ledger
outcome (X009) and the verification gates (X012) for *closed* operations: those
with a ledger entry, since the standard fills the ledger "after the operation
completes and evidence is verified".
"""
from __future__ import annotations

import datetime
import functools
import shlex
from collections.abc import Iterable, Iterator

from opsgov_hooks import linear
from opsgov_hooks.execution.cmdpolicy import Violation, violations_for_text
from opsgov_hooks.policy.config import Policy
from opsgov_hooks.execution.execlog import IN_PROGRESS, ExecutionLog, Step, parse_log
from opsgov_hooks.findings import Finding, error
from opsgov_hooks.records.declaration import Declaration
from opsgov_hooks.records.ids import parse_utc
from opsgov_hooks.records.ledger import LedgerEntry
from opsgov_hooks.records.store import RecordSet
from opsgov_hooks.rules.evidence import evidence_patterns as _evidence_patterns

STRUCTURE_CODES = frozenset({"X002", "X003", "X004", "X005", "X006", "X007"})
_RUN_HINT = "record steps with 'opsgov run', which writes this format"


@functools.lru_cache(maxsize=65536)  # above the record count: an LRU smaller than the set thrashes
def log_of(body: str, body_line: int) -> ExecutionLog | None:
    return parse_log(body, body_line)


def _logs(records: RecordSet) -> Iterator[tuple[Declaration, ExecutionLog | None]]:
    for d in records.declarations:
        yield d, log_of(d.body, d.body_line)


# -- X001: a closed operation has a log ------------------------------------------------

def log_present(records: RecordSet, policy: Policy) -> Iterator[Finding]:
    entries = records.entries_by_id()
    for d, log in _logs(records):
        entry = entries.get(d.operation_id)
        if entry is None or (log is not None and log.steps):
            continue
        where = "has no '## 3) Execution log' section" if log is None else "has no step in its Execution log"
        yield error("X001", f"{d.operation_id} is closed (ledger entry {entry.path}:{entry.line}) but its record "
                    f"{where}", d.path, log.heading_line if log else d.body_line, 1, hint=_RUN_HINT)


# -- X002-X007: the log's shape ------------------------------------------------------------

def log_structure(records: RecordSet, policy: Policy) -> Iterator[Finding]:
    for d, log in _logs(records):
        if log is not None:
            yield from structure_findings(log, d.path)


def structure_findings(log: ExecutionLog, path: str) -> list[Finding]:
    findings = [error("X002", p.message, path, p.line, 1) for p in log.problems]
    findings += _numbering(log.steps, path)
    findings += _timestamps(log.steps, path)
    for step in log.steps:
        findings += _completeness(step, path)
    return findings


def _numbering(steps: Iterable[Step], path: str) -> Iterator[Finding]:
    expected = 1
    for step in steps:
        if step.number != expected:
            what = "repeats" if step.number < expected else "skips"
            yield error("X003", f"step {step.number} {what} the sequence: expected STEP {expected} (steps are "
                        "numbered 1..N without gaps or repeats)", path, step.line, 1,
                        hint=f"renumber it [STEP {expected} | ...]")
        expected = max(expected, step.number) + 1


def _timestamps(steps: Iterable[Step], path: str) -> Iterator[Finding]:
    previous: tuple[Step, datetime.datetime] | None = None
    for step in steps:
        when = parse_utc(step.timestamp)
        if when is None or "T" not in step.timestamp:
            yield error("X004", f"step {step.number}: {step.timestamp!r} is not an ISO 8601 UTC timestamp",
                        path, step.line, 1, hint="write e.g. 2026-01-27T10:00:00Z")
            continue
        if previous is not None and when < previous[1]:
            yield error("X005", f"step {step.number} ({step.timestamp}) is earlier than step "
                        f"{previous[0].number} ({previous[0].timestamp}): time never goes backwards in a log",
                        path, step.line, 1)
        previous = (step, when)


def _completeness(step: Step, path: str) -> Iterator[Finding]:
    if step.status == IN_PROGRESS:
        yield error("X007", f"step {step.number} never finished (Status: {IN_PROGRESS}): the recorder was "
                    "stopped or is still running", path, step.line, 1,
                    hint="if no 'opsgov run' is running, roll back with 'opsgov run --rollback', which records "
                         "the step as FAIL")
        return
    missing = [label for label in ("Command", "Result", "Status", "Verification") if label not in step.fields]
    problems = [f"no {label}:" for label in missing] + [f"{label}: given twice" for label in step.repeated]
    if "Command" not in missing and not step.text("Command"):
        problems.append("Command: is empty")
    if "Status" not in missing and step.status not in ("PASS", "FAIL"):
        problems.append(f"Status: is {step.status!r}, not PASS or FAIL")
    if step.stray_line is not None:
        problems.append(f"text on line {step.stray_line} before Command:")
    if problems:
        yield error("X006", f"step {step.number} is incomplete: {'; '.join(problems)}", path, step.line, 1,
                    hint="every step has Command:, Result:, Status: PASS|FAIL and Verification:")


# -- X008, X009: never fix forward -------------------------------------------------------------

def never_fix_forward(records: RecordSet, policy: Policy) -> Iterator[Finding]:
    entries = records.entries_by_id()
    for d, log in _logs(records):
        failed = log.first_failure() if log is not None else None
        if log is None or failed is None:
            continue
        for step in log.steps[log.steps.index(failed) + 1:]:
            if not step.rollback:
                yield error("X008", f"step {step.number} follows the failed step {failed.number} but is not a "
                            "rollback step: after a FAIL, STOP and roll back (never fix forward)", d.path,
                            step.line, 1, hint="mark rollback steps [STEP N | <timestamp> | ROLLBACK]; to try "
                                               "again, declare a new operation")
        entry = entries.get(d.operation_id)
        if entry is not None and entry.get("outcome") == "SUCCESS":
            yield _success_after_failure(entry, failed, d)


def _success_after_failure(entry: LedgerEntry, failed: Step, d: Declaration) -> Finding:
    return error("X009", f"{entry.operation_id} has outcome SUCCESS but step {failed.number} failed "
                 f"({d.path}:{failed.line})", entry.path, entry.line, entry.column,
                 hint=f"a failed operation is rolled back; record it: opsgov ledger rollback {entry.operation_id} "
                      "--at now --evidence TEXT (add --outcome PARTIAL for a partial rollback)")


# -- X010, X011: the scope of the recorded commands ----------------------------------------------

class _ScopeMemo:
    """Operations repeat the same commands (the same verifications, above all): each distinct
    (command, allowed services) is judged once per process and policy, however the rule is
    called (once for every record, or once per operation)."""

    def __init__(self) -> None:
        self.policy: Policy | None = None   # held, so no other policy can take its identity
        self.seen: dict[tuple[str, tuple[str, ...]], list[Violation]] = {}

    def violations(self, command: str, services: tuple[str, ...], policy: Policy) -> list[Violation]:
        if self.policy is not policy:
            self.policy, self.seen = policy, {}
        key = (command, services)
        found = self.seen.get(key)
        if found is None:
            found = self.seen[key] = violations_for_text(command, services, policy)
        return found


_SCOPE = _ScopeMemo()


def log_scope(records: RecordSet, policy: Policy) -> Iterator[Finding]:
    for d, log in _logs(records):
        for step in log.steps if log is not None else ():
            for command, line in _commands(step):
                for v in _SCOPE.violations(command, d.allowed_services, policy):
                    code = {"service": "X010", "forbidden": "X011"}.get(v.kind, "X021")
                    yield error(code, f"step {step.number}: {v.message}", d.path, line, 1, hint=v.needs)


def _commands(step: Step) -> list[tuple[str, int]]:
    """The step's command and its verification commands, each with its file line."""
    field = step.fields.get("Command")
    found = []
    if field is not None and field.text:
        found.append((" ".join(t.strip() for t in field.lines if t.strip()), field.numbers[0]))
    return found + step.verification_commands()


# -- X012: verification gates per risk class -------------------------------------------------------

def verification_gates(records: RecordSet, policy: Policy) -> Iterator[Finding]:
    patterns, _problems = _evidence_patterns(policy)  # one that does not compile is the loader's C002
    entries = records.entries_by_id()
    for d, log in _logs(records):
        required = policy.verification_gates.get(d.risk_class, [])
        if not required or log is None or not log.steps or d.operation_id not in entries:
            continue
        checks = [c for s in log.steps if s.status == "PASS" for c, _ in s.verification_commands()]
        for kind in required:
            if not any(_EVIDENCE.counts(kind, c, patterns, policy) for c in checks):
                yield error("X012", f"{d.risk_class} needs {kind} evidence: no passing step has a verification "
                            f"command that counts as {kind}", d.path, log.heading_line, 1,
                            hint=f"record a step with e.g. opsgov run {d.operation_id} --verify "
                                 f"{shlex.quote(_EXAMPLES.get(kind, kind))} -- COMMAND (evidence_patterns in "
                                 "the config say what counts)")


_EXAMPLES = {
    "status": "systemctl is-active SERVICE",
    "logs": "sh -c '! journalctl -u SERVICE --since -10min | grep -iE \"error|fail|panic|fatal\"'",
    "functional": "curl -fsS http://localhost:PORT/health",
}


class _EvidenceMemo:
    """Operations repeat the same verification commands: whether one counts as evidence of a kind
    is decided once per process and policy (the answer of the patterns, which are pure)."""

    def __init__(self) -> None:
        self.policy: Policy | None = None   # held, so no other policy can take its identity
        self.seen: dict[tuple[str, str], bool] = {}

    def counts(self, kind: str, command: str, patterns: dict[str, list[linear.Pattern]], policy: Policy) -> bool:
        if self.policy is not policy:
            self.policy, self.seen = policy, {}
        key = (kind, command)
        found = self.seen.get(key)
        if found is None:
            if len(self.seen) >= 65536:
                self.seen.clear()
            found = self.seen[key] = any(p.search(command) for p in patterns.get(kind, []))
        return found


_EVIDENCE = _EvidenceMemo()
