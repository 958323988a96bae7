"""Updates of a recorded entry: ``opsgov ledger rollback`` and the emergency ``opsgov ledger approve``.

Both change only the fields P5 and the append-only rule allow, in place: the
original approval record stays exactly as it was (P5 "Rollback Impact"), and
every byte outside the entry's changed values is kept.
"""
from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TextIO

from opsgov_hooks.findings import UsageError, error, has_errors
from opsgov_hooks.ledger_io.atomic import locked
from opsgov_hooks.lifecycle.approve import committed_approval
from opsgov_hooks.lifecycle.record import check_plan
from opsgov_hooks.lifecycle.signoff_sync import finish_update
from opsgov_hooks.lifecycle.workspace import (Workspace, check_operation_id, open_workspace,
                                              timestamp_option)
from opsgov_hooks.records.ledger import LedgerEntry
from opsgov_hooks.rules.history import entry_changes
from opsgov_hooks.records.located import at_field
from opsgov_hooks.rules.signoff import is_self

ROLLBACK_OUTCOMES = ("ROLLBACK", "PARTIAL")


def rollback_entry(start: str, operation_id: str, at: str, evidence: str, outcome: str, output_format: str,
                   out: TextIO, now: datetime.datetime | None = None) -> int:
    if outcome not in ROLLBACK_OUTCOMES:
        raise UsageError(f"--outcome must be one of {', '.join(ROLLBACK_OUTCOMES)}")
    if not evidence.strip():
        raise UsageError("--evidence is required: the verification that the rollback worked")
    moment = now or datetime.datetime.now(datetime.timezone.utc)
    changes = {"outcome": outcome, "rollback_timestamp": timestamp_option("--at", at, moment),
               "rollback_evidence": evidence}
    return update_entry(start, operation_id, changes, output_format, out, verb="rolled back")


def approve_entry(start: str, operation_id: str, by: str | None, at: str | None, output_format: str, out: TextIO,
                  now: datetime.datetime | None = None) -> int:
    moment = now or datetime.datetime.now(datetime.timezone.utc)
    if by is None or at is None:
        by, at = _from_signed_approval(start, operation_id, by, at)
    changes = {"approved_by": by, "approval_timestamp": timestamp_option("--at", at, moment)}
    return update_entry(start, operation_id, changes, output_format, out, verb="approved", emergency_only=True)


def _from_signed_approval(start: str, operation_id: str, by: str | None, at: str | None) -> tuple[str, str]:
    """--by and --at from the operation's committed signed approval ('opsgov approve'), where not given."""
    ws = open_workspace(start)
    signed = committed_approval(ws.git, ws.policy, check_operation_id(operation_id))
    if signed is None:
        raise UsageError(f"--by and --at are required: {ws.policy.approval_path(operation_id)} (made by "
                         f"'opsgov approve {operation_id}') is not committed to take them from")
    return by or signed.approved_by, at or signed.approval_timestamp


def update_entry(start: str, operation_id: str, changes: Mapping[str, Any], output_format: str, out: TextIO,
                 *, verb: str, emergency_only: bool = False) -> int:
    ws = open_workspace(start)
    check_operation_id(operation_id)
    with locked(ws.backend.lock_path):
        current = _current_entry(ws, operation_id)
        if emergency_only:
            _check_emergency(current, changes)
        refused = [error(code, f"{operation_id}: {message}", *at_field(current, key))
                   for code, key, message in entry_changes(current.fields, {**current.fields, **changes})]
        plan = None if refused else ws.backend.plan_update(operation_id, changes)
        findings = refused if plan is None else check_plan(ws, plan)
        if plan is not None and not has_errors(findings):
            ws.backend.commit(plan)
    return finish_update(ws, operation_id, plan, findings, done=verb, refused="",
                         output_format=output_format, out=out)


def _current_entry(ws: Workspace, operation_id: str) -> LedgerEntry:
    records = ws.records()
    matches = [e for e in records.entries if e.operation_id == operation_id]
    if len(matches) != 1:
        problem = "has no ledger entry" if not matches else f"has {len(matches)} ledger entries"
        raise UsageError(f"{operation_id} {problem}; record it with 'opsgov ledger record' (or fix the ledger, "
                         "see 'opsgov validate')")
    return matches[0]


def _check_emergency(entry: LedgerEntry, changes: Mapping[str, Any]) -> None:
    if entry.get("emergency") is not True:
        raise UsageError(f"{entry.operation_id} is not an emergency operation: its approval was recorded before "
                         "execution and cannot change (the ledger is append-only)")
    if not is_self(entry.get("approved_by"), entry.get("requested_by")):
        raise UsageError(f"{entry.operation_id} is already approved by {entry.get('approved_by')}")
    if is_self(changes["approved_by"], entry.get("requested_by")):
        raise UsageError("an emergency operation must be approved by someone other than the requester")
