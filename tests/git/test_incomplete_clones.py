"""Clones that lack something: a missing object, the ops-* tags. Only what the verdict needs is read;
what it needs and cannot have is exit 2 naming the fix, never a pass."""
from __future__ import annotations

from pathlib import Path

import pytest

pytest.register_assert_rewrite("conftest_gate")

from conftest import Repo, init_repo  # noqa: E402
from conftest_gate import OPS1, PROM, Check, close, codes, operation  # noqa: E402

pytest_plugins = ["conftest_gate"]


def drop_object(repo: Repo, sha: str) -> None:
    """Delete a loose object, as a damaged or partial clone lacks it."""
    path = repo.path / ".git" / "objects" / sha[:2] / sha[2:]
    assert path.exists()
    path.chmod(0o644)
    path.unlink()
    assert repo.git("cat-file", "-e", sha, check=False) == "" and \
        repo.git("cat-file", "-t", sha, check=False) == ""


def blob(repo: Repo, rev_path: str) -> str:
    return repo.git("rev-parse", rev_path).strip()


def test_a_missing_object_in_unrelated_old_history_does_not_stop_the_gate(gate_repo: Repo, check: Check) -> None:
    root = gate_repo.head()
    gate_repo.write("data/old.txt", "".join(f"line {i} of an old data file\n" for i in range(50)))
    gate_repo.commit("old data")
    old = blob(gate_repo, "HEAD:data/old.txt")
    gate_repo.git("rm", "-q", "data/old.txt")
    gate_repo.write("data/new.txt", "".join(f"row {i}: something else entirely\n" for i in range(40)))
    gate_repo.commit("replace the data")  # rename detection would read both blobs
    operation(gate_repo)
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.commit(f"the operation\n\nOps-Id: {OPS1}")
    drop_object(gate_repo, old)
    assert check(gate_repo, "--range", f"{root}..HEAD") == (0, "", "")
    gate_repo.write("ops/nginx/site.conf", "server {}\n")
    gate_repo.commit("a governed change no operation covers")
    code, out, _ = check(gate_repo, "--range", f"{root}..HEAD")
    assert code == 1 and codes(out) == ["G001"]


def test_a_missing_object_the_verdict_needs_names_the_command_the_object_and_the_fix(gate_repo: Repo,
                                                                                     check: Check) -> None:
    base = gate_repo.head()
    operation(gate_repo)
    gate_repo.write(PROM, "scrape_interval: 30s\n")
    gate_repo.commit(f"the operation\n\nOps-Id: {OPS1}")
    needed = blob(gate_repo, f"HEAD:{PROM}")
    drop_object(gate_repo, needed)
    gate_repo.write(PROM, "scrape_interval: 60s\n")  # (else git's diff reuses the identical work-tree file)
    code, out, err = check(gate_repo, "--range", f"{base}..HEAD")
    assert (code, out) == (2, "")
    assert "git diff-tree failed" in err and "git -c" not in err
    assert needed in err and "git fetch --refetch" in err


def _origin_with_a_closed_operation(tmp_path: Path) -> Repo:
    origin = init_repo(tmp_path / "origin")
    origin.write("README.md", "# service\n")
    origin.commit("initial")
    operation(origin)
    origin.write(PROM, "x: 1\n")
    origin.commit(f"the operation\n\nOps-Id: {OPS1}")
    close(origin)
    return origin


def _clone(tmp_path: Path, origin: Repo, name: str, *options: str) -> Repo:
    Repo(tmp_path).git("clone", "-q", *options, f"file://{origin.path}", name)
    clone = Repo(tmp_path / name)
    for key, value in (("user.name", "T"), ("user.email", "t@example.com"), ("commit.gpgsign", "false")):
        clone.git("config", key, value)
    return clone


def test_a_no_tags_clone_never_passes_an_edit_of_a_closed_operations_files(tmp_path: Path, check: Check) -> None:
    origin = _origin_with_a_closed_operation(tmp_path)
    with_tags = _clone(tmp_path, origin, "with-tags")
    without = _clone(tmp_path, origin, "without-tags", "--no-tags")
    for clone in (with_tags, without):
        clone.write(PROM, "x: 2\n")
        clone.stage()
    code, out, _ = check(with_tags)
    assert code == 1 and codes(out) == ["G005"]
    code, out, err = check(without)
    assert (code, out) == (2, "")
    assert f"cannot tell whether {OPS1} is closed" in err and "tagOpt = --no-tags" in err
    assert "git fetch --tags" in err and "fetch-tags: true" in err
    base = without.head()
    without.commit("edit after the close")
    assert check(without, "--range", f"{base}..HEAD")[0] == 2
    without.git("config", "--unset", "remote.origin.tagOpt")
    without.git("fetch", "-q", "--tags")
    code, out, _ = check(without, "--range", f"{base}..HEAD")
    assert code == 1 and codes(out) == ["G005"]


def test_a_shallow_checkout_without_tags_cannot_tell(tmp_path: Path, check: Check) -> None:
    """What actions/checkout does by default: a shallow fetch with --no-tags."""
    origin = _origin_with_a_closed_operation(tmp_path)
    origin.write(PROM, "x: 2\n")
    origin.commit("edit after the close")
    ci = init_repo(tmp_path / "ci")
    ci.git("fetch", "-q", "--no-tags", "--depth=2", f"file://{origin.path}", "+refs/heads/main:refs/remotes/origin/main")
    ci.git("checkout", "-q", "origin/main")
    code, out, err = check(ci, "--range", "HEAD~1..HEAD")
    assert (code, out) == (2, "")
    assert "this shallow clone has no ops-* tags" in err and "fetch-tags: true" in err


def test_a_clone_without_tags_that_never_closed_anything_still_judges(gate_repo: Repo, check: Check) -> None:
    """No tag and nothing that says one is missing: the operation is open, and continuing it passes."""
    operation(gate_repo)
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.commit(f"the operation\n\nOps-Id: {OPS1}")
    base = gate_repo.head()
    gate_repo.write(PROM, "x: 2\n")
    gate_repo.commit(f"more of it\n\nOps-Id: {OPS1}")
    assert check(gate_repo, "--range", f"{base}..HEAD") == (0, "", "")
