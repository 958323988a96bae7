"""From facts to the report: trace commits, build operation rows, find the gaps (pure)."""
from __future__ import annotations

import dataclasses
import datetime
import posixpath
from collections.abc import Sequence

from opsgov_hooks.policy.config import Policy
from opsgov_hooks.findings import Finding, error, sort_findings, warning
from opsgov_hooks.records.ids import id_date, id_from_tag
from opsgov_hooks.records.store import RecordSet, record_kind
from opsgov_hooks.audit.model import BEFORE_ADOPTION, OPEN, CommitRow, Facts, OperationRow, OverdueApproval, Report
from opsgov_hooks.git.history import LogCommit
from opsgov_hooks.audit.approvals import with_approvals
from opsgov_hooks.audit.operations import operation_rows, overdue_approvals, tag_statuses
from opsgov_hooks.audit.period import UTC, Period, iso, parse_instant
from opsgov_hooks.audit.requirements import area_of
from opsgov_hooks.audit.trace import Sweep, declared_times, governed_commits, trace, windows
from opsgov_hooks.check.runner import run_record_rules


def build_report(facts: Facts, period: Period, now: datetime.datetime) -> Report:
    policy, records = facts.policy, facts.records
    tags = tag_statuses(facts.tags, facts.tag_dates)
    declared = declared_times(facts.commits, policy)
    closed = {op_id: t.created for op_id, t in tags.items() if t.created is not None}
    known = set(records.by_id()) | set(records.entries_by_id())
    sweep = Sweep(windows(records.declarations, declared, closed))
    commits = []
    for commit, paths in governed_commits(facts.commits, policy, period):
        when = parse_instant(commit.commit_date)
        assert when is not None  # governed_commits keeps only commits with a date
        if commit.sha in facts.before_adoption:
            commits.append(before_adoption(commit, paths, when, facts.adoption))
            continue
        commits.append(trace(commit, paths, policy, known, facts.ledger_touches, sweep.at(when)))
    traced: dict[str, list[str]] = {}
    for row in commits:
        for op_id in row.operation_ids:
            traced.setdefault(op_id, []).append(row.sha)
    operations, approval_gaps = with_approvals(operation_rows(records, tags, declared, traced, period), facts)
    overdue = overdue_approvals(operations, policy)
    findings = record_findings(records, policy, {o.operation_id for o in operations}, period) + approval_gaps
    gaps = gap_findings(operations, commits, overdue, policy)
    findings += _not_already_reported(gaps, findings, records, policy)
    return Report(now, period, facts.repository, facts.head, policy.source, policy.governed_paths,
                  tuple(operations), tuple(commits), tuple(overdue), tuple(sort_findings(findings)))


def before_adoption(commit: LogCommit, paths: list[str], when: datetime.datetime,
                    adoption: str | None) -> CommitRow:
    return CommitRow(commit.sha, when, f"{commit.author_name} <{commit.author_email}>", commit.subject,
                     tuple(paths), (), BEFORE_ADOPTION,
                     f"before the adoption (commit {(adoption or '')[:12]}): the gate judges changes from it on")


def record_findings(records: RecordSet, policy: Policy, period_ids: set[str], period: Period) -> list[Finding]:
    """The records' own findings, less those about operations outside the period.

    A finding about a record too broken to be an operation counts by its id's day.
    """
    known = set(records.by_id()) | set(records.entries_by_id())
    kept = []
    for finding in list(records.findings) + run_record_rules(records, policy):
        owner = _owner(finding, records, policy)
        if owner is None or owner in period_ids:
            kept.append(finding)
        elif owner not in known:
            day = id_date(owner)
            if day is None or period.contains(datetime.datetime(day.year, day.month, day.day, 12, tzinfo=UTC)):
                kept.append(finding)
    return kept


def _owner(finding: Finding, records: RecordSet, policy: Policy) -> str | None:
    """The operation a finding is about, when it is about one."""
    if record_kind(finding.path, policy) == "operation":
        return posixpath.basename(finding.path).removesuffix(".md")
    if finding.path.startswith("refs/tags/"):
        return id_from_tag(finding.path.removeprefix("refs/tags/"))
    for entry in records.entries:
        if entry.path == finding.path and entry.line <= finding.line < entry.end_line:
            return entry.operation_id
    return None


def gap_findings(operations: Sequence[OperationRow], commits: Sequence[CommitRow],
                 overdue: Sequence[OverdueApproval], policy: Policy) -> list[Finding]:
    """What the evidence of the period lacks (codes A001-A005)."""
    findings = [_untraced(c) for c in commits if not c.traced]
    for late in overdue:
        path, _, line = late.location.rpartition(":")
        message = (f"emergency operation {late.operation_id} executed {iso(late.execution_timestamp)} was approved "
                   f"{iso(late.approval_timestamp)}, {late.hours_late} h after its "
                   f"{policy.emergency_approval_hours} h window")
        findings.append(error("A002", message, path, int(line or 1),
                              hint="approve emergency operations within emergency_approval_hours of execution"))
    for op in operations:
        findings.extend(_tag_findings(op, policy))
    return findings


def _not_already_reported(gaps: list[Finding], found: list[Finding], records: RecordSet,
                          policy: Policy) -> list[Finding]:
    """One finding per gap: a record rule of the same area about the same operation has already said
    it (the ledger's own emergency-window rule, for one), whichever field it points at."""
    def key(f: Finding) -> tuple[str, str, object]:
        owner = _owner(f, records, policy)
        return (area_of(f.code).id, f.path, owner if owner is not None else f.line)

    seen = {key(f) for f in found}
    return [g for g in gaps if key(g) not in seen]


def _untraced(commit: CommitRow) -> Finding:
    more = f" and {len(commit.governed_paths) - 1} more" if len(commit.governed_paths) > 1 else ""
    note = f"; {commit.note}" if commit.note else ""
    return dataclasses.replace(error("A001", f"commit {commit.sha[:12]} of {iso(commit.committed_at)} by {commit.author} changes "
                 f"governed paths ({commit.governed_paths[0]}{more}) with no operation{note}",
                 commit.governed_paths[0], hint="declare the operation that covers it (opsgov new) and name the "
                 "commit in its ledger entry; use an Ops-Id: trailer on governed commits"), commit=commit.sha)


def _tag_findings(op: OperationRow, policy: Policy) -> list[Finding]:
    ref = f"refs/tags/{op.tag.name}"
    if op.tag.status == "missing":
        if op.outcome == OPEN or op.ledger_location is None:
            return []
        path, _, line = op.ledger_location.rpartition(":")
        return [warning("A003", f"{op.operation_id} has a ledger entry but no {op.tag.name} tag", path, int(line),
                        hint=f"close it: opsgov tag {op.operation_id}")]
    if op.tag.status == "lightweight":
        return [error("A004", f"{op.tag.name} is a lightweight tag, not an annotated one", ref,
                      hint=f"replace it: git tag -d {op.tag.name}, then opsgov tag {op.operation_id}")]
    if op.tag.status == "unsigned" and policy.require_signed_tags:
        return [error("A005", f"{op.tag.name} is not signed, and require_signed_tags is set", ref,
                      hint=f"re-create it signed: git tag -d {op.tag.name}, then opsgov tag {op.operation_id} --sign")]
    return []
