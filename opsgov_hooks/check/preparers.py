"""Reads from git, before the history rules run, the facts they declare they need.

A rule never reads git: it declares the facts it needs (:class:`opsgov_hooks.rules.registry.Facts`)
and the runner has them read here first, each kind in one batch for the whole run, into the
rule's :class:`~opsgov_hooks.rules.context.CheckContext`. Facts about immutable objects are
kept between runs in the clone's stores (:mod:`opsgov_hooks.speed.store`).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from opsgov_hooks.check.approval_facts import prepare_approvals
from opsgov_hooks.check.ref_facts import prepare_refs
from opsgov_hooks.check.tag_facts import prepare_tags
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.git.refs import Kept
from opsgov_hooks.policy.config import Policy
from opsgov_hooks.rules.context import CheckContext
from opsgov_hooks.rules.registry import Facts
from opsgov_hooks.speed.store import open_store

Stores = Callable[[str], Kept | None]   # kind ("ancestry", "sealed") -> the clone's store, or None
Preparer = Callable[[CheckContext, Git, Stores], None]

PREPARERS: dict[Facts, Preparer] = {
    Facts.REFS: prepare_refs,
    Facts.TAGS: prepare_tags,
    Facts.APPROVALS: prepare_approvals,
}

# Ancestry answers name only commits, so they hold under any policy; the entry a tag's
# commit holds is read with the policy's ledger layout.
_POLICY_FREE_STORES = frozenset({"ancestry"})


def clone_stores(git: Git, policy: Policy) -> Stores:
    """The clone's stores, for facts kept between runs (None for a kind when keeping is off)."""
    return lambda kind: open_store(git, kind, None if kind in _POLICY_FREE_STORES else policy)


def prepare(ctx: CheckContext, git: Git, facts: Iterable[Facts]) -> None:
    """Read each kind of facts once, in the order the rules declared them."""
    stores = clone_stores(git, ctx.policy)
    for kind in dict.fromkeys(facts):
        PREPARERS[kind](ctx, git, stores)
