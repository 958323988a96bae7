"""``opsgov check --staged`` when nothing governed is staged: one ``git diff-index``, no YAML.

Most commits touch nothing governed, and a pre-commit hook runs on every one of them,
so this path decides "nothing to judge" without loading the policy: it needs only the
patterns that make a path governed. Without a configuration they are the defaults;
with one, they come from a small cache the full path writes, keyed by the exact
bytes of the configuration (so it can never be stale). When in any doubt it answers
"not sure" and the full path runs.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

from opsgov_hooks import __version__
from opsgov_hooks.gate.globs import may_match_any
from opsgov_hooks.gitio import Git, quick_staged_paths

if TYPE_CHECKING:
    from opsgov_hooks.config import Policy

CONFIG_FILES = (".opsgov.yaml", "pyproject.toml")   # a staged change to either always takes the full path
# What makes a path governed under the default policy (kept equal to config.Policy by a test).
DEFAULT_PATTERNS = ("ops/**", "docs/governance/**", "ops/operations/**", "ops/ledger/**")


def _key(config: bytes | None, pyproject: bytes | None) -> str:
    import hashlib

    digest = hashlib.sha256(__version__.encode() + b"\0")
    for raw in (config, pyproject):
        digest.update(b"-" if raw is None else b"+" + hashlib.sha256(raw).digest())
    return digest.hexdigest()


def _cache_file(key: str) -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "opsgov", f"governed-{key}.json")


def governed_patterns(policy: Policy) -> list[str]:
    """Every glob that can make a path governed under ``policy`` (records included)."""
    patterns = list(policy.governed_paths) + [policy.operations_dir + "/**"]
    if policy.ledger_backend == "yaml":
        patterns.append(policy.ledger_path + "/**")
    elif policy.ledger_backend == "markdown":
        patterns.append("/" + policy.ledger_path)
    return patterns


def remember(config: bytes | None, pyproject: bytes | None, policy: Policy) -> None:
    """Cache the governed patterns of a configuration (best effort: a cache that cannot be written is no cache)."""
    if config is None and pyproject is None:
        return
    target = _cache_file(_key(config, pyproject))
    if os.path.exists(target):
        return
    import json

    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        tmp = f"{target}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(governed_patterns(policy), f)
        os.replace(tmp, target)
    except OSError:
        pass


def _patterns(git: Git) -> list[str] | None:
    contents = git.read_objects(["HEAD:.opsgov.yaml", "HEAD:pyproject.toml"])
    config, pyproject = (data if kind == "blob" else None for kind, data in contents)
    if config is None and pyproject is None:
        return list(DEFAULT_PATTERNS)
    import json

    try:
        with open(_cache_file(_key(config, pyproject)), encoding="utf-8") as f:
            cached = json.load(f)
    except (OSError, ValueError):
        return None
    if isinstance(cached, list) and all(isinstance(p, str) for p in cached):
        return cached
    return None


def nothing_to_judge(cwd: str) -> bool:
    """True only when the staged change provably touches nothing governed."""
    paths = quick_staged_paths(cwd)
    if paths is None:
        return False
    if not paths:
        return True
    if any(p in CONFIG_FILES for p in paths):
        return False
    with Git(cwd) as git:
        patterns = _patterns(git)
    return patterns is not None and not may_match_any(patterns, paths)
