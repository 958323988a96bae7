"""The plain data a history-aware rule sees (built by the gate, never by a rule)."""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from opsgov_hooks.findings import Finding
from opsgov_hooks.git.signing import Signature
from opsgov_hooks.policy.config import Policy
from opsgov_hooks.records.approval import Approval
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.git.tags import TagRef
from opsgov_hooks.git.refs import RefFacts
from opsgov_hooks.records.ledger import LedgerEntry
from opsgov_hooks.records.store import RecordSet


@dataclasses.dataclass
class TagFacts:
    """What git holds for one ``ops-*`` tag beyond its ref (read in one batch by a preparer)."""

    sealed_file: str | None = None           # the ledger file read at the tag's commit (file backends)
    sealed_entry: LedgerEntry | None = None  # the operation's entry in that file at that commit
    signature_checked: bool = False          # verified because require_signed_tags is set
    signature_valid: bool = False
    signer: str | None = None                # principal (SSH) or user id (GPG) git reported
    signature_output: str = ""


@dataclasses.dataclass
class ApprovalFacts:
    """What git holds for one operation's signed approval (read by the approvals preparer)."""

    path: str                                # ops/approvals/OPS-ID.yaml
    approval: Approval | None = None         # the record at the judged revision (None: missing or invalid)
    findings: list[Finding] = dataclasses.field(default_factory=list)  # why the record is invalid
    commit: str | None = None                # the commit that added the record as it is
    signature: Signature | None = None       # that commit's signature, against the trusted allowed signers
    signers_changed: bool = False            # the change being judged edits the allowed-signers file
    not_descending: tuple[str, ...] = ()     # governed changes (commits; HEAD for staged) not after it
    required: bool = True                    # False: a record the risk class does not require, checked as a record


@dataclasses.dataclass
class CheckContext:
    policy: Policy                      # from a trusted revision
    head_records: RecordSet             # records in the tree being judged (index, or range head)
    base_records: RecordSet             # records at the base (HEAD for staged, BASE for a range)
    mode: str                           # "staged" | "range" | "all" | "pre-receive"
    tags: list[TagRef] = dataclasses.field(default_factory=list)
    refs: Mapping[str, RefFacts] = dataclasses.field(default_factory=dict)  # rollback_ref -> facts
    existing_paths: frozenset[str] = frozenset()   # files in the judged tree (for procedure: paths)
    shallow: bool = False
    head_sha: str | None = None         # the judged commit (None: staged change on top of base_sha)
    base_sha: str | None = None         # HEAD for staged, BASE for a range, None for a new repository
    # The repository the runner reads the rules' facts from (check/preparers.py) before they
    # run; no rule reads it. None: no git (the history rules then say what they could not look up).
    git: Git | None = None
    tag_facts: Mapping[str, TagFacts] = dataclasses.field(default_factory=dict)  # tag name -> facts
    # The operations whose ledger entries the change adds, edits or removes; None: every operation
    # (--all). The history rules answer only for these: an entry the change leaves as it was, on
    # a history that only grows, was judged when it was written (and is --all's business since).
    answerable: frozenset[str] | None = None
    # Operation id -> the commits of its governed changes that must descend from its signed approval
    # (the staged change: HEAD, which it builds on). Declaration- and approval-only changes are not here.
    op_changes: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    # Does the change alter which paths exist (removes or renames one, or adds a top-level entry)?
    # Then every entry's rollback procedure is judged again; otherwise only the answerable ones.
    paths_changed: bool = True
    # The operations whose approval record (ops/approvals/OPS-ID.yaml) the change adds or edits.
    approvals_touched: frozenset[str] = frozenset()
    approval_facts: Mapping[str, ApprovalFacts] = dataclasses.field(default_factory=dict)

    def answers_for(self, operation_id: str) -> bool:
        return self.answerable is None or operation_id in self.answerable


def judged_tags(ctx: CheckContext) -> list[TagRef]:
    """The tags a run answers for.

    A change cannot change a tag: it answers only for the tags of operations whose
    ledger entry it changes (the ledger may move on from a seal only by a rollback).
    ``--all`` judges every tag.
    """
    if ctx.answerable is None:
        return list(ctx.tags)
    names = {op_id.lower() for op_id in ctx.answerable}
    return [t for t in ctx.tags if t.name in names]
