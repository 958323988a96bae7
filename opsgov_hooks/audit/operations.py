"""One row per operation: declaration, ledger entry and tag side by side (pure functions)."""
from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence

from opsgov_hooks.policy.config import Policy
from opsgov_hooks.git.tags import TagRef
from opsgov_hooks.records.declaration import Declaration
from opsgov_hooks.records.ids import id_date, id_from_tag, tag_name
from opsgov_hooks.records.ledger import LedgerEntry
from opsgov_hooks.records.store import RecordSet
from opsgov_hooks.audit.evidence import evidence_of
from opsgov_hooks.audit.model import OPEN, OperationRow, OverdueApproval, TagStatus
from opsgov_hooks.audit.period import UTC, Period, parse_instant


def tag_statuses(tags: Sequence[TagRef], dates: Mapping[str, str]) -> dict[str, TagStatus]:
    """Operation id -> the status of its ``ops-*`` tag (present tags only)."""
    result = {}
    for tag in tags:
        result[id_from_tag(tag.name)] = TagStatus(
            name=tag.name, present=True, annotated=tag.object_type == "tag", signed=bool(tag.signature.strip()),
            created=parse_instant(dates.get(tag.ref)), target=tag.target_sha)
    return result


def operation_row(op_id: str, declaration: Declaration | None, entry: LedgerEntry | None,
                  tag: TagStatus | None, declared_at: datetime.datetime | None,
                  commits: Sequence[str]) -> OperationRow:
    fields = entry.fields if entry is not None else {}

    def text(key: str) -> str | None:
        value = fields.get(key)
        return None if value is None else str(value)

    return OperationRow(
        operation_id=op_id,
        name=declaration.name if declaration else str(fields.get("operation_name", "")),
        risk_class=declaration.risk_class if declaration else str(fields.get("risk_class", "")),
        record_path=declaration.path if declaration else None,
        ledger_location=f"{entry.path}:{entry.line}" if entry is not None else None,
        requested_by=text("requested_by"), approved_by=text("approved_by"), declared_at=declared_at,
        approval_timestamp=parse_instant(fields.get("approval_timestamp")),
        execution_timestamp=parse_instant(fields.get("execution_timestamp")),
        outcome=text("outcome") or OPEN, emergency=fields.get("emergency") is True,
        tag=tag or TagStatus(tag_name(op_id)), rollback_ref=text("rollback_ref"),
        rollback_timestamp=parse_instant(fields.get("rollback_timestamp")),
        rollback_evidence=text("rollback_evidence"), commits=tuple(commits), evidence=evidence_of(declaration),
    )


def in_period(row: OperationRow, period: Period) -> bool:
    """An operation belongs to the period when anything of it happened in it."""
    day = id_date(row.operation_id)
    start_of_day = datetime.datetime(day.year, day.month, day.day, tzinfo=UTC) if day else None
    moments = (start_of_day, row.declared_at, row.approval_timestamp, row.execution_timestamp,
               row.rollback_timestamp, row.tag.created)
    return bool(row.commits) or any(period.contains(m) for m in moments)


def operation_rows(records: RecordSet, tags: Mapping[str, TagStatus], declared: Mapping[str, datetime.datetime],
                   traced: Mapping[str, list[str]], period: Period) -> list[OperationRow]:
    """Every operation known to the records (declared, or only in the ledger) that the period saw."""
    declarations = records.by_id()
    entries = records.entries_by_id()
    rows = []
    for op_id in sorted(set(declarations) | set(entries)):
        row = operation_row(op_id, declarations.get(op_id), entries.get(op_id), tags.get(op_id),
                            declared.get(op_id), traced.get(op_id, []))
        if in_period(row, period):
            rows.append(row)
    return rows


def overdue_approvals(rows: Sequence[OperationRow], policy: Policy) -> list[OverdueApproval]:
    """Emergency operations approved later than the configured window after execution."""
    window = datetime.timedelta(hours=policy.emergency_approval_hours)
    result = []
    for row in rows:
        if not (row.emergency and row.execution_timestamp and row.approval_timestamp):
            continue
        deadline = row.execution_timestamp + window
        if row.approval_timestamp > deadline:
            result.append(OverdueApproval(row.operation_id, row.execution_timestamp, row.approval_timestamp,
                                          deadline, row.approved_by or "", row.ledger_location or ""))
    return result
