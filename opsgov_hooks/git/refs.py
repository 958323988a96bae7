"""Resolve every rollback reference of a run at once.

Two git processes in all, however many references: one ``cat-file --batch-check``
says whether each name exists, what type it is and whether it is ambiguous; one
``rev-list --parents`` walk from the tips (the checked HEAD, and the commits of the
tags that seal operations) gives the ancestry, and reachability is answered in
memory. Never one ``merge-base`` per reference.
"""
from __future__ import annotations

import dataclasses
import functools
import posixpath
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from opsgov_hooks.git.gitio import Git

_COMMIT = re.compile(r"(?:([0-9a-fA-F]{7,40})|commit:\s*(\S+))\Z")
_PROCEDURE = re.compile(r"procedure:\s*(.*)\Z", re.S)
_TRAILING = ".,;:)]}'\""


class Kept(Protocol):
    """Answers kept between runs (:class:`opsgov_hooks.speed.store.Store` is one; git never opens it)."""

    def get(self, key: Any) -> Any: ...

    def put(self, key: Any, value: Any) -> None: ...

    def save(self, keep: int = 2000) -> None: ...


@dataclasses.dataclass
class RefFacts:
    """What git says about one rollback reference (resolved in one batch for a whole run)."""

    exists: bool
    is_commit: bool = False
    ambiguous: bool = False
    sha: str | None = None
    reachable: bool = False


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


def resolve(git: Git, wanted: Mapping[str, Sequence[str]], known: Kept | None = None) -> dict[str, RefFacts]:
    """rollback_ref -> facts, each reachable from every tip given for it.

    ``known`` keeps is-ancestor answers between runs: a commit's ancestry never changes, so
    an answer found once holds forever (the caller passes no store on a shallow clone, whose
    walks stop at cut-off parents).
    """
    names = {ref: name for ref in wanted if (name := commit_name(ref)) is not None}
    objects = git.check_objects(list(names.values()))
    facts: dict[str, RefFacts] = {}
    for ref, name in names.items():
        kind, sha = objects.get(name, ("missing", None))
        facts[ref] = RefFacts(exists=kind not in ("missing", "ambiguous"), is_commit=kind == "commit",
                              ambiguous=kind == "ambiguous", sha=sha)
    commits = {ref: f.sha for ref, f in facts.items() if f.is_commit and f.sha}
    questions = {(tip, sha) for ref, sha in commits.items() for tip in wanted[ref]}
    answers: dict[tuple[str, str], bool] = {}
    for tip, sha in questions:
        kept = known.get(f"{tip}:{sha}") if known is not None else None
        if isinstance(kept, bool):
            answers[(tip, sha)] = kept
    todo = sorted(questions - answers.keys())
    if todo:
        walk = git.walk_parents(sorted({tip for tip, _sha in todo}))
        try:
            ancestry = Ancestry(walk)
            for tip in sorted({t for t, _s in todo}):
                _from_earlier_tip(ancestry, known, tip, todo, answers)
            for tip, sha in todo:
                if (tip, sha) not in answers:
                    answers[(tip, sha)] = ancestry.reaches(tip, sha)
        finally:
            walk.close()  # stops the walk as soon as every question is answered
        if known is not None:
            for tip, sha in todo:
                known.put(f"{tip}:{sha}", answers[(tip, sha)])
            tips = known.get("tips")
            earlier = [t for t in tips if isinstance(t, str)] if isinstance(tips, tuple) else []
            known.put("tips", tuple(dict.fromkeys([*sorted({t for t, _s in todo}), *earlier]))[:_TIPS_KEPT])
            known.save(keep=200_000)
    for ref, sha in commits.items():
        facts[ref].reachable = bool(wanted[ref]) and all(answers[(tip, sha)] for tip in wanted[ref])
    return facts


_TIPS_KEPT = 8


def _from_earlier_tip(ancestry: Ancestry, known: Kept | None, tip: str, todo: Sequence[tuple[str, str]],
                      answers: dict[tuple[str, str], bool]) -> None:
    """Answer ``tip``'s questions from a tip of an earlier run that ``tip`` descends from.

    After a new commit, HEAD is a new tip, but every commit its parent reached it reaches too:
    the walk only has to find the parent (a step or two) instead of listing all history. Only
    "yes" carries over; the rest is walked.
    """
    tips = known.get("tips") if known is not None else None
    if known is None or not isinstance(tips, tuple):
        return
    for earlier in tips:
        if not isinstance(earlier, str) or earlier == tip or not ancestry.reaches(tip, earlier):
            continue
        for question in todo:
            if question[0] == tip and question not in answers and known.get(f"{earlier}:{question[1]}") is True:
                answers[question] = True
        return


class Ancestry:
    """Is-ancestor questions answered from one streamed parent walk, read only as far as needed."""

    def __init__(self, walk: Iterator[list[tuple[str, list[str]]]]) -> None:
        self.walk = walk
        self.parents: dict[str, list[str]] = {}
        self.exhausted = False
        self.seen: dict[str, set[str]] = {}
        self.frontier: dict[str, deque[str]] = {}  # breadth first: rollback commits sit near their tip

    def parents_of(self, commit: str) -> list[str] | None:
        """The commit's parents, reading the walk until it has shown them (None: not in the walk)."""
        while commit not in self.parents and not self.exhausted:
            try:
                self.parents.update(next(self.walk))
            except StopIteration:
                self.exhausted = True
        return self.parents.get(commit)

    def reaches(self, tip: str, sha: str) -> bool:
        seen = self.seen.setdefault(tip, set())
        frontier = self.frontier.setdefault(tip, deque([tip] if self.parents_of(tip) is not None else []))
        while sha not in seen and frontier:
            commit = frontier.popleft()
            if commit in seen:
                continue
            seen.add(commit)
            frontier.extend(p for p in self.parents_of(commit) or () if p not in seen)
        return sha in seen
