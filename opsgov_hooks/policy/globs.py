"""Glob matching in gitignore syntax (``pathspec``), compiled once per pattern list."""
from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from opsgov_hooks.linear import utf8_safe
from opsgov_hooks.policy.globquick import quick_match

_WILDCARDS = "*?[\\"


class Matcher(Protocol):
    def match_file(self, file: str) -> bool: ...


@functools.lru_cache(maxsize=8192)  # one entry per distinct pattern list (ALLOWED_PATHS of each operation)
def compile_globs(patterns: tuple[str, ...]) -> Matcher:
    import pathspec

    # RE2: a glob such as a*a*a*a*b is a regular expression Python's engine would backtrack on
    # for a long path (opsgov_hooks/linear.py says why every pattern on repository content is linear).
    return _Utf8Safe(pathspec.GitIgnoreSpec.from_lines(patterns, backend="re2"))


class _Utf8Safe:
    """RE2 takes UTF-8 only: a path git gave with other bytes is matched with them as U+FFFD."""

    def __init__(self, spec: Matcher) -> None:
        self._spec = spec

    def match_file(self, file: str) -> bool:
        return bool(self._spec.match_file(utf8_safe(file)))


def matches(patterns: Sequence[str], path: str) -> bool:
    """Whether ``patterns`` match ``path``; pathspec is imported only when the text cannot tell."""
    return bool(patterns) and _match(tuple(patterns), path)


def literal_prefix(pattern: str) -> str | None:
    """The fixed leading directory every match of ``pattern`` must start with, or None.

    Only anchored patterns (a slash before the end, gitignore rules) have one; a
    negation removes matches and so never widens them. Used to decide, without
    importing pathspec, that a path cannot match.
    """
    if pattern.startswith("!") or not pattern.strip():
        return ""  # matches nothing on its own
    body = pattern[1:] if pattern.startswith("/") else pattern
    if "/" not in body.rstrip("/"):
        return None  # unanchored: may match at any depth
    cut = min((body.index(c) for c in _WILDCARDS if c in body), default=len(body))
    head = body[:cut]
    return head[:head.rfind("/") + 1] if "/" in head else None


def covered_by_any(paths: Sequence[str], pattern_lists: Iterable[Sequence[str]]) -> set[str]:
    """The paths that at least one of the pattern lists matches.

    Thousands of operations share a few hundred distinct lists; lists without a
    negation can be merged into one spec (their union is exactly "some list
    matches"), so each path is matched once instead of once per operation.
    """
    distinct = {tuple(p) for p in pattern_lists if p}
    plain = sorted({pattern for patterns in distinct if not any(p.startswith("!") for p in patterns)
                    for pattern in patterns})
    negated = [patterns for patterns in distinct if any(p.startswith("!") for p in patterns)]
    union = tuple(plain)
    covered = set()
    for path in paths:
        if (union and _match(union, path)) or any(_match(n, path) for n in negated):
            covered.add(path)
    return covered


def _match(key: tuple[str, ...], path: str) -> bool:
    """pathspec's answer, asked only when :func:`quick_match` cannot give it from the text."""
    quick = quick_match(key, utf8_safe(path))
    return quick if quick is not None else compile_globs(key).match_file(path)


