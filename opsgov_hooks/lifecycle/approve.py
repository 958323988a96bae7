"""``opsgov approve OPS-ID``: the approver, in their own clone, signs the operation's declared scope.

The declaration is read from HEAD (what is committed is what gets approved), shown, and, once
confirmed, ``ops/approvals/OPS-ID.yaml`` is written and committed alone with ``git commit -S``:
the approver's own key through git's signing (SSH, GPG or X.509). The commit is the approval;
the operation's governed changes must descend from it (docs/design.md, "Signed approvals").
"""
from __future__ import annotations

import dataclasses
import datetime
import sys
from collections.abc import Callable
from typing import TextIO

from opsgov_hooks.atomicfile import write_atomic
from opsgov_hooks.findings import UsageError
from opsgov_hooks.git import signing
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.git.sources import CommitSource
from opsgov_hooks.lifecycle.workspace import check_operation_id, emit, utc_stamp
from opsgov_hooks.policy.config import Policy, load_policy
from opsgov_hooks.records.approval import Approval, parse_approval, render_approval
from opsgov_hooks.records.scope import scope_digest
from opsgov_hooks.records.declaration import Declaration, parse_operation_record
from opsgov_hooks.rules.signoff import normalise_person


@dataclasses.dataclass(frozen=True)
class ApproveRequest:
    operation_id: str
    yes: bool = False          # approve without asking (scripts, tests)


def approve_operation(start: str, request: ApproveRequest, out: TextIO,
                      confirm: Callable[[str], bool] | None = None,
                      now: datetime.datetime | None = None) -> int:
    op_id = check_operation_id(request.operation_id)
    git = Git.discover(start)
    head = git.head()
    if head is None:
        raise UsageError("this repository has no commit yet: fetch the branch that declares the operation first")
    policy = load_policy(CommitSource(git, head))
    declaration = _declaration(git, policy, head, op_id, out)
    if declaration is None:
        return 1
    approver = git.config_get("user.email")
    if not approver:
        raise UsageError("git has no user.email here: set it to the identity in the allowed signers file "
                         "(git config user.email you@example.com), then run again")
    fmt, key = signing.signing_format(git)
    if fmt in ("ssh", "x509") and not key:
        raise UsageError(f"gpg.format is {fmt} but user.signingkey is not set: "
                         "git config user.signingkey ~/.ssh/id_ed25519.pub")
    digest = scope_digest(declaration)
    out.write(_describe(declaration, head, digest, approver))
    existing = _existing(git, policy, head, op_id)
    if existing is not None and existing.scope_digest == digest and \
            normalise_person(existing.approved_by) == normalise_person(approver):
        out.write(f"{op_id} is already approved by {existing.approved_by} for this scope "
                  f"({policy.approval_path(op_id)})\n")
        return 0
    if not request.yes and not (confirm or _ask)(f"Approve {op_id} as {approver}?"):
        out.write(f"opsgov: {op_id} was not approved\n")
        return 1
    moment = now or datetime.datetime.now(datetime.timezone.utc)
    approval = Approval(op_id, digest, declaration.risk_class, approver, utc_stamp(moment))
    path = policy.approval_path(op_id)
    write_atomic(f"{git.root}/{path}", render_approval(approval).encode("utf-8"))
    message = (f"Approve {op_id}: {declaration.name}\n\nScope digest: {digest}\n"
               f"Declaration: {policy.record_path(op_id)} at {head}\n\nOps-Id: {op_id}\n")
    commit = signing.commit_signed(git, path, message)
    return _report(git, policy, commit, approver, out)


def committed_approval(git: Git, policy: Policy, op_id: str) -> Approval | None:
    """The operation's signed approval record as HEAD holds it (None: there is none, or it is invalid).

    ``opsgov ledger record`` and ``opsgov ledger approve`` take approved_by and approval_timestamp from
    it when not told otherwise, so the ledger says what the signature says (P008).
    """
    head = git.head()
    return _existing(git, policy, head, op_id) if head is not None else None


def _declaration(git: Git, policy: Policy, head: str, op_id: str, out: TextIO) -> Declaration | None:
    path = policy.record_path(op_id)
    kind, raw = git.read_objects([f"{head}:{path}"])[0]
    if kind != "blob" or raw is None:
        raise UsageError(f"{op_id} is not declared at HEAD ({path} is not committed): fetch and check out the "
                         "requester's branch that declares it, then run again")
    declaration, findings = parse_operation_record(path, raw, policy)
    if declaration is None or findings:
        emit(findings, "text", out)
        out.write(f"opsgov: {op_id}'s declaration is invalid; it cannot be approved\n")
        return None
    return declaration


def _existing(git: Git, policy: Policy, head: str, op_id: str) -> Approval | None:
    kind, raw = git.read_objects([f"{head}:{policy.approval_path(op_id)}"])[0]
    if kind != "blob" or raw is None:
        return None
    return parse_approval(policy.approval_path(op_id), raw)[0]


def _describe(d: Declaration, head: str, digest: str, approver: str) -> str:
    rows = [("operation", f"{d.operation_id}: {d.name}"), ("objective", d.objective), ("risk class", d.risk_class),
            ("blast radius", d.blast_radius), ("rollback strategy", d.rollback_strategy),
            ("allowed paths", ", ".join(d.allowed_paths) or "(none)"),
            ("allowed services", ", ".join(d.allowed_services) or "(none)"),
            ("declared in", f"{d.path} at {head[:12]}"), ("scope digest", digest), ("approver", approver)]
    return "".join(f"{name + ':':<19}{value}\n" for name, value in rows)


def _ask(question: str) -> bool:
    if not sys.stdin.isatty():
        raise UsageError("opsgov approve asks for confirmation on a terminal; read the scope above and run "
                         "again with --yes to approve it without asking")
    answer = input(f"{question} [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def _report(git: Git, policy: Policy, commit: str, approver: str, out: TextIO) -> int:
    """Say what was signed, and whether the trusted allowed-signers file already vouches for the key."""
    with signing.allowed_signers_file(git, commit, policy.allowed_signers_file) as (signers, problem):
        signature = signing.verify_commit(git, commit, signers) if not problem else None
    if signature is not None and signature.valid:
        out.write(f"approved at {commit[:12]}: signed by {signature.signer} ({signature.fingerprint})\n")
        return 0
    why = problem or (signature.reason if signature is not None else "")
    out.write(f"approval committed at {commit[:12]}, but its signature does not verify yet: {why}\n"
              f"opsgov: add your public key to {policy.allowed_signers_file or 'allowed_signers_file'} (as "
              f"'{approver} <key>') through its own governed change, then run 'opsgov approve' again\n")
    return 1
