"""The one currency of the pipeline: a finding, located at ``path:line:col``."""
from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclasses.dataclass(frozen=True)
class Finding:
    code: str
    message: str
    path: str
    line: int = 1
    column: int = 1
    severity: Severity = Severity.ERROR
    hint: str | None = None
    commit: str | None = None   # the full id of the commit the finding belongs to (range, push, pre-receive)

    def as_dict(self) -> dict[str, object]:
        """The finding as ``schemas/findings.schema.json`` describes it."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "hint": self.hint,
            "commit": self.commit,
        }


FindingTuple = tuple[str, str, str, int, int, str, "str | None", "str | None"]


def to_tuple(f: Finding) -> FindingTuple:
    """A finding as plain data (for caches: :mod:`marshal` holds nothing else)."""
    return (f.code, f.message, f.path, f.line, f.column, f.severity.value, f.hint, f.commit)


def from_tuple(data: FindingTuple) -> Finding:
    """The inverse of :func:`to_tuple`; raises TypeError or ValueError on anything else."""
    code, message, path, line, column, severity, hint, commit = data
    return Finding(code, message, path, line, column, Severity(severity), hint, commit)


def of_commit(findings: Iterable[Finding], commit: str) -> list[Finding]:
    """``findings`` of one judged commit, each carrying its id (one already set is kept)."""
    return [f if f.commit else dataclasses.replace(f, commit=commit) for f in findings]


def error(code: str, message: str, path: str, line: int = 1, column: int = 1,
          hint: str | None = None) -> Finding:
    return Finding(code, message, path, line, column, Severity.ERROR, hint)


def warning(code: str, message: str, path: str, line: int = 1, column: int = 1,
            hint: str | None = None) -> Finding:
    return Finding(code, message, path, line, column, Severity.WARNING, hint)


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Stable, deduplicated, in file order: what a reader expects to scan top to bottom."""
    unique = dict.fromkeys(findings)
    return sorted(unique, key=lambda f: (f.path, f.line, f.column, f.code, f.message))


class UsageError(Exception):
    """A usage or environment problem: reported as one message and exit code 2.

    The message must say what is wrong *and* what to do about it.
    """