class CoverageIndex:
    """Which operations' ALLOWED_PATHS cover a path, without trying every operation's list.

    Ten thousand operations share a few thousand distinct pattern lists, and an anchored
    pattern (``ops/services/svc-1/**``) can only match below its literal directory. The
    index files each distinct list under those directories (or under "anywhere" when one
    of its patterns is unanchored), so a path is matched against the lists filed under
    its own ancestors only, once per path however many times it is asked. Exact: the
    final word is always pathspec's.
    """

    def __init__(self) -> None:
        self._ops: dict[tuple[str, ...], set[str]] = {}   # pattern list -> operations ever seen with it
        self._known: set[tuple[str, tuple[str, ...]]] = set()
        self._anywhere: list[tuple[str, ...]] = []
        self._by_prefix: dict[str, list[tuple[str, ...]]] = {}
        self._prefixes: list[str] = []                      # sorted keys of _by_prefix
        self._matching: dict[str, tuple[tuple[str, ...], ...]] = {}
        self._lists_memo: tuple[Mapping[str, Any], Mapping[str, Sequence[str]]] | None = None

    def lists_of(self, declarations: Mapping[str, Any]) -> Mapping[str, Sequence[str]]:
        """operation -> ALLOWED_PATHS of ``declarations`` (objects with ``allowed_paths``), registered.

        Built once per mapping: a change asks for every governed path it touches, and twice.
        """
        memo = self._lists_memo
        if memo is None or memo[0] is not declarations:
            lists = {op_id: d.allowed_paths for op_id, d in declarations.items()}
            self.add(lists)
            memo = self._lists_memo = (declarations, lists)
        return memo[1]

    def add(self, lists: Mapping[str, Sequence[str]]) -> None:
        """Register operation -> ALLOWED_PATHS pairs (pairs seen before cost a set lookup)."""
        for op_id, patterns in lists.items():
            key = tuple(patterns)
            if not key or (op_id, key) in self._known:
                continue
            self._known.add((op_id, key))
            if key not in self._ops:
                self._ops[key] = set()
                self._file(key)
            self._ops[key].add(op_id)

    def _file(self, key: tuple[str, ...]) -> None:
        prefixes = [literal_prefix(p) for p in key]
        if any(prefix is None for prefix in prefixes):
            self._anywhere.append(key)
        else:
            for prefix in {p for p in prefixes if p}:
                if prefix not in self._by_prefix:
                    bisect.insort(self._prefixes, prefix)
                self._by_prefix.setdefault(prefix, []).append(key)
        self._matching.clear()

    def matching(self, path: str) -> tuple[tuple[str, ...], ...]:
        """The registered pattern lists that match ``path``."""
        found = self._matching.get(path)
        if found is None:
            candidates = set(self._anywhere)
            cut = path.find("/")
            while cut != -1:  # every directory above the path
                candidates.update(self._by_prefix.get(path[:cut + 1], ()))
                cut = path.find("/", cut + 1)
            # pathspec lets ``dir/**`` match ``dir`` itself: prefixes below the path are candidates too.
            below = path + "/"
            for prefix in self._prefixes[bisect.bisect_left(self._prefixes, below):]:
                if not prefix.startswith(below):
                    break
                candidates.update(self._by_prefix[prefix])
            found = self._matching[path] = tuple(k for k in candidates if _match(k, path))
        return found

    def covering(self, path: str, declared: Mapping[str, Sequence[str]]) -> list[str]:
        """The operations of ``declared`` (operation -> ALLOWED_PATHS, registered) whose list matches ``path``."""
        found = []
        for key in self.matching(path):
            for op_id in self._ops[key]:
                patterns = declared.get(op_id)
                if patterns is not None and tuple(patterns) == key:
                    found.append(op_id)
        return sorted(found)

def glob_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot select any path, or None when it is a usable glob.

    ``pathspec`` silently turns a comment (``#x``), a blank or an unclosed ``[``
    into a pattern that matches nothing; in an allowlist that would be a scope
    the author believes in and the gate never grants, so it is refused.
    """
    import pathspec

    if pattern.startswith("#"):
        return "starts with '#', which gitignore syntax reads as a comment"
    try:
        spec = pathspec.GitIgnoreSpec.from_lines([pattern], backend="re2")
    except Exception as exc:  # pathspec raises several types for a bad pattern
        # The position pathspec reports is in its generated regex, not in the glob: drop it.
        return f"is not a valid glob ({str(exc).split(' at position')[0]})"
    if not spec.patterns or getattr(spec.patterns[0], "regex", None) is None:
        return "matches no path (blank, or an unclosed '[')"
    return None


def negation_problem(patterns: Sequence[str], index: int) -> str | None:
    """A '!' pattern only takes back what an earlier pattern of the list selected: first (or after
    negations only) it selects nothing, and the list means something other than it says."""
    pattern = patterns[index]
    if pattern.startswith("!") and not any(not p.startswith("!") for p in patterns[:index]):
        return ("is a negation with nothing before it to take back: it selects nothing (a list of paths "
                "is what it allows; leave the '!' pattern out, or put the pattern it narrows first)")
    return None
