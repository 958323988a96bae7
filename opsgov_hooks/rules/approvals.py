"""Signed approvals (``require_signed_approvals``): the approver signed this scope before the change.

For every operation whose risk class requires it (and that is not older than
``signed_approvals_from``), the judged revision must hold ``ops/approvals/OPS-ID.yaml``
(P001), a valid record (P002), added by a commit whose signature git accepts against the
allowed-signers file of the *trusted* revision (P003; P009 when the change itself edits that
file: a change cannot vouch for its own key). The signer is the approver the record names
(P004) and not the requester unless ``solo_mode`` (P005); the record's digest is the digest of
the declaration as judged (P006); every governed change of the operation descends from the
approval commit (P007; an emergency entry may be approved later, as the ledger's own window
rule says); and the ledger's ``approved_by`` and ``approval_timestamp`` are the approval's (P008).

The records, commits, signatures and ancestry are read before the rule runs, by
:mod:`opsgov_hooks.check.approval_facts`, into ``ctx.approval_facts``.
"""
from __future__ import annotations

from collections.abc import Iterator

from opsgov_hooks.findings import Finding, error
from opsgov_hooks.policy.config import Policy
from opsgov_hooks.records.approval import Approval
from opsgov_hooks.records.scope import scope_digest
from opsgov_hooks.records.declaration import Declaration
from opsgov_hooks.records.ids import parse_utc
from opsgov_hooks.records.ledger import LedgerEntry
from opsgov_hooks.rules.context import ApprovalFacts, CheckContext
from opsgov_hooks.records.located import at_field
from opsgov_hooks.rules.signoff import effective_approver, is_self, normalise_person


# -- which operations ------------------------------------------------------------------------
def requires_signed_approval(policy: Policy, declaration: Declaration, new_here: bool = False) -> bool:
    """Does this operation need a signed approval under ``policy``?

    Migration: an operation whose id sorts before ``signed_approvals_from`` keeps its text-only
    approval, unless the change being judged declares it (``new_here``): a new declaration is
    judged by the policy in force, whatever date its id claims.
    """
    if not policy.requires_signed_approval(declaration.risk_class):
        return False
    start = policy.signed_approvals_from
    return new_here or start is None or declaration.operation_id >= start


def judged_operations(ctx: CheckContext) -> list[Declaration]:
    """The operations whose signed approvals this run answers for."""
    declared = ctx.head_records.by_id()
    before = {d.operation_id for d in ctx.base_records.declarations} if ctx.mode != "all" else set(declared)
    return [declared[op] for op in sorted(_run_ids(ctx, declared))
            if op in declared and requires_signed_approval(ctx.policy, declared[op], op not in before)]


def _run_ids(ctx: CheckContext, declared: dict[str, Declaration]) -> set[str]:
    """The operations a run answers for: every declared one under ``--all``, else those it changes."""
    return set(declared) if ctx.mode == "all" else set(ctx.op_changes) | set(ctx.answerable or ())


def recorded_operations(ctx: CheckContext) -> list[str]:
    """The operations of this run that need no signed approval but may hold an approval record
    anyway (``opsgov approve`` used by choice): their records are checked as records (P002).
    Under ``--all``, the caller narrows them to the records present."""
    declared = ctx.head_records.by_id()
    required = {d.operation_id for d in judged_operations(ctx)}
    ids = _run_ids(ctx, declared) | set(ctx.approvals_touched)
    return sorted(op for op in ids if op in declared and op not in required)


# -- the rule ------------------------------------------------------------------------------------
def signed_approvals(ctx: CheckContext) -> Iterator[Finding]:
    entries = ctx.head_records.entries_by_id()
    declared = ctx.head_records.by_id()
    for op_id, fact in sorted(ctx.approval_facts.items()):
        declaration = declared.get(op_id)
        if declaration is None:
            continue
        if fact.required:
            yield from approval_findings(ctx.policy, declaration, fact, entries.get(op_id),
                                         staged=ctx.head_sha is None)
        else:
            yield from recorded_approval_findings(op_id, fact)


def recorded_approval_findings(op_id: str, fact: ApprovalFacts) -> Iterator[Finding]:
    """An approval record its risk class does not require is still a record: it must be valid and
    name its own operation (P002); its signature is not asked for."""
    yield from fact.findings
    if fact.approval is not None and fact.approval.operation_id != op_id:
        yield _approves_another(fact.path, fact.approval,
                                f"write the record for {op_id} ('opsgov approve {op_id}'), or remove it")


