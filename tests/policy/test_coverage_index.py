"""The coverage index answers exactly as trying every operation's ALLOWED_PATHS would."""
from __future__ import annotations

import itertools

from opsgov_hooks.policy.globs import CoverageIndex, matches

LISTS = {
    "A": ("ops/services/svc-1/**",),
    "B": ("ops/services/svc-1/**", "!ops/services/svc-1/secret.yaml"),
    "C": ("*.yaml",),                          # unanchored: any depth
    "D": ("/ops/monitoring/prometheus.yml",),  # anchored with a leading slash
    "E": ("ops/services/svc-[12]/config-?.yaml",),
    "F": ("**/runbooks/*.md",),
    "G": ("ops/services/",),                   # a directory pattern
    "H": ("docs/governance/**",),
    "I": ("!ops/**",),                         # only a negation: matches nothing
    "J": ("ops/services/svc-1",),              # the directory itself, anchored
    "K": ("ops/services/svc-1/**",),           # the same list as A, another operation
}
PATHS = [
    "ops/services/svc-1/config-0.yaml", "ops/services/svc-1/secret.yaml", "ops/services/svc-2/config-1.yaml",
    "ops/services/svc-10/config-1.yaml", "ops/services/svc-1", "ops/services", "ops/monitoring/prometheus.yml",
    "x/ops/monitoring/prometheus.yml", "docs/runbooks/a.md", "docs/governance/OPS_GOVERNOR.md", "README.md",
    "deep/er/file.yaml", "ops", "docs/governance", "ops/services/svc-1/sub/dir/x.txt",
]


def plain(path: str, declared: dict[str, tuple[str, ...]]) -> list[str]:
    return sorted(op for op, patterns in declared.items() if matches(patterns, path))


def test_the_index_equals_trying_every_list() -> None:
    index = CoverageIndex()
    index.add(LISTS)
    for path in PATHS:
        assert index.covering(path, LISTS) == plain(path, LISTS), path
    assert index.covering("ops/services/svc-1/config-0.yaml", LISTS) == ["A", "B", "C", "E", "G", "J", "K"]


def test_only_the_declarations_given_are_answered_for() -> None:
    """One index serves many trees (a range): each answer is for the tree's own declarations."""
    index = CoverageIndex()
    index.add(LISTS)
    for size in (0, 3, 7):
        for subset in itertools.combinations(sorted(LISTS), size):
            declared = {op: LISTS[op] for op in subset}
            for path in PATHS[:6]:
                assert index.covering(path, declared) == plain(path, declared)


def test_an_operation_whose_allowed_paths_changed_is_judged_by_the_tree_at_hand() -> None:
    index = CoverageIndex()
    before = {"A": ("ops/a/**",)}
    after = {"A": ("ops/b/**",)}
    index.add(before)
    assert index.covering("ops/a/x", before) == ["A"]
    index.add(after)
    assert index.covering("ops/a/x", after) == []
    assert index.covering("ops/b/x", after) == ["A"]
    assert index.covering("ops/b/x", before) == []
