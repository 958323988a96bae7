"""What git holds for the signed approvals a run judges, read before the approval rule runs.

For each operation that needs one: the approval record at the judged revision, the commit
that wrote it as it is, that commit's signature checked against the allowed-signers file of
the trusted revision, and which of the operation's governed changes do not descend from it.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

from opsgov_hooks.git import signing
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.git.refs import Kept
from opsgov_hooks.policy.config import Policy
from opsgov_hooks.records.approval import parse_approval
from opsgov_hooks.rules.approvals import judged_operations, recorded_operations
from opsgov_hooks.rules.context import ApprovalFacts, CheckContext


def prepare_approvals(ctx: CheckContext, git: Git, stores: Callable[[str], Kept | None]) -> None:
    rev = ctx.head_sha or ctx.base_sha   # approvals are commits: the staged change builds on HEAD
    operations = judged_operations(ctx)
    recorded = read_recorded(git, ctx.head_sha, ctx.mode, ctx.policy, recorded_operations(ctx))
    ctx.approval_facts = {**ctx.approval_facts, **recorded}
    if rev is None or not operations:
        return
    facts = read_approvals(git, rev, ctx.base_sha or ctx.head_sha, ctx.policy,
                           [d.operation_id for d in operations], _signers_changed(ctx, git))
    for op_id, fact in facts.items():
        if fact.commit is not None:
            fact.not_descending = tuple(tip for tip in ctx.op_changes.get(op_id, ())
                                        if not git.is_ancestor(fact.commit, tip))
    ctx.approval_facts = {**ctx.approval_facts, **facts}


def read_recorded(git: Git, head: str | None, mode: str, policy: Policy,
                  operation_ids: Sequence[str]) -> dict[str, ApprovalFacts]:
    """The approval records of operations that need none, parsed as records: the judged tree's (the
    index for a staged change). Under ``--all`` only those present are read (one ``ls-tree``)."""
    if head is not None and mode == "all":
        present = git.ls_tree(head, [policy.approvals_dir])
        operation_ids = [op for op in operation_ids if policy.approval_path(op) in present]
    if not operation_ids:
        return {}
    paths = [policy.approval_path(op) for op in operation_ids]
    names = [f"{head}:{path}" if head is not None else f":{path}" for path in paths]
    facts: dict[str, ApprovalFacts] = {}
    for op_id, path, (kind, raw) in zip(operation_ids, paths, git.read_objects(names)):
        if kind == "blob" and raw is not None:
            fact = facts[op_id] = ApprovalFacts(path, required=False)
            fact.approval, fact.findings = parse_approval(path, raw)
    return facts


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
    with signing.allowed_signers_file(git, trusted, policy.allowed_signers_file) as (signers, problem):
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


def _signers_changed(ctx: CheckContext, git: Git) -> bool:
    """Does the judged change edit the allowed-signers file (it then takes effect only once it has landed)?"""
    path = ctx.policy.allowed_signers_file
    if not path or ctx.mode == "all":
        return False
    head = f"{ctx.head_sha}:{path}" if ctx.head_sha else f":{path}"
    base = f"{ctx.base_sha}:{path}" if ctx.base_sha else None
    before = git.read_objects([base])[0][1] if base else None
    return before != git.read_objects([head])[0][1]

