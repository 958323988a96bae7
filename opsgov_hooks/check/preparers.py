"""Reads from git, before the history rules run, the facts they declare they need.

A rule never reads git: it declares the facts it needs (:class:`opsgov_hooks.rules.registry.Facts`)
and the runner has them read here first, each kind in one batch for the whole run, into the
rule's :class:`~opsgov_hooks.rules.context.CheckContext`. Facts about immutable objects are
kept between runs in the clone's stores (:mod:`opsgov_hooks.speed.store`).
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable

from opsgov_hooks.git.gitio import Git
from opsgov_hooks.git.refs import Kept
from opsgov_hooks.policy.config import Policy
from opsgov_hooks.rules.context import CheckContext
from opsgov_hooks.rules.registry import Facts
from opsgov_hooks.speed.store import open_store

Stores = Callable[[str], Kept | None]   # kind ("ancestry", "sealed") -> the clone's store, or None
Preparer = Callable[[CheckContext, Git, Stores], None]

# "module:function" under opsgov_hooks.check, imported only when a rule needing its facts runs
# (a staged change touching no record needs none, and skips the tag and signature readers).
PREPARERS: dict[Facts, str] = {
    Facts.REFS: "ref_facts:prepare_refs",
    Facts.TAGS: "tag_facts:prepare_tags",
    Facts.APPROVALS: "approval_facts:prepare_approvals",
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
        preparer(kind)(ctx, git, stores)


def preparer(kind: Facts) -> Preparer:
    module, function = PREPARERS[kind].split(":")
    found: Preparer = getattr(importlib.import_module(f"opsgov_hooks.check.{module}"), function)
    return found
