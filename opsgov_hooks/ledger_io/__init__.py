"""Writing the P5 ledger: one interface over the standard's three storage options.

``open_backend`` picks the configured backend; every backend plans a write
(bytes before and after, and the planned entry's findings) under the ledger lock,
and commits it atomically. See :mod:`opsgov_hooks.ledger_io.base`.
"""
from __future__ import annotations

import os

from opsgov_hooks.policy.config import Policy
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.ledger_io.base import FileBackend, Plan

LOCK_NAME = "opsgov-ledger.lock"


def lock_path(git: Git) -> str:
    """One lock per repository, shared by its worktrees, outside the working tree (never committed)."""
    return os.path.join(git.common_dir(), LOCK_NAME)


def open_backend(git: Git, policy: Policy) -> FileBackend:
    lock = lock_path(git)
    if policy.ledger_backend == "markdown":
        from opsgov_hooks.ledger_io.markdown_backend import MarkdownBackend

        return MarkdownBackend(git.root, lock, policy.ledger_path)
    if policy.ledger_backend == "tags":
        from opsgov_hooks.ledger_io.tags_backend import TagsBackend

        return TagsBackend(git, lock)
    from opsgov_hooks.ledger_io.yaml_backend import YamlBackend

    return YamlBackend(git.root, lock, policy.ledger_path)


__all__ = ["FileBackend", "Plan", "lock_path", "open_backend"]
