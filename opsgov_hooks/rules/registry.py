"""Which rules run where. One list per kind of rule; each area adds its own lines.

* RECORD_RULES need only the records (``opsgov validate`` and ``opsgov check``).
* PREPARERS fill a :class:`CheckContext` with facts from git in one batch
  (e.g. every rollback reference resolved by one process) before any rule runs.
* HISTORY_RULES are pure functions over a prepared :class:`CheckContext` (``opsgov check``).
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable

from opsgov_hooks.speed.store import Store
from opsgov_hooks.policy.config import Policy
from opsgov_hooks.rules.context import CheckContext
from opsgov_hooks.findings import Finding
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.records.store import RecordSet
from opsgov_hooks.rules import execution, records
from opsgov_hooks.rules import report_sections as report
from opsgov_hooks.rules import history, rollback_refs, signoff, tags, timestamps  # lifecycle
from opsgov_hooks.rules import approvals  # signed approvals

RecordRule = Callable[[RecordSet, Policy], Iterable[Finding]]
Preparer = Callable[[CheckContext, Git], None]
HistoryRule = Callable[[CheckContext], Iterable[Finding]]

# Rules over the whole set of records (duplicates can only be seen there).
SET_RULES: list[RecordRule] = [
    records.duplicate_declarations,
    records.duplicate_entries,
    execution.evidence_patterns_valid,   # a policy problem, reported once
]

# Rules that look at one operation at a time (its declaration and its ledger entry): a
# change can be judged by running them on the operations it touches only.
RECORD_RULES: list[RecordRule] = [
    # foundation: the entry agrees with its declaration
    records.ledger_matches_declaration,
    # lifecycle: sign-off and timestamps
    signoff.signoff,
    timestamps.timestamps,

    # execution: execution log and report
    execution.log_present,
    execution.log_structure,
    execution.never_fix_forward,
    execution.log_scope,
    execution.verification_gates,
    report.report_sections,
    report.signoff_agrees,

]

# Per-operation rules whose findings depend on the clock (a timestamp in the future, an
# emergency approval overdue): run every time, never remembered.
TIME_DEPENDENT: list[RecordRule] = [
    timestamps.timestamps,
]

PREPARERS: list[Preparer] = [
    # lifecycle: resolve rollback references in one batch
    rollback_refs.prepare,
    tags.prepare,
    approvals.prepare,   # signed approvals: read, verify and walk the graph for the judged operations

]

HISTORY_RULES: list[HistoryRule] = [
    # lifecycle: append-only ledger, rollback references, tag consistency
    history.append_only,
    rollback_refs.rollback_refs,
    tags.tag_consistency,
    approvals.signed_approvals,

]


# Set by 'opsgov run' for the commands and verifications it runs: the record whose step is in
# progress right now. Its IN PROGRESS step is the caller's own, not a dead recorder's (X007).
RECORDING_ENV = "OPSGOV_RECORDING"


def run_record_rules(records_: RecordSet, policy: Policy, focus: set[str] | None = None,
                     memo: Store | None = None) -> list[Finding]:
    """Every record rule; with ``focus`` (operation ids) the per-operation rules see only those operations.

    With ``memo`` (the clone's ``findings`` store) the per-operation rules that do not read
    the clock are run per operation, and an operation already judged with the same records
    is not judged again (:mod:`opsgov_hooks.speed.memo`).
    """
    findings: list[Finding] = []
    for set_rule in SET_RULES:
        findings.extend(set_rule(records_, policy))
    scoped = records_ if focus is None else records_.restricted(focus)
    if memo is None:
        for rule in RECORD_RULES:
            findings.extend(rule(scoped, policy))
    else:
        from opsgov_hooks.speed.memo import run_per_operation

        findings.extend(run_per_operation(scoped, policy, [r for r in RECORD_RULES if r not in TIME_DEPENDENT],
                                          memo))
        for rule in TIME_DEPENDENT:
            findings.extend(rule(scoped, policy))
    recording = os.environ.get(RECORDING_ENV)
    if recording:
        findings = [f for f in findings if not (f.code == "X007" and f.path == recording)]
    return findings


def run_history_rules(ctx: CheckContext) -> list[Finding]:
    if ctx.git is not None:
        for prepare in PREPARERS:
            prepare(ctx, ctx.git)
    findings: list[Finding] = []
    for rule in HISTORY_RULES:
        findings.extend(rule(ctx))
    return findings
