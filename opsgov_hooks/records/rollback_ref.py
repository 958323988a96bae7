"""What a ledger entry's ``rollback_ref`` names: a commit, or the repository paths of a procedure.

The value's syntax (the standard's): a commit hash or ``commit:<rev>``; ``procedure:`` and
free text naming the runbook; anything else (a command) names nothing here. Whether a
named commit exists and is reachable is git's to say (:func:`opsgov_hooks.git.refs.resolve`).
"""
from __future__ import annotations

import functools
import posixpath
import re
from collections.abc import Iterable

_COMMIT = re.compile(r"(?:([0-9a-fA-F]{7,40})|commit:\s*(\S+))\Z")
_PROCEDURE = re.compile(r"procedure:\s*(.*)\Z", re.S)
_TRAILING = ".,;:)]}'\""


def commit_name(rollback_ref: str) -> str | None:
    """The revision a rollback_ref names (a hash, or ``commit:<rev>``); None for commands and procedures."""
    found = _COMMIT.match(rollback_ref.strip())
    if not found:
        return None
    return found[1] or found[2]


def procedure_paths(rollback_ref: str, existing: Iterable[str] | frozenset[str]) -> list[str]:
    """The repository paths a ``procedure:`` names.

    A word names a repository path when it is relative and its first segment is a
    top-level entry of the tree (``docs/runbooks/x.md``), or when it ends in
    ``.md``; words like ``s3/bucket`` or ``/etc/prometheus`` are not repository paths.
    """
    found = _PROCEDURE.match(rollback_ref.strip())
    if not found:
        return []
    top = _top_level(existing if isinstance(existing, frozenset) else frozenset(existing))
    paths = []
    for word in found[1].split():
        word = word.strip(_TRAILING).split("#", 1)[0].removeprefix("./").rstrip("/")
        if not word or word.startswith("/") or "://" in word:
            continue
        if ".." in word.split("/"):
            word = posixpath.normpath(word)
            if word == ".." or word.startswith("../"):
                continue   # leaves the repository: escaping_procedure_paths reports it
        if ("/" in word and word.split("/", 1)[0] in top) or word.endswith(".md"):
            paths.append(word)
    return paths


def escaping_procedure_paths(rollback_ref: str) -> list[str]:
    """The relative paths of a ``procedure:`` that leave the repository once '..' is resolved."""
    found = _PROCEDURE.match(rollback_ref.strip())
    if not found:
        return []
    escaping = []
    for word in found[1].split():
        word = word.lstrip("([{'\"").rstrip(_TRAILING).split("#", 1)[0]   # a leading '..' is the point here
        if "://" in word or word.startswith("/") or ".." not in word.split("/"):
            continue
        normal = posixpath.normpath(word)
        if normal == ".." or normal.startswith("../"):
            escaping.append(word)
    return escaping


@functools.lru_cache(maxsize=4)
def _top_level(existing: frozenset[str]) -> frozenset[str]:
    """Top-level entries of a tree (computed once per tree, not once per reference)."""
    return frozenset(p.split("/", 1)[0] for p in existing)


def path_exists(path: str, existing: frozenset[str]) -> bool:
    return path in existing or any(p.startswith(path + "/") for p in existing)
