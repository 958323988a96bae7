"""The repository a lifecycle command works on: git, its root, the policy, and the records on disk."""
from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable
from typing import TextIO

from opsgov_hooks.policy.config import Policy, load_policy
from opsgov_hooks.findings import Finding, UsageError, sort_findings
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.ledger_io import FileBackend, open_backend
from opsgov_hooks.records.ids import ID_RE, id_date, parse_utc
from opsgov_hooks.records.ledger import LedgerEntry
from opsgov_hooks.records.store import RecordSet
from opsgov_hooks.speed.records_cache import load_records
from opsgov_hooks.output import get_reporter
from opsgov_hooks.git.sources import WorktreeSource


@dataclasses.dataclass
class Workspace:
    git: Git
    policy: Policy
    backend: FileBackend

    @property
    def root(self) -> str:
        return self.git.root

    def records(self) -> RecordSet:
        """Records in the working tree; with the tags backend, sealed tags and pending entries too."""
        tags = self.git.ops_tags() if self.policy.ledger_backend == "tags" else []
        records = load_records(WorktreeSource(self.root), self.policy, tags=tags)
        entries, findings = self.backend.pending()
        records.entries += entries
        records.findings += findings
        return records


def open_workspace(start: str) -> Workspace:
    git = Git.discover(start)
    policy = load_policy(WorktreeSource(git.root))
    return Workspace(git, policy, open_backend(git, policy))


def check_operation_id(operation_id: str) -> str:
    if not ID_RE.match(operation_id) or id_date(operation_id) is None:
        raise UsageError(f"{operation_id!r} is not an operation id: write OPS-YYYY-MM-DD-NNN with a real date "
                         "(e.g. OPS-2026-01-27-001)")
    return operation_id


def utc_stamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def timestamp_option(name: str, value: str | None, now: datetime.datetime) -> str:
    """A timestamp flag: ``now``, or an ISO 8601 UTC instant as written."""
    if value is None:
        raise UsageError(f"{name} is required (an ISO 8601 UTC instant such as 2026-01-27T10:00:00Z, or 'now')")
    if value.strip().lower() == "now":
        return utc_stamp(now)
    if parse_utc(value.strip()) is None:
        raise UsageError(f"{name} {value!r} is not an ISO 8601 instant in UTC: write e.g. 2026-01-27T10:00:00Z "
                         "or 'now'")
    return value.strip()


def findings_of(entry: LedgerEntry | None, findings: Iterable[Finding]) -> list[Finding]:
    """The findings located inside one entry's lines."""
    if entry is None:
        return []
    end = max(entry.end_line, entry.line + 1)
    return [f for f in findings if f.path == entry.path and entry.line <= f.line < end]


def with_entry(records: RecordSet, entry: LedgerEntry) -> RecordSet:
    """``records`` with ``entry`` in place of any entry of the same operation."""
    others = [e for e in records.entries if e.operation_id != entry.operation_id]
    return dataclasses.replace(records, entries=others + [entry])


def emit(findings: list[Finding], output_format: str, out: TextIO) -> None:
    ordered = sort_findings(findings)
    if ordered or output_format == "json":
        out.write(get_reporter(output_format)(ordered))
