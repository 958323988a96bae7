"""A question asked of git early (prefetch) gets the answer the same question asked later gets."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import Repo
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.git.process import GitError


def _repo_with_change(repo: Repo) -> Repo:
    repo.write("ops/a.yml", "a: 1\n")
    repo.write("ops/odd name ü.yml", "b: 1\n")
    repo.commit("first")
    repo.write("ops/a.yml", "a: 2\nadded: line\n")
    repo.write("ops/new.yml", "new: 1\n")
    repo.git("tag", "-a", "ops-2026-01-27-001", "-m", "closed")
    repo.git("config", "remote.origin.url", "/nowhere")
    repo.git("config", "remote.origin.tagOpt", "--no-tags")
    repo.stage()
    return repo


def test_a_prefetched_answer_is_the_answer_run_gives(repo: Repo) -> None:
    _repo_with_change(repo)
    with Git.discover(str(repo.path)) as plain:
        head = plain.head()
        expected = (plain.staged_patch(head), [t.ref for t in plain.ops_tags(messages=False)],
                    plain.remotes_without_tags())
    with Git.discover(str(repo.path)) as early:
        head = early.head()
        early.prefetch_staged_patch(head)
        early.prefetch_tag_names()
        early.prefetch_remotes_without_tags()
        assert len(early._started) == 3
        got = (early.staged_patch(head), [t.ref for t in early.ops_tags(messages=False)],
               early.remotes_without_tags())
        assert early._started == {}   # each taken by the run that asked the same question
    assert got == expected
    assert b"+added: line" in got[0] and got[1] == ["refs/tags/ops-2026-01-27-001"] and got[2] == ["origin"]


def test_a_prefetched_failure_fails_as_run_would(repo: Repo) -> None:
    _repo_with_change(repo)
    with Git.discover(str(repo.path)) as git:
        git.prefetch("cat-file", "-p", "no-such-object")
        with pytest.raises(GitError) as early:
            git.run("cat-file", "-p", "no-such-object")
        with pytest.raises(GitError) as late:
            git.run("cat-file", "-p", "no-such-object")
    assert str(early.value) == str(late.value)


def test_a_question_never_asked_again_is_ended_on_close(repo: Repo) -> None:
    _repo_with_change(repo)
    git = Git.discover(str(repo.path))
    git.prefetch("cat-file", "--batch")   # would wait for its input for ever
    started = next(iter(git._started.values())).proc
    git.close()
    assert started.returncode is not None and git._started == {}


def _separately(path: str) -> tuple[str, str, bool, str]:
    """What discovery primes, asked one question at a time (as before it was primed)."""
    git = Git(Git.discover(path).root)   # a fresh instance: nothing primed
    ask = git.run
    return (git.root, ask("rev-parse", "--path-format=absolute", "--git-common-dir").decode().rstrip("\n"),
            ask("rev-parse", "--is-shallow-repository").strip() == b"true",
            os.path.join(git.root, ask("rev-parse", "--git-path", "MERGE_HEAD").decode().rstrip("\n")))


@pytest.mark.parametrize("where", ["main", "worktree", "shallow", "newline"])
def test_discovery_primes_the_answers_each_question_would_give(repo: Repo, tmp_path: Path, where: str) -> None:
    _repo_with_change(repo)
    repo.commit("second")
    path = str(repo.path)
    if where == "worktree":
        path = str(tmp_path / "wt")
        repo.git("worktree", "add", "-q", path)
    elif where == "shallow":
        path = str(tmp_path / "shallow")
        subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", path], check=True)
    elif where == "newline":
        path = str(tmp_path / "new\nline")
        subprocess.run(["git", "clone", "-q", str(repo.path), path], check=True)
    git = Git.discover(path)
    primed = (git.root, git.common_dir(), git.is_shallow(), git.git_path("MERGE_HEAD"))
    assert primed == _separately(path)
    assert primed[2] is (where == "shallow")
    assert os.path.realpath(primed[3]).endswith(os.path.join("MERGE_HEAD"))


def test_a_prefetched_answer_larger_than_a_pipe_is_read_whole(repo: Repo) -> None:
    """git is not left blocked on a full pipe: the listing comes back whole, as run() gives it."""
    for i in range(3_000):
        repo.write(f"ops/many/file-{i:05d}-with-a-long-name-to-fill-the-pipe.yml", "x: 1\n")
    head = repo.commit("many")
    with Git.discover(str(repo.path)) as git:
        expected = git.ls_tree(head)
        git.prefetch_ls_tree(head)
        started = next(iter(git._started.values()))
        started._reader.join(timeout=60)   # the reader drains git while nobody asks yet
        assert started.proc.returncode == 0
        assert git.ls_tree(head) == expected and len(expected) == 3_000
