"""The audit report as plain data: what the renderers (md, json, html) format and nothing more."""
from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping

from opsgov_hooks.policy.config import Policy
from opsgov_hooks.findings import Finding
from opsgov_hooks.git.history import LogCommit
from opsgov_hooks.git.tags import TagRef
from opsgov_hooks.records.store import RecordSet
from opsgov_hooks.rules.context import ApprovalFacts
from opsgov_hooks.audit.period import Period

OPEN = "OPEN"  # the outcome shown for a declared operation with no ledger entry yet


@dataclasses.dataclass(frozen=True)
class Facts:
    """Everything the report is computed from, read from git in a few batched processes."""

    policy: Policy
    records: RecordSet                      # the records at HEAD
    tags: list[TagRef]
    tag_dates: dict[str, str]               # ref -> ISO creation time
    commits: list[LogCommit]                # newest first, as git log gives them
    ledger_touches: dict[str, set[str]]     # commit sha -> ids whose ledger entry it adds, changes or removes
    repository: str
    head: str | None
    approvals: Mapping[str, ApprovalFacts] = dataclasses.field(default_factory=dict)   # id -> approval at HEAD
    descendants: Mapping[str, frozenset[str]] = dataclasses.field(default_factory=dict)  # id -> commits after it
    adoption: str | None = None             # the commit that added the policy (.opsgov.yaml) first
    before_adoption: frozenset[str] = frozenset()   # its ancestors: history the gate never judged


@dataclasses.dataclass(frozen=True)
class TagStatus:
    name: str
    present: bool = False
    annotated: bool = False
    signed: bool = False
    created: datetime.datetime | None = None
    target: str | None = None

    @property
    def status(self) -> str:
        """missing, lightweight, signed or unsigned (a signature is reported, not verified)."""
        if not self.present:
            return "missing"
        if not self.annotated:
            return "lightweight"
        return "signed" if self.signed else "unsigned"


@dataclasses.dataclass(frozen=True)
class ApprovalStatus:
    """An operation's signed approval as the report verified it (offline: the repository alone)."""

    required: bool                          # require_signed_approvals asks for one (after the migration point)
    status: str                             # verified, unverified or missing
    approved_by: str | None                 # the signer git reported (else the name the record gives)
    fingerprint: str | None                 # the signing key's fingerprint
    reason: str | None                      # why it is not verified (None when it is)
    commit: str | None                      # the signed commit that added the approval record
    changes_after_approval: bool | None     # every traced change descends from it (None: nothing to compare)

    @property
    def verdict(self) -> str:
        """One phrase for a table: "verified", or the status and why."""
        return self.status if self.reason is None else f"{self.status}: {self.reason}"

    @property
    def after(self) -> str:
        """Whether the operation's changes came after the approval in the graph, for a table."""
        return {True: "yes", False: "NO", None: "-"}[self.changes_after_approval]


@dataclasses.dataclass(frozen=True)
class Evidence:
    """One verification command of an operation's Execution log, as ``opsgov run`` recorded it."""

    step: int
    command: str
    status: str          # "exit 0", "exit 1", "killed by SIGTERM", ...; "not recorded" by hand
    step_status: str     # the step's PASS or FAIL


@dataclasses.dataclass(frozen=True)
class OperationRow:
    operation_id: str
    name: str
    risk_class: str
    record_path: str | None
    ledger_location: str | None             # path:line of the ledger entry
    requested_by: str | None
    approved_by: str | None
    declared_at: datetime.datetime | None   # when its record was first committed
    approval_timestamp: datetime.datetime | None
    execution_timestamp: datetime.datetime | None
    outcome: str                            # SUCCESS, ROLLBACK, PARTIAL or OPEN
    emergency: bool
    tag: TagStatus
    rollback_ref: str | None
    rollback_timestamp: datetime.datetime | None
    rollback_evidence: str | None
    commits: tuple[str, ...]                # governed commits of the period traced to it
    approval: ApprovalStatus | None = None  # None: no approval record, and none required
    evidence: tuple[Evidence, ...] = ()     # each verification command of its log, with its exit status

    @property
    def when(self) -> datetime.datetime | None:
        """Where the timeline places it: executed, else declared."""
        return self.execution_timestamp or self.declared_at


BEFORE_ADOPTION = "before-adoption"


@dataclasses.dataclass(frozen=True)
class CommitRow:
    sha: str
    committed_at: datetime.datetime
    author: str
    subject: str
    governed_paths: tuple[str, ...]
    operation_ids: tuple[str, ...]
    method: str | None                      # trailer, record, scope, before-adoption; None: not traced
    note: str = ""

    @property
    def traced(self) -> bool:
        """Tied to an operation, or made before the adoption (which no operation could permit)."""
        return bool(self.operation_ids) or self.method == BEFORE_ADOPTION


@dataclasses.dataclass(frozen=True)
class OverdueApproval:
    operation_id: str
    execution_timestamp: datetime.datetime
    approval_timestamp: datetime.datetime
    deadline: datetime.datetime
    approved_by: str
    location: str

    @property
    def hours_late(self) -> float:
        return round((self.approval_timestamp - self.deadline).total_seconds() / 3600, 2)


@dataclasses.dataclass(frozen=True)
class Report:
    generated_at: datetime.datetime
    period: Period
    repository: str
    head: str | None
    policy_source: str
    governed_paths: tuple[str, ...]
    operations: tuple[OperationRow, ...]
    commits: tuple[CommitRow, ...]
    overdue: tuple[OverdueApproval, ...]
    findings: tuple[Finding, ...]
