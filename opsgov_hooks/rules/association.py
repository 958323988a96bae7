"""Which operations a change belongs to (pure functions over plain data).

(a) the operations whose records the change adds or modifies, (b) those named in
``Ops-Id:`` trailers of its commit message and, failing both, (c) every *open*
operation whose ALLOWED_PATHS cover one of its governed files.
"""
from __future__ import annotations

import dataclasses
import posixpath
from collections.abc import Mapping, Sequence

from opsgov_hooks.policy.config import Policy
from opsgov_hooks.policy.globs import CoverageIndex, matches
from opsgov_hooks.records.declaration import Declaration
from opsgov_hooks.records.ids import ID_RE
from opsgov_hooks.records.ledger import LedgerEntry


@dataclasses.dataclass(frozen=True)
class ChangeView:
    """What the rules need to know about one judged change."""

    paths: tuple[str, ...]                 # every touched path (both sides of a rename)
    governed: tuple[str, ...]              # the touched paths that are governed
    record_ids: tuple[str, ...] = ()       # (a) operations whose records it adds or modifies
    trailers: tuple[str, ...] | None = None  # (b) raw Ops-Id values; None when there is no message
    commit: str | None = None              # the commit judged (None: the staged change)
    closed: frozenset[str] = frozenset()   # operations already closed in the history it builds on
    rolling_back: frozenset[str] = frozenset()  # operations whose rollback this change records
    reopened: frozenset[str] = frozenset()      # closed operations the rollback exemption re-opens

    @property
    def where(self) -> str:
        return f" (commit {self.commit[:12]})" if self.commit else ""


@dataclasses.dataclass(frozen=True)
class Association:
    ops: tuple[str, ...]
    explicit: bool          # by (a) or (b): the scope contract covers every touched file


def operation_of_record(path: str, policy: Policy) -> str | None:
    """The id an operation record file names, or None."""
    if not (path.startswith(policy.operations_dir + "/") and path.endswith(".md")):
        return None
    stem = posixpath.basename(path).removesuffix(".md")
    return stem if ID_RE.match(stem) else None


def operation_of_approval(path: str, policy: Policy) -> str | None:
    """The id a signed approval record (``ops/approvals/OPS-ID.yaml``) names, or None."""
    if not (path.startswith(policy.approvals_dir + "/") and path.endswith(".yaml")):
        return None
    stem = posixpath.basename(path).removesuffix(".yaml")
    return stem if ID_RE.match(stem) and path == policy.approval_path(stem) else None


def approval_only(paths: Sequence[str], policy: Policy) -> bool:
    """A change that only adds or edits approval records (what 'opsgov approve' commits)."""
    return bool(paths) and all(operation_of_approval(p, policy) for p in paths)


def signs_nothing(paths: Sequence[str], policy: Policy) -> bool:
    """A change of declarations and approvals only: it sets what is approved, it carries out nothing."""
    return bool(paths) and all(operation_of_approval(p, policy) or operation_of_record(p, policy) for p in paths)


def changed_entry_ids(old: Sequence[LedgerEntry], new: Sequence[LedgerEntry]) -> set[str]:
    """Operations whose ledger entry a change adds or modifies."""
    before = {e.operation_id: e.fields for e in old}
    return {e.operation_id for e in new if before.get(e.operation_id) != e.fields}


ROLLBACK_OUTCOMES = ("ROLLBACK", "PARTIAL")


def rolled_back_ids(old: Sequence[LedgerEntry], new: Sequence[LedgerEntry]) -> set[str]:
    """Operations whose existing entry this change moves to ROLLBACK or PARTIAL.

    Such a change executes the operation's own ROLLBACK_STRATEGY, so a closed operation
    still permits it (P5 "Rollback Impact"): its tag sealed the entry, and the ledger may
    move on from it only this way.
    """
    before = {e.operation_id: e.get("outcome") for e in old}
    return {e.operation_id for e in new if e.operation_id in before
            and before[e.operation_id] not in ROLLBACK_OUTCOMES and e.get("outcome") in ROLLBACK_OUTCOMES}


def own_record_files(operation_id: str, policy: Policy) -> set[str]:
    files = {policy.record_path(operation_id), policy.approval_path(operation_id)}
    if policy.ledger_backend != "tags":
        files.add(policy.ledger_file_for(operation_id))
    return files


def named_ids(view: ChangeView, known: set[str]) -> tuple[str, ...]:
    """The trailer ids that name a known (declared) operation."""
    return tuple(sorted({t for t in view.trailers or () if ID_RE.match(t) and t in known}))


def covering(path: str, declarations: Mapping[str, Declaration], index: CoverageIndex | None = None) -> list[str]:
    """The operations of ``declarations`` whose ALLOWED_PATHS cover ``path``.

    With ``index`` (many operations: a whole tree's), only the lists that can match are tried.
    """
    if index is None:
        return sorted(op_id for op_id, d in declarations.items() if matches(d.allowed_paths, path))
    lists = index.lists_of(declarations)
    return index.covering(path, lists)


def candidates(view: ChangeView, declarations: Mapping[str, Declaration], known: set[str],
               index: CoverageIndex | None = None) -> set[str]:
    """Every operation the association could name (the pipeline asks git which of them are closed)."""
    found = set(view.record_ids) | set(named_ids(view, known))
    for path in view.governed:
        found.update(covering(path, declarations, index))
    return found


def associate(view: ChangeView, declarations: Mapping[str, Declaration], known: set[str],
              index: CoverageIndex | None = None) -> Association:
    """``known``: ids declared in the resulting tree, including those whose record is invalid."""
    explicit = set(view.record_ids) | set(named_ids(view, known))
    if explicit:
        return Association(tuple(sorted(explicit)), True)
    open_ops = {op_id: d for op_id, d in declarations.items() if op_id not in view.closed}
    found = {op_id for path in view.governed for op_id in covering(path, open_ops, index)}
    return Association(tuple(sorted(found)), False)
