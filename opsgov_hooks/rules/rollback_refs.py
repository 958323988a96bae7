"""Rollback references must point at something real.

A commit reference must exist, be a commit, be unambiguous and be an ancestor of
the checked HEAD (of the tag's commit, for an operation a tag has sealed): a
commit that lives only on an unmerged or deleted branch can vanish with it. A
``procedure:`` that names a repository path needs that path in the checked tree.
On a shallow clone an unresolved commit is "history too shallow", never "missing".
A change answers for the references of the entries it adds or edits
(:attr:`CheckContext.answerable`), and, when it changes which paths exist (it removes or
renames a path, or adds a new top-level entry, which can turn a word of a procedure into a
repository path), for every entry's procedure paths (:attr:`CheckContext.paths_changed`).
What git says about each reference is read before the rule runs, in one batch
(:mod:`opsgov_hooks.check.ref_facts`).
"""
from __future__ import annotations

from collections.abc import Iterator

from opsgov_hooks.rules.context import CheckContext
from opsgov_hooks.findings import Finding, error
from opsgov_hooks.records.ids import tag_name
from opsgov_hooks.records.ledger import LedgerEntry
from opsgov_hooks.records.located import at_field
from opsgov_hooks.records.rollback_ref import commit_name, escaping_procedure_paths, path_exists, procedure_paths

SHALLOW_HINT = "fetch the full history: 'git fetch --unshallow' (or fetch-depth: 0 in actions/checkout)"


def rollback_tip(ctx: CheckContext, entry: LedgerEntry,
         targets: dict[str, str] | None = None) -> tuple[str | None, str]:
    """The commit this entry's rollback commit must be reachable from, and how to name it.

    ``targets`` (tag name -> commit) saves a scan of every tag per entry in batch callers.
    """
    name = tag_name(entry.operation_id)
    target = (targets if targets is not None else tag_targets(ctx)).get(name)
    if target is not None:
        return target, f"the commit of tag {name}"
    return ctx.head_sha or ctx.base_sha, "the checked HEAD"


def tag_targets(ctx: CheckContext) -> dict[str, str]:
    return {t.name: t.target_sha for t in ctx.tags if t.complete}   # the others: only their names were read


def rollback_refs(ctx: CheckContext) -> Iterator[Finding]:
    for entry in ctx.head_records.entries:
        ref = str(entry.get("rollback_ref") or "")
        if commit_name(ref) is not None:
            if ctx.answers_for(entry.operation_id):
                yield from _commit_ref(ctx, entry, ref)
        elif ref.strip().startswith("procedure:") and judges_procedure(ctx, entry):
            yield from _procedure_ref(ctx, entry, ref)


def judges_procedure(ctx: CheckContext, entry: LedgerEntry) -> bool:
    """An entry's procedure is this run's business when the run answers for the entry, or when
    the change alters which paths exist (it may remove the procedure)."""
    return ctx.paths_changed or ctx.answers_for(entry.operation_id)


def _commit_ref(ctx: CheckContext, entry: LedgerEntry, ref: str) -> Iterator[Finding]:
    where = at_field(entry, "rollback_ref")
    name = commit_name(ref)
    facts = ctx.refs.get(ref)
    prefix = f"{entry.operation_id}: rollback_ref {name}"
    if facts is None:
        yield error("H006", f"{prefix} could not be looked up (no git repository for this check)", *where)
    elif facts.ambiguous:
        yield error("H008", f"{prefix} is ambiguous: it abbreviates more than one object", *where,
                    hint="write more digits of the hash (or all 40)")
    elif not facts.exists:
        if ctx.shallow:
            yield error("H010", f"{prefix} cannot be resolved: history too shallow", *where, hint=SHALLOW_HINT)
        else:
            yield error("H006", f"{prefix} does not exist in this repository", *where,
                        hint="name the commit that undoes (or precedes) the operation")
    elif not facts.is_commit:
        yield error("H007", f"{prefix} is not a commit", *where, hint="name a commit (e.g. commit:<rev>^{commit})")
    elif not facts.reachable:
        yield from _unreachable(ctx, entry, prefix)


def _unreachable(ctx: CheckContext, entry: LedgerEntry, prefix: str) -> Iterator[Finding]:
    where = at_field(entry, "rollback_ref")
    _tip_sha, tip_label = rollback_tip(ctx, entry)
    if ctx.shallow:
        yield error("H010", f"{prefix} cannot be traced to {tip_label}: history too shallow", *where,
                    hint=SHALLOW_HINT)
    else:
        yield error("H009", f"{prefix} exists but is not an ancestor of {tip_label}: it is only on an unmerged "
                    "or deleted branch", *where,
                    hint="merge the branch that holds it, or name a commit on this history")


def _procedure_ref(ctx: CheckContext, entry: LedgerEntry, ref: str) -> Iterator[Finding]:
    for path in escaping_procedure_paths(ref):
        yield error("H012", f"{entry.operation_id}: rollback procedure {path} leaves the repository once '..' is "
                    "resolved", *at_field(entry, "rollback_ref"),
                    hint="name the procedure by its path inside the repository, e.g. docs/runbooks/rollback.md")
    for path in procedure_paths(ref, ctx.existing_paths):
        if not path_exists(path, ctx.existing_paths):
            yield error("H011", f"{entry.operation_id}: rollback procedure {path} does not exist in the checked "
                        "tree", *at_field(entry, "rollback_ref"),
                        hint="commit the procedure, or correct the path")
