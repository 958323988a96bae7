"""``opsgov ledger record``: write an operation's P5 entry in the configured backend.

Defaults come from the declaration (operation_name, risk_class, blast_radius) and
from git's identity (requested_by = user.email). The entry is planned under the
ledger lock, checked (schema, sign-off, timestamps, agreement with the
declaration) and written only when nothing is an error.
"""
from __future__ import annotations

import dataclasses
import datetime
import os
from typing import Any, TextIO

from opsgov_hooks.check.runner import run_history_rules, run_record_rules
from opsgov_hooks.execution.signoff_block import fill_signoff
from opsgov_hooks.findings import Finding, UsageError, has_errors
from opsgov_hooks.ledger_io import Plan
from opsgov_hooks.ledger_io.atomic import locked
from opsgov_hooks.ledger_io.render import render_entry
from opsgov_hooks.lifecycle.approve import committed_approval
from opsgov_hooks.lifecycle.signoff_sync import sync_signoff
from opsgov_hooks.lifecycle.workspace import (Workspace, check_operation_id, emit, findings_of, open_workspace,
                                              timestamp_option, with_entry)
from opsgov_hooks.records.declaration import parse_operation_record
from opsgov_hooks.records.ledger import LedgerEntry
from opsgov_hooks.records.located import at_entry
from opsgov_hooks.records.store import RecordSet
from opsgov_hooks.rules.context import CheckContext


@dataclasses.dataclass
class EntryOptions:
    requested_by: str | None = None
    approved_by: str | None = None
    approval_timestamp: str | None = None
    execution_timestamp: str | None = None
    changes_summary: str | None = None
    rollback_ref: str | None = None
    outcome: str = "SUCCESS"
    notes: str | None = None
    emergency: bool = False
    rollback_timestamp: str | None = None
    rollback_evidence: str | None = None


def build_fields(ws: Workspace, operation_id: str, opts: EntryOptions, now: datetime.datetime) -> dict[str, Any]:
    records = ws.records()
    declaration = records.declaration(operation_id)
    if declaration is None:
        state = "is invalid (run 'opsgov validate')" if operation_id in records.invalid_ids else "does not exist"
        raise UsageError(f"the operation record {ws.policy.record_path(operation_id)} {state}: declare the "
                         "operation first ('opsgov new')")
    signed = committed_approval(ws.git, ws.policy, operation_id)   # 'opsgov approve' made one: the ledger agrees
    return {
        "operation_id": operation_id,
        "operation_name": declaration.name,
        "requested_by": opts.requested_by or _git_identity(ws),
        "approved_by": opts.approved_by or (signed.approved_by if signed else _default_approver(ws)),
        "approval_timestamp": timestamp_option("--approval-timestamp", opts.approval_timestamp
                                               or (signed.approval_timestamp if signed else None), now),
        "execution_timestamp": timestamp_option("--execution-timestamp", opts.execution_timestamp, now),
        "risk_class": declaration.risk_class,
        "blast_radius": declaration.blast_radius,
        "changes_summary": _required("--changes-summary", opts.changes_summary),
        "rollback_ref": _required("--rollback-ref", opts.rollback_ref),
        "outcome": opts.outcome,
        "emergency": True if opts.emergency else None,
        **_rollback_fields(operation_id, opts, now),
        "notes": opts.notes,
    }


def _rollback_fields(operation_id: str, opts: EntryOptions, now: datetime.datetime) -> dict[str, Any]:
    """An entry recorded as ROLLBACK carries when and how it was rolled back (P5); PARTIAL may."""
    given = opts.rollback_timestamp is not None or opts.rollback_evidence is not None
    if opts.outcome == "SUCCESS":
        if given:
            raise UsageError("--rollback-timestamp and --rollback-evidence go with --outcome ROLLBACK or PARTIAL")
        return {}
    if opts.outcome == "ROLLBACK" and (opts.rollback_timestamp is None or not (opts.rollback_evidence or "").strip()):
        raise UsageError("--outcome ROLLBACK needs --rollback-timestamp (ISO 8601 UTC, or 'now') and "
                         "--rollback-evidence (what shows the rollback worked); or record the entry as executed "
                         "and then the rollback: opsgov ledger rollback " + operation_id + " --at now --evidence "
                         "TEXT")
    return {"rollback_timestamp": None if opts.rollback_timestamp is None else
            timestamp_option("--rollback-timestamp", opts.rollback_timestamp, now),
            "rollback_evidence": opts.rollback_evidence}


