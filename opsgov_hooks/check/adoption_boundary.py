"""History before the adoption, in a range the gate judges against a revision without a policy.

The gate judges changes from the adoption on (docs/report.md, "History before the adoption").
When the trusted revision holds no opsgov configuration (an empty remote, or one that never had
a policy), the range may carry the repository's whole past: the commits that are ancestors of
the commit adding ``.opsgov.yaml`` were made before any policy existed, and no operation could
have permitted them. They are left out; the adoption commit and everything after it are judged.
Where the trusted revision has a policy, nothing is left out: a change there is judged whole.
"""
from __future__ import annotations

from collections.abc import Sequence

from opsgov_hooks.git.gitio import Git
from opsgov_hooks.policy.config import CONFIG_FILE, PYPROJECT_FILE


def has_policy(git: Git, rev: str | None) -> bool:
    """Whether ``rev``'s tree configures opsgov (.opsgov.yaml, or a [tool.opsgov] table)."""
    if rev is None:
        return False
    if git.object_types([f"{rev}:{CONFIG_FILE}"]):
        return True
    found = git.object_types([f"{rev}:{PYPROJECT_FILE}"])
    if not found:
        return False
    data = git.read_objects([found[f"{rev}:{PYPROJECT_FILE}"][1]])[0][1] or b""
    return b"[tool.opsgov]" in data


def before_adoption(git: Git, commits: Sequence[tuple[str, list[str]]], trusted: str | None) -> set[str]:
    """The commits of ``commits`` that are ancestors of a commit adding .opsgov.yaml (none when
    ``trusted`` has a policy)."""
    if not commits or has_policy(git, trusted):
        return set()
    names = {sha for sha, parents in commits for sha in [sha, *parents]}
    present = git.object_types([f"{sha}:{CONFIG_FILE}" for sha in names])
    holds = {name.split(":", 1)[0] for name in present}
    adoptions = [sha for sha, parents in commits if sha in holds and not any(p in holds for p in parents)]
    in_range = dict(commits)
    before: set[str] = set()
    pending = [p for sha in adoptions for p in in_range[sha]]
    while pending:
        sha = pending.pop()
        if sha in before or sha not in in_range:
            continue
        before.add(sha)
        pending.extend(in_range[sha])
    return before
