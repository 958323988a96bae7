"""The gate's rules (G codes): association, declaration and ledger, scope contract, NOT ALLOWED.

Pure functions over plain data; the pipeline collects the change and the records.
"""
from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from opsgov_hooks import linear
from opsgov_hooks.policy.config import ForbiddenRule, Policy
from opsgov_hooks.findings import Finding, error, warning
from opsgov_hooks.rules.association import (Association, ChangeView, approval_only, covering, own_record_files,
                                             signs_nothing)
from opsgov_hooks.policy.globs import covered_by_any, matches
from opsgov_hooks.git.patches import AddedLine
from opsgov_hooks.records.declaration import Declaration
from opsgov_hooks.records.ids import ID_RE, tag_name
from opsgov_hooks.records.scope import changed_fields
from opsgov_hooks.records.store import RecordSet
from opsgov_hooks.rules.secret_screen import ScreenMemo
from opsgov_hooks.rules.secrets import Baseline, find_secrets

NEW_OPERATION = "declare a new operation for this change ('opsgov new')"


@dataclasses.dataclass(frozen=True)
class GateInput:
    view: ChangeView
    association: Association
    head: RecordSet          # records in the tree the change produces (a range gives its declarations only)
    final: RecordSet         # where the ledger entry must be (the index, or the end of the range)
    policy: Policy
    entry_may_follow: bool = False   # staged mode with allow_ledger_followup: a missing entry warns
    range_end: bool = False          # the ledger entry is looked for at the end of a range
    known: Mapping[str, Declaration] | None = None   # head.by_id(), when the caller has it already
    known_recorded: frozenset[str] | None = None      # ids of final's entries, likewise
    message_path: str | None = None  # the commit message file being written (commit-msg stage)
    trailer_lines: Mapping[str, int] = dataclasses.field(default_factory=dict)  # Ops-Id value -> its line

    @property
    def message_where(self) -> str:
        """Where a trailer finding points: the message file, the commit, or the message being written."""
        if self.message_path:
            return self.message_path
        return f"commit {self.view.commit[:12]}" if self.view.commit else "commit message"

    @functools.cached_property
    def declared(self) -> Mapping[str, Declaration]:
        return self.known if self.known is not None else self.head.by_id()

    @functools.cached_property
    def recorded(self) -> frozenset[str]:
        """Operations with a valid ledger entry where it must be (built once, asked per operation)."""
        if self.known_recorded is not None:
            return self.known_recorded
        return frozenset(e.operation_id for e in self.final.entries)


def _closed_coverers(gi: GateInput, path: str) -> list[str]:
    declared = {op_id: d for op_id, d in gi.declared.items() if op_id in gi.view.closed}
    return covering(path, declared)


def _closed(op_ids: Sequence[str]) -> str:
    return ", ".join(f"{op} (tag {tag_name(op)})" for op in op_ids)


def unassociated(gi: GateInput) -> Iterator[Finding]:
    """Rule 1: a governed change belongs to at least one operation."""
    if gi.association.ops:
        return
    for path in gi.view.governed:
        closed = _closed_coverers(gi, path)
        if closed:
            yield error("G005", f"{path} is covered only by closed operation {_closed(closed)}{gi.view.where}",
                        path, hint=NEW_OPERATION)
        else:
            yield error("G001", f"{path} is governed but the change belongs to no operation{gi.view.where}",
                        path, hint="declare an operation whose ALLOWED_PATHS cover it ('opsgov new'), or name "
                                   "an open one in an 'Ops-Id: OPS-...' commit trailer")


def declarations(gi: GateInput) -> Iterator[Finding]:
    """Rule 2a: each operation the change belongs to has a valid declaration."""
    declared = gi.declared
    for op in gi.association.ops:
        if op in declared:
            continue
        record = gi.policy.record_path(op)
        if op in gi.head.invalid_ids:
            yield error("G002", f"{op}'s declaration is invalid{gi.view.where}", record,
                        hint=f"fix the findings reported for {record}")
        else:
            yield error("G002", f"{op} is not declared{gi.view.where}", record,
                        hint=f"declare it in {record} ('opsgov new')")


def ledger_entries(gi: GateInput) -> Iterator[Finding]:
    """Rule 2b: each operation has a valid ledger entry in the resulting tree (or by the end of the range)."""
    if gi.policy.ledger_backend == "tags":
        return  # the entry is the closing tag itself, checked when the operation is tagged
    if approval_only(gi.view.paths, gi.policy):
        return  # 'opsgov approve' commits the approval before anything is done: no entry can exist yet
    if signs_nothing(gi.view.governed, gi.policy):
        return  # it only declares (or logs) its operations: P5's entry follows the work, not the declaration
    for op in gi.association.ops:
        if op in gi.recorded:
            continue
        when = " by the end of the range" if gi.range_end else ""
        hint = (f"record it: opsgov ledger record {op} --approved-by NAME --approval-timestamp now "
                "--execution-timestamp now --changes-summary TEXT --rollback-ref COMMIT")
        if gi.entry_may_follow:
            yield warning("G003", f"{op} has no valid ledger entry yet: record it in an immediate follow-up "
                          "commit", gi.policy.record_path(op), hint=hint)
        else:
            yield error("G003", f"{op} has no valid ledger entry{when}", gi.policy.record_path(op), hint=hint)