def _required(flag: str, value: str | None) -> str:
    if value is None or not value.strip():
        raise UsageError(f"{flag} is required")
    return value


def _git_identity(ws: Workspace) -> str:
    email = ws.git.config_get("user.email")
    if not email:
        raise UsageError("requested_by defaults to git's user.email, which is not set: pass --requested-by or "
                         "run 'git config user.email you@example.com'")
    return email


def _default_approver(ws: Workspace) -> str:
    if ws.policy.solo_mode:
        return "SELF"
    raise UsageError("--approved-by is required (a person's name or e-mail; SELF only where the risk class "
                     "allows it, or with solo_mode: true)")


def check_plan(ws: Workspace, plan: Plan, *, whole_operation: bool = False) -> list[Finding]:
    """The plan's own findings plus every record rule's findings about the planned entry.

    With ``whole_operation`` (recording or amending an entry), also what the gate will find in the
    operation's record once section 6 holds the entry (report sections, verified steps, evidence
    for its risk class) and about its rollback reference: every problem at once, before any write.
    """
    findings = list(plan.findings)
    if plan.entry is None:
        if not has_errors(findings):
            raise UsageError(f"{plan.path}: the planned entry does not read back; nothing was written")
        return findings
    records = with_entry(ws.records(), plan.entry)
    if not whole_operation:
        return findings + findings_of(plan.entry, run_record_rules(records, ws.policy))
    records = with_signoff(ws, records, plan.entry)
    record = ws.policy.record_path(plan.entry.operation_id)
    found = run_record_rules(records, ws.policy, focus={plan.entry.operation_id})
    findings += [f for f in found if f.path == record] + findings_of(plan.entry, found)
    findings += findings_of(plan.entry, rollback_ref_findings(ws, records, plan.entry.operation_id))
    return list(dict.fromkeys(findings))


def with_signoff(ws: Workspace, records: RecordSet, entry: LedgerEntry) -> RecordSet:
    """``records`` with the operation's record as it will be once section 6 holds ``entry``."""
    rel = ws.policy.record_path(entry.operation_id)
    try:
        with open(os.path.join(ws.root, rel), encoding="utf-8", newline="") as f:
            text = fill_signoff(f.read(), render_entry(entry.fields), rel)
    except (OSError, UnicodeDecodeError, UsageError):
        return records  # the record rules then say what is wrong with it
    declaration, _findings = parse_operation_record(rel, text.encode("utf-8"), ws.policy)
    if declaration is None:
        return records
    others = [d for d in records.declarations if d.operation_id != entry.operation_id]
    return dataclasses.replace(records, declarations=others + [declaration])


def rollback_ref_findings(ws: Workspace, records: RecordSet, operation_id: str) -> list[Finding]:
    """What the gate's history rules say about the entry's rollback reference, on the current HEAD."""
    ctx = CheckContext(ws.policy, records, RecordSet(), "staged",
                       tags=ws.git.ops_tags(), head_sha=None, base_sha=ws.git.head(), git=ws.git,
                       answerable=frozenset({operation_id}))
    return [f for f in run_history_rules(ctx) if f.code in ROLLBACK_REF_CODES]


ROLLBACK_REF_CODES = frozenset({"H006", "H007", "H008", "H009", "H010", "H011"})


def record_entry(start: str, operation_id: str, opts: EntryOptions, output_format: str, out: TextIO,
                 now: datetime.datetime | None = None) -> int:
    ws = open_workspace(start)
    check_operation_id(operation_id)
    fields = build_fields(ws, operation_id, opts, now or datetime.datetime.now(datetime.timezone.utc))
    with locked(ws.backend.lock_path):
        plan = ws.backend.plan_append(fields)
        findings = check_plan(ws, plan, whole_operation=True)
        if not has_errors(findings):
            ws.backend.commit(plan)
    emit(findings, output_format, out)
    if has_errors(findings):
        out.write(f"opsgov: {operation_id} was not recorded: fix the above and run again\n"
                  if output_format == "text" else "")
        return 1
    assert plan.entry is not None
    if output_format == "text":
        out.write(f"recorded {operation_id} in {plan.path}:{at_entry(plan.entry)[1]}\n")
    sync_signoff(ws, plan.entry, out, output_format)
    return 0
