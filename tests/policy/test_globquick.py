"""Every answer the text-only glob check gives is pathspec's answer (it may only decline to answer)."""
from __future__ import annotations

import functools
import itertools
import random

import pathspec
import pytest

from opsgov_hooks.policy.config import DEFAULT_FORBIDDEN, Policy
from opsgov_hooks.policy.globquick import quick_match
from opsgov_hooks.policy.globs import compile_globs, covered_by_any, matches

# The shapes real policies and declarations use, and the ones a hostile or careless author writes.
PATTERNS = [
    "ops/**", "docs/governance/**", "/ops/**", "ops/services/svc-1/**", "ops/services/svc-1/config.yaml",
    "ops/services/svc-1", "ops/", "ops", "/ops", "ops/*", "ops/**/x.yaml", "ops/**/", "ops/services/svc-1/",
    "**/*.pem", "**/id_rsa*", "**/.env", "**/.env.*", "**/secrets/**", "**/*secret*.y*ml", "**/sudoers",
    "**/network/interfaces.d/**", "**/grafana.db-*", "trading/**", "**/trading/**", "*.key", "*", "**", "?",
    "!ops/keep/**", "!**/*.md", "#comment", "\\#literal", "\\!bang", "a\\*b", "ops/[ab]/x", "ops/x[", "x]y",
    "trailing ", " leading", "./ops/**", "ops/../etc/**", "ops//double/**", "ops/./x", "", "ops/a?c/**",
    "é/**", "ops/ü.yaml", "**/ops", "ops/**/**", "a/**/b", "**/a/**/b/**", "**/*.PEM", "OPS/**",
]
PATHS = [
    "ops", "ops/x.yaml", "ops/services/svc-1", "ops/services/svc-1/config.yaml", "ops/services/svc-10/a",
    "ops/services/svc-1/deep/er/file", "docs/governance", "docs/governance/a.md", "docs/gov", "src/app.py",
    "a/b/key.pem", "key.pem", ".pem", "x/.env", ".env.local", "x/secrets", "x/secrets/y", "my-secret.yaml",
    "etc/sudoers", "etc/sudoers.d/x", "trading", "x/trading/y", "ops/keep/a", "ops/keep", "README.md",
    "#literal", "!bang", "a*b", "ops/a/x", "ops/b/x", "trailing", "trailing ", " leading", "ops/abc/x",
    "ops/a/c/x", "é/x", "ops/ü.yaml", "x/ops", "a/b", "a/x/y/b", "a/b/c", "a/x/b/y", "ops/../etc/passwd",
    "weird name with spaces/ops", "\ufffd/ops/x", "ops\ufffd/x", "x]y", "ops/x[", "KEY.PEM", "OPS/x", "Ops/x",
]


def _engine(patterns: tuple[str, ...], path: str) -> bool:
    return bool(_spec(patterns).match_file(path))


@functools.lru_cache(maxsize=None)
def _spec(patterns: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines(patterns, backend="re2")


def _lists() -> list[tuple[str, ...]]:
    rng = random.Random(17)
    lists = [(p,) for p in PATTERNS]
    lists += [tuple(pair) for pair in itertools.combinations(PATTERNS[:20], 2)]
    lists += [tuple(rng.sample(PATTERNS, rng.randint(2, 6))) for _ in range(300)]
    lists += [tuple(r["paths"]) for r in DEFAULT_FORBIDDEN if "paths" in r]
    lists.append(Policy().governed_paths)
    return lists


def test_every_answer_is_the_engines() -> None:
    answered = disagreements = 0
    for patterns in _lists():
        for path in PATHS:
            quick = quick_match(patterns, path)
            if quick is None:
                continue
            answered += 1
            if quick != _engine(patterns, path):
                disagreements += 1
                pytest.fail(f"{patterns!r} on {path!r}: quick says {quick}, pathspec says the opposite")
    assert disagreements == 0
    assert answered > 5_000   # it answers most questions, or it saves nothing


@pytest.mark.parametrize(("patterns", "path", "expected"), [
    (("ops/**", "docs/governance/**"), "ops/services/svc-1/config.yaml", True),
    (("ops/**",), "ops", False),                            # dir/** matches below dir, not dir
    (("ops/a/b",), "ops/a/b", True),                         # an anchored literal matches itself
    (("ops/services/svc-1/**",), "ops/services/svc-10/a", False),
    (("**/*.pem", "**/sudoers"), "ops/services/svc-1/config.yaml", False),
])
def test_common_shapes_are_answered_without_the_engine(patterns: tuple[str, ...], path: str,
                                                       expected: bool) -> None:
    assert quick_match(patterns, path) is expected
    assert _engine(patterns, path) is expected


@pytest.mark.parametrize(("patterns", "path"), [
    (("ops/**", "!ops/keep/**"), "ops/keep/a"),     # a negation may undo the match
    (("**/*.pem",), "a/key.pem"),                    # it might match: only the engine can say
    (("*",), "anything"),                            # no literal piece to miss
    (("a\\*b",), "zzz"),                             # an escape
    (("ops/**",), "./ops/x"),                        # a path the engine normalises first
])
def test_unsure_questions_go_to_the_engine(patterns: tuple[str, ...], path: str) -> None:
    assert quick_match(patterns, path) is None


def test_matches_and_coverage_agree_with_the_engine_on_every_pair() -> None:
    lists = _lists()[:120]
    for patterns in lists:
        for path in PATHS:
            assert matches(list(patterns), path) == compile_globs(patterns).match_file(path), (patterns, path)
    covered = covered_by_any(PATHS, lists)
    assert covered == {p for p in PATHS if any(compile_globs(pats).match_file(p) for pats in lists)}


def test_a_long_list_is_left_to_the_engine() -> None:
    many = tuple(f"ops/services/svc-{i}/**" for i in range(100))
    assert quick_match(many, "ops/services/svc-1/a") is None
    assert matches(list(many), "ops/services/svc-1/a") is True
