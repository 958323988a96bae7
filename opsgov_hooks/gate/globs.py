"""Glob matching in gitignore syntax (``pathspec``), compiled once per pattern list."""
from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Protocol

_WILDCARDS = "*?[\\"


class Matcher(Protocol):
    def match_file(self, file: str) -> bool: ...


@functools.lru_cache(maxsize=8192)  # one entry per distinct pattern list (ALLOWED_PATHS of each operation)
def compile_globs(patterns: tuple[str, ...]) -> Matcher:
    import pathspec

    spec: Matcher = pathspec.GitIgnoreSpec.from_lines(patterns)
    return spec


def matches(patterns: Sequence[str], path: str) -> bool:
    return bool(patterns) and compile_globs(tuple(patterns)).match_file(path)


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


def may_match_any(patterns: Iterable[str], paths: Sequence[str]) -> bool:
    """False only when no path can match any pattern; exact (falls back to pathspec when unsure)."""
    patterns = tuple(patterns)
    prefixes = [literal_prefix(p) for p in patterns]
    if any(prefix is None for prefix in prefixes):
        return _any_match(patterns, paths)
    positive = [p for p in prefixes if p]
    # pathspec lets ``dir/**`` match ``dir`` itself, so a path naming a prefix's directory stays a candidate.
    candidates = [path for path in paths if any(path.startswith(p) or p.startswith(path + "/") for p in positive)]
    return bool(candidates) and _any_match(patterns, candidates)


def _any_match(patterns: tuple[str, ...], paths: Sequence[str]) -> bool:
    spec = compile_globs(patterns)
    return any(spec.match_file(path) for path in paths)


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
    union = compile_globs(tuple(plain)) if plain else None
    covered = set()
    for path in paths:
        if (union is not None and union.match_file(path)) or any(compile_globs(n).match_file(path)
                                                                  for n in negated):
            covered.add(path)
    return covered
