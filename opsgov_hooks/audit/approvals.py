"""Each operation's signed approval in the report: who signed, with which key, verified or why not,
and whether the period's changes of the operation came after it in the commit graph (pure)."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from opsgov_hooks.audit.model import ApprovalStatus, Facts, OperationRow
from opsgov_hooks.rules.association import signs_nothing
from opsgov_hooks.findings import Finding
from opsgov_hooks.git.history import LogCommit
from opsgov_hooks.rules.approvals import approval_findings, requires_signed_approval
from opsgov_hooks.rules.context import ApprovalFacts


def with_approvals(rows: Sequence[OperationRow], facts: Facts) -> tuple[list[OperationRow], list[Finding]]:
    """The rows with their approval status, and the P findings of the operations that require one."""
    declared = facts.records.by_id()
    entries = facts.records.entries_by_id()
    commits = {c.sha: c for c in facts.commits}
    result, findings = [], []
    for row in rows:
        declaration = declared.get(row.operation_id)
        fact = facts.approvals.get(row.operation_id)
        if declaration is None or fact is None:
            result.append(row)
            continue
        changes = _carried_out(row, fact, commits, facts)
        later = facts.descendants.get(row.operation_id, frozenset())
        fact = dataclasses.replace(fact, not_descending=tuple(sha for sha in changes if sha not in later))
        said = list(approval_findings(facts.policy, declaration, fact, entries.get(row.operation_id)))
        required = requires_signed_approval(facts.policy, declaration)
        if required:
            findings += said
        status = _status(required, fact, said)
        if not changes or fact.commit is None:
            status = dataclasses.replace(status, changes_after_approval=None)
        result.append(dataclasses.replace(row, approval=status))
    return result, findings


def _carried_out(row: OperationRow, fact: ApprovalFacts, commits: Mapping[str, LogCommit],
                 facts: Facts) -> list[str]:
    """The operation's traced commits that carry it out (declaration- and approval-only commits set what is
    approved; the approval commit itself is not one of them)."""
    found = []
    for sha in row.commits:
        commit = commits.get(sha)
        paths = [c.path for c in commit.changes] if commit is not None else []
        if sha != fact.commit and not signs_nothing(paths, facts.policy):
            found.append(sha)
    return found


def _status(required: bool, fact: ApprovalFacts, said: Sequence[Finding]) -> ApprovalStatus:
    signature = fact.signature
    blocking = [f for f in said if f.code != "P007"]
    reason: str | None
    if fact.commit is None and not fact.findings:
        status, reason = "missing", "no approval record is committed"
    else:
        status = "unverified" if blocking or signature is None or not signature.valid else "verified"
        reason = blocking[0].message if blocking else (signature.reason if signature is not None else None)
    signer = signature.signer if signature is not None and signature.signer else None
    approved_by = signer or (fact.approval.approved_by if fact.approval is not None else None)
    changes_after = None if fact.commit is None else not fact.not_descending
    return ApprovalStatus(required, status, approved_by, signature.fingerprint if signature is not None else None,
                          reason if status != "verified" else None, fact.commit, changes_after)

