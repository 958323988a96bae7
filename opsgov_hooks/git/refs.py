"""Resolve many revision names at once (a run's rollback references): exists, commit, unambiguous, reachable.

Two git processes in all, however many names: one ``cat-file --batch-check``
says whether each name exists, what type it is and whether it is ambiguous; one
``rev-list --parents`` walk from the tips (the checked HEAD, and the commits of the
tags that seal operations) gives the ancestry, and reachability is answered in
memory. Never one ``merge-base`` per name. What a record's value names is the records'
business (:mod:`opsgov_hooks.records.rollback_ref`); this module takes revision names.
"""
from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Protocol

from opsgov_hooks.git.gitio import Git


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


def resolve(git: Git, wanted: Mapping[str, tuple[str, Sequence[str]]],
            known: Kept | None = None) -> dict[str, RefFacts]:
    """key -> facts of the revision it names, for ``wanted`` key -> (revision name, tips): reachable
    when the revision is an ancestor of (or is) every tip given for it.

    ``known`` keeps is-ancestor answers between runs: a commit's ancestry never changes, so
    an answer found once holds forever (the caller passes no store on a shallow clone, whose
    walks stop at cut-off parents).
    """
    names = {key: name for key, (name, _tips) in wanted.items()}
    tips_of = {key: tips for key, (_name, tips) in wanted.items()}
    objects = git.check_objects(list(names.values()))
    facts: dict[str, RefFacts] = {}
    for ref, name in names.items():
        kind, sha = objects.get(name, ("missing", None))
        facts[ref] = RefFacts(exists=kind not in ("missing", "ambiguous"), is_commit=kind == "commit",
                              ambiguous=kind == "ambiguous", sha=sha)
    commits = {ref: f.sha for ref, f in facts.items() if f.is_commit and f.sha}
    questions = {(tip, sha) for ref, sha in commits.items() for tip in tips_of[ref]}
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
        facts[ref].reachable = bool(tips_of[ref]) and all(answers[(tip, sha)] for tip in tips_of[ref])
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
    """Is-ancestor questions answered from one streamed parent walk, read only as far as needed.

    Commits are held as their binary ids, and a parent is the same object as that commit's own
    key when the walk reaches it: a walk of 100,000 commits held 31 MiB as text (a key, a list
    and a second string per parent), the peak of a cold ``--all``'s history child.
    """

    def __init__(self, walk: Iterator[list[tuple[str, list[str]]]]) -> None:
        self.walk = walk
        self.parents: dict[bytes, tuple[bytes, ...]] = {}
        self.exhausted = False
        self.seen: dict[bytes, set[bytes]] = {}
        self.frontier: dict[bytes, deque[bytes]] = {}  # breadth first: rollback commits sit near their tip
        self._awaited: dict[bytes, bytes] = {}   # parents listed before their own line: shared when it comes

    def _add(self, batch: list[tuple[str, list[str]]]) -> None:
        awaited = self._awaited
        for sha, parents in batch:
            key = _binary(sha)
            key = awaited.pop(key, key)
            shared = []
            for parent in parents:
                raw = _binary(parent)
                shared.append(awaited.setdefault(raw, raw) if raw not in self.parents else raw)
            self.parents[key] = tuple(shared)

    def _parents_of(self, commit: bytes) -> tuple[bytes, ...] | None:
        """The commit's parents, reading the walk until it has shown them (None: not in the walk)."""
        while commit not in self.parents and not self.exhausted:
            try:
                self._add(next(self.walk))
            except StopIteration:
                self.exhausted = True
        return self.parents.get(commit)

    def reaches(self, tip: str, sha: str) -> bool:
        start, wanted = _binary(tip), _binary(sha)
        seen = self.seen.setdefault(start, set())
        frontier = self.frontier.setdefault(start, deque([start] if self._parents_of(start) is not None else []))
        while wanted not in seen and frontier:
            commit = frontier.popleft()
            if commit in seen:
                continue
            seen.add(commit)
            frontier.extend(p for p in self._parents_of(commit) or () if p not in seen)
        return wanted in seen


def _binary(sha: str) -> bytes:
    """A commit id as bytes (20 for SHA-1, 32 for SHA-256); text that is not hex stays distinct as itself."""
    try:
        return bytes.fromhex(sha)
    except ValueError:
        return b"\0" + sha.encode("utf-8", "surrogateescape")
