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
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager

from opsgov_hooks.findings import Finding, error
from opsgov_hooks.git import signing
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.policy.config import Policy
from opsgov_hooks.records.approval import Approval, parse_approval
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
    if ctx.mode == "all":
        ids: set[str] = set(declared)
    else:
        ids = set(ctx.op_changes) | set(ctx.answerable or ())
    before = {d.operation_id for d in ctx.base_records.declarations} if ctx.mode != "all" else set(declared)
    return [declared[op] for op in sorted(ids)
            if op in declared and requires_signed_approval(ctx.policy, declared[op], op not in before)]


# -- preparer: read, find the commit, verify, walk the graph ------------------------------------
def prepare(ctx: CheckContext, git: Git) -> None:
    rev = ctx.head_sha or ctx.base_sha   # approvals are commits: the staged change builds on HEAD
    operations = judged_operations(ctx)
    if rev is None or not operations:
        return
    facts = read_approvals(git, rev, ctx.base_sha or ctx.head_sha, ctx.policy,
                           [d.operation_id for d in operations], _signers_changed(ctx, git))
    for op_id, fact in facts.items():
        if fact.commit is not None:
            fact.not_descending = tuple(tip for tip in ctx.op_changes.get(op_id, ())
                                        if not git.is_ancestor(fact.commit, tip))
    ctx.approval_facts = {**ctx.approval_facts, **facts}


def read_approvals(git: Git, rev: str, trusted: str | None, policy: Policy, operation_ids: Sequence[str],
                   signers_changed: bool = False) -> dict[str, ApprovalFacts]:
    """Each operation's approval record at ``rev``, the commit that wrote it, and that commit's signature
    checked against the allowed signers of ``trusted`` (the graph walk is the caller's).

    A handful of processes for any number of operations: one batch read of the records, one walk
    for their commits, one batch read of what those commits wrote, one ``git log`` for the signatures.
    """
    facts: dict[str, ApprovalFacts] = {}
    paths = {op_id: policy.approval_path(op_id) for op_id in operation_ids}
    blobs = dict(zip(operation_ids, git.read_objects(f"{rev}:{paths[op]}" for op in operation_ids)))
    present = {op: raw for op, (kind, raw) in blobs.items() if kind == "blob" and raw is not None}
    commits = signing.last_commits_touching(git, rev, [paths[op] for op in present], policy.approvals_dir)
    found = [op for op in present if paths[op] in commits]
    written = {op: data for op, (_kind, data) in zip(found, git.read_objects(f"{commits[paths[op]]}:{paths[op]}"
                                                                              for op in found))}
    for op_id in operation_ids:
        fact = facts[op_id] = ApprovalFacts(paths[op_id], signers_changed=signers_changed)
        raw = present.get(op_id)
        if raw is None:
            continue
        fact.approval, fact.findings = parse_approval(fact.path, raw)
        fact.commit = commits.get(fact.path)
    with allowed_signers_at(git, trusted, policy) as (signers, problem):
        checked = {} if problem else signing.verify_commits(
            git, [f.commit for op, f in facts.items() if f.commit and written.get(op) == present[op]], signers)
    for op_id, fact in facts.items():
        if fact.commit is None:
            continue
        if written.get(op_id) != present[op_id]:  # an evil merge: the signed commit did not write this version
            fact.signature = signing.Signature(False, None, None, f"commit {fact.commit[:12]} did not write "
                                               "this version of the record")
        else:
            fact.signature = checked.get(fact.commit, signing.Signature(False, None, None, problem or
                                                                        "git did not report the signature"))
    return facts


def allowed_signers_at(git: Git, trusted: str | None, policy: Policy) -> AbstractContextManager[tuple[str | None, str]]:
    """The policy's allowed-signers file as the trusted revision holds it (the signed tags' path too)."""
    return signing.allowed_signers_file(git, trusted, policy.allowed_signers_file)


def _signers_changed(ctx: CheckContext, git: Git) -> bool:
    """Does the judged change edit the allowed-signers file (it then takes effect only once it has landed)?"""
    path = ctx.policy.allowed_signers_file
    if not path or ctx.mode == "all":
        return False
    head = f"{ctx.head_sha}:{path}" if ctx.head_sha else f":{path}"
    base = f"{ctx.base_sha}:{path}" if ctx.base_sha else None
    before = git.read_objects([base])[0][1] if base else None
    return before != git.read_objects([head])[0][1]


# -- the rule ------------------------------------------------------------------------------------
def signed_approvals(ctx: CheckContext) -> Iterator[Finding]:
    entries = ctx.head_records.entries_by_id()
    declared = ctx.head_records.by_id()
    for op_id, fact in sorted(ctx.approval_facts.items()):
        declaration = declared.get(op_id)
        if declaration is not None:
            yield from approval_findings(ctx.policy, declaration, fact, entries.get(op_id),
                                         staged=ctx.head_sha is None)


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
        yield error("P002", f"invalid approval record: {fact.path} approves {approval.operation_id}", fact.path,
                    hint=approve)
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