def scope(gi: GateInput) -> Iterator[Finding]:
    """Rule 3: every touched file lies inside the ALLOWED_PATHS of the change's operations."""
    ops = gi.association.ops
    if not ops:
        return
    declared = gi.declared
    own = set().union(*(own_record_files(op, gi.policy) for op in ops))
    open_ops = [declared[op] for op in ops if op in declared and op not in gi.view.closed]
    closed_ops = {op: declared[op] for op in ops if op in declared and op in gi.view.closed}
    for path in gi.view.paths if gi.association.explicit else gi.view.governed:
        if path in own or any(matches(d.allowed_paths, path) for d in open_ops):
            continue
        closed = covering(path, closed_ops)
        if closed:
            yield error("G005", f"{path} needs closed operation {_closed(closed)}{gi.view.where}", path,
                        hint=NEW_OPERATION)
        else:
            names = ", ".join(ops)
            yield error("G004", f"{path} is outside the ALLOWED_PATHS of {names}{gi.view.where}", path,
                        hint=f"leave it out of this change, or {NEW_OPERATION} with ALLOWED_PATHS covering it")


def trailers(gi: GateInput, where: str, line_of: dict[str, int] | None = None) -> Iterator[Finding]:
    """Each ``Ops-Id`` trailer names one declared operation."""
    known = set(gi.declared) | gi.head.invalid_ids
    for value in gi.view.trailers or ():
        line = (line_of or {}).get(value, 1)
        if not ID_RE.match(value):
            yield error("G009", f"Ops-Id {value!r} is not an operation id{gi.view.where}", where, line,
                        hint="write one 'Ops-Id: OPS-YYYY-MM-DD-NNN' trailer per operation")
        elif value not in known:
            yield error("G009", f"Ops-Id {value} names no declared operation{gi.view.where}", where, line,
                        hint=f"declare it in {gi.policy.record_path(value)} ('opsgov new') or fix the id")


def frozen_scope(proposed: RecordSet, approved: Mapping[str, Declaration]) -> Iterator[Finding]:
    """An operation recorded at the trusted base keeps the scope it was approved with."""
    for declaration in proposed.declarations:
        before = approved.get(declaration.operation_id)
        fields = changed_fields(before, declaration) if before is not None else []
        if fields:
            line, col = declaration.id_position
            yield error("G021", f"{declaration.operation_id} was approved with a different "
                        f"{', '.join(fields)}: an approved scope is frozen, and changes are judged against it",
                        declaration.path, line, col,
                        hint=f"put {', '.join(fields)} back as approved; for a different scope {NEW_OPERATION} "
                             "and record its own approval")


def uncovered(governed: Sequence[str], records: RecordSet) -> Iterator[Finding]:
    """``--all``: every governed file lies inside the ALLOWED_PATHS of some declared operation."""
    covered = covered_by_any(governed, [d.allowed_paths for d in records.declarations])
    for path in governed:
        if path not in covered:
            yield error("G001", f"{path} is governed but no declared operation's ALLOWED_PATHS cover it", path,
                        hint="declare the operation that owns it ('opsgov new'), or move it out of the "
                             "governed paths")


@dataclasses.dataclass(frozen=True)
class TouchedPaths:
    """What the path rules see of one change: its touched paths, and the NOT ALLOWED rules that apply."""

    view: ChangeView
    policy: Policy
    only: Sequence[ForbiddenRule] | None = None   # None: every forbidden rule of the policy


def forbidden_paths(view: ChangeView, policy: Policy,
                    only: Sequence[ForbiddenRule] | None = None) -> Iterator[Finding]:
    """Rule 4a: no touched path matches a NOT ALLOWED path rule (of ``only``, when given)."""
    for rule in policy.forbidden if only is None else only:
        for path in view.paths:
            if rule.paths and matches(rule.paths, path):
                yield error("G006", f"NOT ALLOWED ({rule.id}): {rule.message}: {path}{view.where}", path,
                            hint="leave this file out of the change; the scope contract never permits it")


@dataclasses.dataclass(frozen=True)
class AddedLines:
    """What the content rules see of one change: its added lines."""

    lines: Sequence[AddedLine]
    policy: Policy
    where: str = ""    # " (commit <sha>)" in a range; empty for the staged change
    existing_objects: Callable[[Iterable[str]], set[str]] = lambda names: set()  # commits/tags among names
    only: Sequence[ForbiddenRule] | None = None   # None: every forbidden rule of the policy
    baseline: Callable[[], Baseline | None] = lambda: None   # the trusted .secrets.baseline, read when needed
    screens: ScreenMemo | None = None   # detect-secrets' screens kept between runs (the runner's cache)

    @property
    def rules(self) -> Sequence[ForbiddenRule]:
        return self.policy.forbidden if self.only is None else self.only


def forbidden_content(lines: Sequence[AddedLine], policy: Policy, where: str = "",
                      only: Sequence[ForbiddenRule] | None = None) -> Iterator[Finding]:
    """Rule 4b: no added line matches a NOT ALLOWED content pattern (of ``only``, when given)."""
    compiled = [(rule, linear.compiled(p)) for rule in (policy.forbidden if only is None else only) for p in rule.patterns]
    for added in lines:
        for rule, pattern in compiled:
            m = pattern.search(added.text)
            if m:
                yield error("G007", f"NOT ALLOWED ({rule.id}): {rule.message}: added line matches "
                            f"{pattern.pattern!r}{where}", added.path, added.line, m.start() + 1,
                            hint="remove the line from the change")


def secrets(added: AddedLines) -> Iterator[Finding]:
    """Rule 4c: no added line holds a secret (when a forbidden rule sets ``secrets: true``)."""
    secret_rules = [r for r in added.rules if r.secrets]
    if not secret_rules or not added.lines:
        return
    rule = secret_rules[0]
    for line, kind in find_secrets(added.lines, added.existing_objects, added.baseline, added.screens):
        yield error("G008", f"NOT ALLOWED ({rule.id}): {rule.message}: {kind} in an added line{added.where}",
                    line.path, line.line, 1,
                    hint="remove the secret from the change (and rotate it); if it is not a "
                         "secret, end the line with '# pragma: allowlist secret'")
