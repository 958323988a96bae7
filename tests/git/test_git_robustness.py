"""Git robustness: odd paths, binary files, the first commit, detached HEAD, shallow clones, bad input."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

pytest.register_assert_rewrite("conftest_gate")

from conftest import Repo, init_repo  # noqa: E402
from conftest_gate import OPS1, PROM, Check, codes, operation  # noqa: E402

pytest_plugins = ["conftest_gate"]

ODD_PATHS = ["ops/with space.yml", 'ops/quote".yml', "ops/new\nline.yml", "ops/nön-ascii/ü.yml", "ops/tab\there.yml"]


@pytest.mark.parametrize("path", ODD_PATHS)
def test_odd_paths_are_reported_exactly_in_staged_mode(gate_repo: Repo, check: Check, path: str) -> None:
    gate_repo.write(path, "x: 1\n")
    gate_repo.stage()
    code, out, _ = check(gate_repo, "--format", "json")
    assert code == 1
    assert [(f["code"], f["path"]) for f in json.loads(out)["findings"]] == [("G001", path)]


@pytest.mark.parametrize("path", ODD_PATHS)
def test_odd_paths_in_a_range_and_in_content_rules(gate_repo: Repo, check: Check, path: str) -> None:
    base = gate_repo.head()
    operation(gate_repo, allowed=["ops/**"])
    gate_repo.write(path, "ok: 1\nredis-cli XADD quantum:stream:apply.plan '*' a 1\n")
    gate_repo.commit("odd path")
    code, out, _ = check(gate_repo, "--range", f"{base}..HEAD", "--format", "json")
    assert code == 1
    assert [(f["code"], f["path"], f["line"]) for f in json.loads(out)["findings"]] == [("G007", path, 2)]


def test_text_output_keeps_a_newline_path_on_one_line(gate_repo: Repo, check: Check) -> None:
    gate_repo.write("ops/new\nline.yml", "x: 1\n")
    gate_repo.stage()
    code, out, _ = check(gate_repo)
    assert code == 1
    assert out.splitlines()[0].startswith("ops/new\\nline.yml:1:1: G001 ops/new\\nline.yml is governed")


def test_binary_files_are_judged_but_not_scanned(gate_repo: Repo, check: Check) -> None:
    operation(gate_repo)
    gate_repo.write("ops/monitoring/dashboard.png", b"\x89PNG\r\n\x1a\n\0\0AKIAIOSFODNN7EXAMPLE\0")
    gate_repo.stage()
    assert check(gate_repo) == (0, "", "")
    gate_repo.write("ops/other/blob.bin", b"\0\1\2")
    gate_repo.stage()
    code, out, _ = check(gate_repo)
    assert code == 1 and codes(out) == ["G004"]


def test_first_commit_of_a_repository(tmp_path: Path, check: Check) -> None:
    repo = init_repo(tmp_path / "new")
    repo.write(PROM, "x: 1\n")
    repo.stage()
    code, out, _ = check(repo)
    assert code == 1 and codes(out) == ["G001"]
    operation(repo)
    assert check(repo) == (0, "", "")
    assert check(repo, "--all") == (0, "", "")  # no commit yet: nothing to judge


def test_first_commit_in_a_range_is_judged_against_the_empty_tree(tmp_path: Path, check: Check, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = init_repo(tmp_path / "new")
    repo.write(PROM, "x: 1\n")
    repo.commit("root commit")
    monkeypatch.setenv("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/main")
    code, out, _ = check(repo, "--pre-push")
    assert code == 1 and codes(out) == ["G001"]


def test_detached_head(gate_repo: Repo, check: Check) -> None:
    base = gate_repo.head()
    operation(gate_repo)
    gate_repo.commit("operation")
    gate_repo.git("checkout", "-q", "--detach", "HEAD")
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.stage()
    assert check(gate_repo) == (0, "", "")
    gate_repo.git("commit", "-q", "-m", "on a detached head")
    assert check(gate_repo, "--range", f"{base}..HEAD") == (0, "", "")


def test_not_a_repository(tmp_path: Path, check: Check) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    code, out, err = check(Repo(plain))
    assert (code, out) == (2, "")
    assert err == (f"opsgov: error: {plain} is not inside a git repository; run opsgov from a clone of the "
                   "repository (or 'git init' first)\n")


def test_unknown_revision(gate_repo: Repo, check: Check) -> None:
    code, out, err = check(gate_repo, "--range", "no-such-branch..HEAD")
    assert (code, out, err) == (2, "", "opsgov: error: cannot resolve 'no-such-branch' to a commit\n")


def test_a_revision_is_never_read_as_an_option(gate_repo: Repo, check: Check, tmp_path: Path) -> None:
    target = tmp_path / "written"
    code, out, err = check(gate_repo, "--range", f"--output={target}..HEAD")
    assert (code, out) == (2, "")
    assert err == f"opsgov: error: cannot resolve '--output={target}' to a commit\n"
    assert not target.exists()


def test_malformed_range(gate_repo: Repo, check: Check) -> None:
    assert check(gate_repo, "--range", "main") == (
        2, "", "opsgov: error: --range takes BASE..HEAD (e.g. origin/main..HEAD), not 'main'\n")


def _shallow_clone(source: Repo, target: Path, *extra: str) -> Repo:
    subprocess.run(["git", "clone", "-q", "--depth", "1", *extra, f"file://{source.path}", str(target)], check=True)
    return Repo(target)


def test_shallow_clone_that_cannot_reach_the_merge_base(gate_repo: Repo, check: Check, tmp_path: Path) -> None:
    gate_repo.git("checkout", "-q", "-b", "feature")
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.commit("feature work")
    gate_repo.git("checkout", "-q", "main")
    gate_repo.write("README.md", "moved on\n")
    gate_repo.commit("main moves on")
    clone = _shallow_clone(gate_repo, tmp_path / "ci", "--no-single-branch", "--branch", "feature")
    code, out, err = check(clone, "--range", "origin/main..HEAD")
    assert (code, out) == (2, "")
    assert err == ("opsgov: error: this clone's history is too shallow to reach the merge base of origin/main and "
                   "HEAD; fetch the full history: 'git fetch --unshallow' (GitHub Actions: actions/checkout with "
                   "'fetch-depth: 0'; GitLab CI: GIT_DEPTH: 0)\n")


def test_shallow_clone_without_the_base(gate_repo: Repo, check: Check, tmp_path: Path) -> None:
    base = gate_repo.head()
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.commit("work")
    clone = _shallow_clone(gate_repo, tmp_path / "ci")
    code, out, err = check(clone, "--range", f"{base}..HEAD")
    assert (code, out) == (2, "")
    assert err == (f"opsgov: error: cannot resolve '{base}' to a commit (this clone is shallow: fetch the full "
                   "history, e.g. 'git fetch --unshallow' or 'fetch-depth: 0' in actions/checkout)\n")


def test_shallow_history_with_cut_parents_is_refused(gate_repo: Repo, check: Check, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gate_repo.write("src/a.py", "a = 1\n")
    gate_repo.commit("more history")
    clone = _shallow_clone(gate_repo, tmp_path / "ci")
    monkeypatch.setenv("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/main")
    code, out, err = check(clone, "--pre-push")
    assert (code, out) == (2, "")
    assert err.startswith("opsgov: error: this clone's history is too shallow to judge the history of "
                          "refs/heads/main: some of its commits have their parents cut off; fetch the full history")


def test_commit_msg_trailers_are_parsed_by_git(gate_repo: Repo, check: Check, tmp_path: Path) -> None:
    operation(gate_repo)
    gate_repo.commit("declare")
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.stage()
    message = tmp_path / "COMMIT_EDITMSG"
    message.write_text(f"Tune\n\nBody mentions Ops-Id: OPS-2026-09-09-009 in prose.\n\nOps-Id: {OPS1}\n"
                       "# Please enter the commit message\n# ------------------------ >8 ------------------------\n"
                       "Ops-Id: OPS-2026-09-09-001\n", encoding="utf-8")
    assert check(gate_repo, "--commit-msg", str(message)) == (0, "", "")


def test_path_that_is_not_utf8_is_escaped_never_a_crash(gate_repo: Repo, check: Check) -> None:
    (gate_repo.path / "ops").mkdir()
    (gate_repo.path / os.fsdecode(b"ops/bad\xffname.yml")).write_bytes(b"x: 1\n")
    gate_repo.stage()
    code, out, _ = check(gate_repo, "--format", "json")
    assert code == 1
    assert [f["path"] for f in json.loads(out)["findings"]] == ["ops/bad\\xffname.yml"]
    code, out, _ = check(gate_repo)
    assert out.splitlines()[0].startswith("ops/bad\\xffname.yml:1:1: G001 ")
    out.encode("utf-8")  # strictly encodable


def test_read_objects_answers_a_large_batch_in_order(gate_repo) -> None:  # type: ignore[no-untyped-def]
    """Pipelined reads: hundreds of names (more than a pipe holds) come back in order, each its own."""
    from opsgov_hooks.git.gitio import Git

    for i in range(300):
        gate_repo.write(f"files/f{i:03d}.txt", f"content {i}\n" * (i + 1))
    head = gate_repo.commit("many files")
    names = []
    for i in range(300):
        names += [f"{head}:files/f{i:03d}.txt", f"{head}:files/missing{i} 12"]  # a space: "<name> missing"
    names.append("bad\nname")
    with Git(str(gate_repo.path)) as git:
        got = git.read_objects(names, limit=20)
    assert len(got) == 601
    for i in range(300):
        assert got[2 * i] == ("blob", (f"content {i}\n" * (i + 1)).encode()[:20])
        assert got[2 * i + 1] == ("missing", None)
    assert got[-1] == ("missing", None)