def _approves_another(path: str, approval: Approval, hint: str) -> Finding:
    return error("P002", f"invalid approval record: {path} approves {approval.operation_id}", path, hint=hint)


def approval_findings(policy: Policy, declaration: Declaration, fact: ApprovalFacts, entry: LedgerEntry | None,
                      *, staged: bool = False) -> Iterator[Finding]:
    """Every P finding about one operation's signed approval (the gate's and the report's verdict)."""
    op_id = declaration.operation_id
    emergency = entry is not None and entry.get("emergency") is True
    if emergency and entry is not None and is_self(entry.get("approved_by"), entry.get("requested_by")):
        return  # executed first, approval still pending: the ledger's window rule (L107/L108) speaks
    approve = f"the approver runs 'opsgov approve {op_id}' in their clone and pushes the commit it makes"
    if fact.commit is None and not fact.findings:
        yield error("P001", f"{op_id}: {declaration.risk_class} requires a signed approval, and "
                    f"{fact.path} is not committed", fact.path, hint=approve)
        return
    yield from fact.findings
    approval, signature = fact.approval, fact.signature
    if approval is None or signature is None:
        return
    if approval.operation_id != op_id:
        yield _approves_another(fact.path, approval, approve)
        return
    where = f"approval commit {str(fact.commit)[:12]}"
    if not signature.valid:
        if fact.signers_changed:
            yield error("P009", f"{op_id}: the {where} is checked against {policy.allowed_signers_file} as the "
                        f"trusted revision has it, and this change edits that file ({signature.reason})", fact.path,
                        hint=f"land the change to {policy.allowed_signers_file} on its own first (a governed "
                             "change, reviewed), then push the approval")
        else:
            yield error("P003", f"{op_id}: the {where} has no valid signature: {signature.reason}", fact.path,
                        hint=f"{approve}, signing with a key listed in allowed_signers_file")
        return
    signer = normalise_person(signature.signer)
    if signer != normalise_person(approval.approved_by):
        yield error("P004", f"{op_id}: the approval names {approval.approved_by!r} but the {where} is signed by "
                    f"{signature.signer!r}", fact.path, hint=f"{approve} (with their own key)")
    requester = normalise_person(entry.get("requested_by")) if entry is not None else None
    if requester and signer == requester and not policy.solo_mode:
        yield error("P005", f"{op_id}: the approval is signed by the requester {signature.signer!r}", fact.path,
                    hint="someone other than the requester approves (or set solo_mode: true for a one-person team)")
    digest = scope_digest(declaration)
    if approval.scope_digest != digest:
        yield error("P006", f"{op_id}: the approval covers scope {approval.scope_digest[:19]}..., but "
                    f"{declaration.path} now declares {digest[:19]}... (the scope changed after approval)",
                    declaration.path, hint=f"restore the approved scope, or ask the approver to approve the new one "
                                           f"('opsgov approve {op_id}')")
    if not emergency:
        for tip in fact.not_descending:
            change = "the staged change (on HEAD)" if staged else f"commit {tip[:12]}"
            yield error("P007", f"{op_id}: {change} does not descend from the {where}", fact.path,
                        hint="build the operation's changes on top of the approval commit (git merge or rebase "
                             "onto it; never rebase the approval commit itself)")
    if entry is not None:
        yield from _ledger_agrees(op_id, approval, signer, entry)


def _ledger_agrees(op_id: str, approval: Approval, signer: str, entry: LedgerEntry) -> Iterator[Finding]:
    approver = effective_approver(entry)
    if approver != signer:
        yield error("P008", f"{op_id}: the ledger says approved_by {entry.get('approved_by')!r}, but the signed "
                    f"approval is {signer!r}'s", *at_field(entry, "approved_by"),
                    hint=f"record the approval as signed: approved_by {approval.approved_by}")
    recorded = parse_utc(str(entry.get("approval_timestamp")))
    if recorded != parse_utc(approval.approval_timestamp):
        yield error("P008", f"{op_id}: the ledger says approval_timestamp {entry.get('approval_timestamp')}, but "
                    f"the signed approval was made at {approval.approval_timestamp}",
                    *at_field(entry, "approval_timestamp"),
                    hint=f"record the approval as signed: approval_timestamp {approval.approval_timestamp}")
