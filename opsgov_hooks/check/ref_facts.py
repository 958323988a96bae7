"""What git says about the rollback references a run judges, read before the rollback rule runs.

Two git processes for any number of references (:func:`opsgov_hooks.git.refs.resolve`), and
none for a run without commit references; the tree's paths too when a procedure names one.
"""
from __future__ import annotations

from collections.abc import Callable

from opsgov_hooks.git import refs
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.git.refs import Kept
from opsgov_hooks.records.rollback_ref import commit_name
from opsgov_hooks.rules.context import CheckContext
from opsgov_hooks.rules.rollback_refs import judges_procedure, rollback_tip, tag_targets


def prepare_refs(ctx: CheckContext, git: Git, stores: Callable[[str], Kept | None]) -> None:
    """Fill ``ctx.refs`` (and the tree's paths, for procedures) in one batch."""
    wanted: dict[str, tuple[str, list[str]]] = {}   # rollback_ref -> (the revision it names, tips)
    procedures = False
    targets = tag_targets(ctx)
    for entry in ctx.head_records.entries:
        ref = str(entry.get("rollback_ref") or "")
        name = commit_name(ref)
        if name is not None and ctx.answers_for(entry.operation_id):
            tip, _label = rollback_tip(ctx, entry, targets)
            tips = wanted.setdefault(ref, (name, []))[1]
            if tip:
                tips.append(tip)
        procedures = procedures or (ref.strip().startswith("procedure:") and judges_procedure(ctx, entry))
    if wanted:  # no git process at all for a run without commit references
        ctx.shallow = ctx.shallow or git.is_shallow()
        known = None if ctx.shallow else stores("ancestry")  # answers on cut history may change
        ctx.refs = {**ctx.refs, **refs.resolve(git, wanted, known)}
    if procedures and not ctx.existing_paths:
        listing = git.ls_tree(ctx.head_sha) if ctx.head_sha else git.ls_index()
        ctx.existing_paths = frozenset(listing)
