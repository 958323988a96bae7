"""Runs the rules the registry declares: the one place that decides how they run.

Rules are pure functions that know nothing of speed. Here, and only here:

* per-operation rules that do not read the clock are run one operation at a time, and an
  operation already judged with the same records is not judged again
  (:mod:`opsgov_hooks.speed.memo`, which also spreads a cold run over two cores);
* rules that read the clock run every time;
* the facts a history rule needs are read from git in one batch (its preparer) before any
  history rule runs.
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from opsgov_hooks.check.preparers import prepare
from opsgov_hooks.findings import Finding
from opsgov_hooks.policy.config import Policy
from opsgov_hooks.records.declaration import Declaration
from opsgov_hooks.records.store import RecordSet
from opsgov_hooks.rules.context import CheckContext
from opsgov_hooks.rules.gate import AddedLines, GateInput, TouchedPaths
from opsgov_hooks.rules.registry import Facts, Reads, Rule, rules_reading
from opsgov_hooks.speed.memo import run_per_operation
from opsgov_hooks.speed.store import Store

# Set by 'opsgov run' for the commands and verifications it runs: the record whose step is in
# progress right now. Its IN PROGRESS step is the caller's own, not a dead recorder's (X007).
RECORDING_ENV = "OPSGOV_RECORDING"

# Set by the test suite: a finding whose code its rule did not declare is a bug in the
# registry, and fails the test that meets it (users are never stopped by it).
STRICT_CODES_ENV = "OPSGOV_STRICT_CODES"

_SET_RULES = rules_reading(Reads.RECORD_SET)
_OPERATION_RULES = rules_reading(Reads.OPERATION)
_CHANGE_RULES = rules_reading(Reads.CHANGE)
_PATH_RULES = rules_reading(Reads.PATHS)
_CONTENT_RULES = rules_reading(Reads.ADDED_LINES)
_TREE_RULES = rules_reading(Reads.TREE)
_SCOPE_RULES = rules_reading(Reads.SCOPE)
_HISTORY_RULES = rules_reading(Reads.HISTORY)


def _checked(rule: Rule) -> Callable[..., Iterable[Finding]]:
    """The rule's function, its module imported only when it is first called (the memo may answer)."""
    strict = bool(os.environ.get(STRICT_CODES_ENV))

    def check(*args: object) -> Iterable[Finding]:
        found = rule.check(*args)
        return _declared(rule, found) if strict else found
    return check


def _declared(rule: Rule, found: Iterable[Finding]) -> Iterator[Finding]:
    for finding in found:
        if finding.code not in rule.codes:
            raise AssertionError(f"rule {rule.name} emitted {finding.code}, which it does not declare "
                                 "in rules/registry.py")
        yield finding


def _run(rules: Sequence[Rule], *args: object) -> list[Finding]:
    findings: list[Finding] = []
    for rule in rules:
        findings.extend(_checked(rule)(*args))
    return findings


def run_record_rules(records_: RecordSet, policy: Policy, focus: set[str] | None = None,
                     memo: Store | None = None) -> list[Finding]:
    """Every record rule; with ``focus`` (operation ids) the per-operation rules see only those operations.

    With ``memo`` (the clone's ``findings`` store) the per-operation rules that do not read
    the clock are run per operation, and an operation already judged with the same records
    is not judged again.
    """
    findings = _run(_SET_RULES, records_, policy)
    scoped = records_ if focus is None else records_.restricted(focus)
    if memo is None:
        findings += _run(_OPERATION_RULES, scoped, policy)
    else:
        findings += run_per_operation(scoped, policy, [_checked(r) for r in _OPERATION_RULES if not r.clock], memo)
        findings += _run([r for r in _OPERATION_RULES if r.clock], scoped, policy)
    recording = os.environ.get(RECORDING_ENV)
    if recording:
        findings = [f for f in findings if not (f.code == "X007" and f.path == recording)]
    return findings


def run_change_rules(gi: GateInput) -> list[Finding]:
    """Rules 1-3 for one change."""
    return _run(_CHANGE_RULES, gi)


def run_path_rules(touched: TouchedPaths) -> list[Finding]:
    """Rule 4's path part: NOT ALLOWED paths among the touched ones."""
    return _run(_PATH_RULES, touched)


def run_content_rules(added: AddedLines) -> list[Finding]:
    """Rule 4's content part: NOT ALLOWED patterns and secrets in the added lines."""
    return _run(_CONTENT_RULES, added)


def run_tree_rules(governed: Sequence[str], records_: RecordSet) -> list[Finding]:
    """``--all``: what the governed files of the tree need (each covered by some operation)."""
    return _run(_TREE_RULES, governed, records_)


def run_scope_rules(proposed: RecordSet, approved: Mapping[str, Declaration]) -> list[Finding]:
    """The proposed declarations against the scopes approved at the trusted base."""
    return _run(_SCOPE_RULES, proposed, approved)


def run_tag_rules(ctx: CheckContext) -> list[Finding]:
    """Only the rules that judge ``ctx.tags`` themselves (a push that brings tags, not commits)."""
    rules = [rule for rule in _HISTORY_RULES if rule.facts is Facts.TAGS]
    if ctx.git is not None:
        prepare(ctx, ctx.git, [Facts.TAGS])
    return _run(rules, ctx)


def run_history_rules(ctx: CheckContext) -> list[Finding]:
    if ctx.git is not None:
        prepare(ctx, ctx.git, [rule.facts for rule in _HISTORY_RULES if rule.facts is not None])
    return _run(_HISTORY_RULES, ctx)
