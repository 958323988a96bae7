"""End to end through the real pre-commit framework: the hooks of .pre-commit-hooks.yaml, installed in a
repository and run by ``git commit``, block a governed commit until its operation is declared and recorded."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.register_assert_rewrite("conftest_gate")

from conftest import Repo, init_repo  # noqa: E402
from conftest_gate import OPS1, PROM, operation  # noqa: E402

PROJECT = Path(__file__).resolve().parents[2]
# Read before the isolation fixture moves HOME: pip may reuse what it has already downloaded.
PIP_CACHE = os.environ.get("PIP_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "pip")


def _snapshot_of_this_checkout(target: Path) -> str:
    """A one-commit repository holding this checkout's files as they are now (what pre-commit clones)."""
    listed = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=PROJECT, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        source = PROJECT / rel
        if source.is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / rel)
    snapshot = init_repo(target)
    return snapshot.commit("snapshot of the opsgov checkout")


def _config(source: Path, rev: str) -> str:
    hooks = "".join(f"      - id: {hook}\n" for hook in ("opsgov-check", "opsgov-commit-msg", "opsgov-validate"))
    return f"repos:\n  - repo: {source}\n    rev: {rev}\n    hooks:\n{hooks}"


def _git_commit(repo: Repo, message: str, env: dict[str, str]) -> tuple[int, str]:
    """(exit code, everything git and the hooks printed)."""
    proc = subprocess.run(["git", "commit", "-m", message], cwd=repo.path, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    return proc.returncode, proc.stdout


def test_commit_blocked_then_allowed_through_pre_commit(tmp_path: Path) -> None:
    source = tmp_path / "opsgov-src"
    rev = _snapshot_of_this_checkout(source)
    repo = init_repo(tmp_path / "ops-repo")
    repo.write(".pre-commit-config.yaml", _config(source, rev))
    repo.commit("adopt the opsgov hooks")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "PIP_CACHE_DIR": PIP_CACHE}
    subprocess.run([sys.executable, "-m", "pre_commit", "install", "--hook-type", "pre-commit",
                    "--hook-type", "commit-msg"], cwd=repo.path, env=env, check=True, capture_output=True)

    repo.write(PROM, "scrape_interval: 30s\n")
    repo.stage()
    code, blocked = _git_commit(repo, "tune prometheus", env)
    assert code == 1, blocked
    assert (f"{PROM}:1:1: G001 {PROM} is governed but the change belongs to no operation (fix: declare an "
            "operation whose ALLOWED_PATHS cover it ('opsgov new'), or name an open one in an 'Ops-Id: OPS-...' "
            "commit trailer)") in blocked
    assert "opsgov gate (staged change)" in blocked and "Failed" in blocked
    assert repo.git("rev-list", "--count", "HEAD").strip() == "1"

    operation(repo)
    code, allowed = _git_commit(repo, f"tune prometheus\n\nOps-Id: {OPS1}", env)
    assert code == 0, allowed
    assert "opsgov gate (staged change)" in allowed and "opsgov gate (Ops-Id trailers)" in allowed
    assert "opsgov validate (records)" in allowed
    assert repo.git("rev-list", "--count", "HEAD").strip() == "2"

    repo.write(PROM, "scrape_interval: 60s\n")
    repo.write("src/app.py", "print('outside the operation')\n")
    repo.stage()
    code, out_of_scope = _git_commit(repo, f"more\n\nOps-Id: {OPS1}", env)
    assert code == 1, out_of_scope
    # The staged-change hook passes (an open operation covers the governed file); the trailer names the
    # operation, so its scope contract now covers every file of the commit.
    assert f"src/app.py:1:1: G004 src/app.py is outside the ALLOWED_PATHS of {OPS1}" in out_of_scope
    assert "opsgov gate (Ops-Id trailers)" in out_of_scope
