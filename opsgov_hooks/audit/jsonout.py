"""The report as JSON, in the shape ``schemas/report.schema.json`` documents."""
from __future__ import annotations

import json
from typing import Any

from opsgov_hooks.findings import has_errors
from opsgov_hooks.audit.model import ApprovalStatus, CommitRow, OperationRow, OverdueApproval, Report
from opsgov_hooks.audit.period import iso
from opsgov_hooks.audit.requirements import area_of, group_findings, requirement_ids
from opsgov_hooks.audit.summary import summary

REPORT_VERSION = 1


def as_data(report: Report) -> dict[str, Any]:
    return {
        "report_version": REPORT_VERSION,
        "generated_at": iso(report.generated_at),
        "ok": not has_errors(report.findings),
        "repository": {"name": report.repository, "head": report.head, "policy_source": report.policy_source,
                       "governed_paths": list(report.governed_paths)},
        "period": {"since": iso(report.period.since), "until": iso(report.period.until)},
        "summary": summary(report),
        "operations": [_operation(o) for o in report.operations],
        "commits": [_commit(c) for c in report.commits],
        "overdue_emergency_approvals": [_overdue(o) for o in report.overdue],
        "requirements": _requirements(report),
        "findings": [{**f.as_dict(), "area": area_of(f.code).id, "requirements": requirement_ids(f.code)}
                     for f in report.findings],
    }


def _operation(o: OperationRow) -> dict[str, Any]:
    return {
        "operation_id": o.operation_id, "operation_name": o.name, "risk_class": o.risk_class,
        "record_path": o.record_path, "ledger_entry": o.ledger_location,
        "requested_by": o.requested_by, "approved_by": o.approved_by,
        "declared_at": iso(o.declared_at), "approval_timestamp": iso(o.approval_timestamp),
        "execution_timestamp": iso(o.execution_timestamp), "outcome": o.outcome, "emergency": o.emergency,
        "tag": {"name": o.tag.name, "status": o.tag.status, "created": iso(o.tag.created), "target": o.tag.target},
        "rollback": {"ref": o.rollback_ref, "timestamp": iso(o.rollback_timestamp), "evidence": o.rollback_evidence},
        "commits": list(o.commits),
        "signed_approval": _approval(o.approval),
        "evidence": [{"step": e.step, "command": e.command, "status": e.status, "step_status": e.step_status}
                     for e in o.evidence],
    }


def _approval(a: ApprovalStatus | None) -> dict[str, Any] | None:
    if a is None:
        return None
    return {"required": a.required, "status": a.status, "approved_by": a.approved_by,
            "key_fingerprint": a.fingerprint, "verified": a.status == "verified", "reason": a.reason,
            "commit": a.commit, "changes_after_approval": a.changes_after_approval}


def _commit(c: CommitRow) -> dict[str, Any]:
    return {"sha": c.sha, "committed_at": iso(c.committed_at), "author": c.author, "subject": c.subject,
            "governed_paths": list(c.governed_paths), "traced": c.traced, "operation_ids": list(c.operation_ids),
            "method": c.method, "note": c.note}


def _overdue(o: OverdueApproval) -> dict[str, Any]:
    return {"operation_id": o.operation_id, "execution_timestamp": iso(o.execution_timestamp),
            "approval_timestamp": iso(o.approval_timestamp), "deadline": iso(o.deadline),
            "hours_late": o.hours_late, "approved_by": o.approved_by, "ledger_entry": o.location}


def _requirements(report: Report) -> list[dict[str, Any]]:
    groups = group_findings([f.code for f in report.findings])
    return [{"id": g.requirement.id, "framework": g.requirement.framework, "control": g.requirement.control,
             "title": g.requirement.title, "text": g.requirement.text, "finding_count": g.count,
             "areas": [{"area": a.area.id, "title": a.area.title, "aspect": a.aspect, "findings": list(a.findings)}
                       for a in g.areas]}
            for g in groups]


def render(report: Report) -> str:
    return json.dumps(as_data(report), indent=2, ensure_ascii=False) + "\n"
