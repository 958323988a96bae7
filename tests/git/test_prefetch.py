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


# -- the parent walk started early (a cold check --all) ------------------------------------------

def _branches(repo: Repo) -> dict[str, str]:
    """main with a merged side branch (merged both ways), and a release branch never merged back."""
    names: dict[str, str] = {}
    for i in range(4):
        names[f"m{i}"] = repo.commit(f"main {i}")
    repo.git("checkout", "-q", "-b", "side", names["m1"])
    names["s0"] = repo.commit("side 0")
    repo.git("merge", "-q", "--no-edit", "main")          # main into side
    names["s1"] = repo.commit("side 1")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "--no-edit", "side")   # and side into main
    names["merge"] = repo.head()
    repo.git("checkout", "-q", "-b", "release", names["m2"])
    names["r0"] = repo.commit("release 0")
    repo.git("checkout", "-q", "main")
    names["head"] = repo.commit("after the merge")
    return names


def _answers(git: Git, names: dict[str, str]) -> dict[str, bool]:
    from opsgov_hooks.git import refs

    wanted = {f"{tip}>{sha}": (names[sha], [names[tip]]) for tip in ("head", "r0") for sha in names}
    return {key: facts.reachable for key, facts in refs.resolve(git, wanted).items()}


def test_an_early_walk_from_more_tips_answers_as_a_walk_asked_later(repo: Repo,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from opsgov_hooks.git import history

    names = _branches(repo)
    with Git.discover(str(repo.path)) as plain:
        expected = _answers(plain, names)
    assert expected["head>s0"] and expected["head>merge"] and expected["r0>m2"]
    assert not expected["head>r0"] and not expected["r0>s0"] and not expected["r0>head"]
    started: list[tuple[str, ...]] = []
    real = history.start_git

    def counting(args, *rest, **kwargs):  # type: ignore[no-untyped-def]
        started.append(tuple(args))
        return real(args, *rest, **kwargs)

    monkeypatch.setattr(history, "start_git", counting)
    with Git.discover(str(repo.path)) as early:
        early.prefetch_walk([names["head"], names["r0"], names["m0"]])
        assert _answers(early, names) == expected
    assert started == [("rev-list", "--parents", "--stdin")]   # the early walk, and no other


def test_a_walk_from_a_tip_the_early_walk_lacks_is_walked_again(repo: Repo) -> None:
    names = _branches(repo)
    with Git.discover(str(repo.path)) as git:
        git.prefetch_walk([names["r0"]])
        shown = [sha for batch in git.walk_parents([names["head"]]) for sha, _parents in batch]
    assert names["s1"] in shown and names["r0"] not in shown


def test_a_forked_child_reads_the_settled_walk(repo: Repo, forks: list[int]) -> None:
    from opsgov_hooks.speed import parallel

    names = _branches(repo)
    with Git.discover(str(repo.path)) as plain:
        expected = [[sha, parents] for batch in plain.walk_parents([names["head"]]) for sha, parents in batch]
    for settle in (True, False):   # unsettled: the child cannot wait for the parent's git, and walks again
        with Git.discover(str(repo.path)) as git:
            git.prefetch_walk([names["head"]])
            if settle:
                git.settle_walk()
            pending = parallel.in_background(
                lambda: [[sha, parents] for batch in git.walk_parents([names["head"]]) for sha, parents in batch],
                before_in_child=git.forget_batch)
            assert pending.started
            assert pending.result() == expected
            # and the parent reads the same file afterwards, whatever the child read of it
            assert [[sha, parents] for batch in git.walk_parents([names["head"]]) for sha, parents in batch] == expected
    assert len(forks) == 2 and all(forks)


def test_an_early_walk_that_fails_fails_as_a_late_one(repo: Repo) -> None:
    repo.commit("first")
    with Git.discover(str(repo.path)) as git:
        git.prefetch_walk(["0" * 40])
        with pytest.raises(GitError, match="rev-list failed") as early:
            list(git.walk_parents(["0" * 40]))
    with pytest.raises(GitError, match="rev-list failed") as late:
        list(Git(str(repo.path)).walk_parents(["0" * 40]))
    assert str(early.value) == str(late.value)


def test_an_early_walk_never_read_is_ended_on_close(repo: Repo) -> None:
    names = _branches(repo)
    git = Git.discover(str(repo.path))
    git.prefetch_walk([names["head"]])
    walk = git._walk
    assert walk is not None
    git.close()
    assert walk.proc.returncode is not None and walk.out.closed and git._walk is None


def test_a_cold_check_all_with_the_early_walk_finds_what_it_finds_without(repo: Repo, forks: list[int],
                                                                          monkeypatch: pytest.MonkeyPatch,
                                                                          tmp_path: Path) -> None:
    """Rollback commits on main, on a merged branch and on a branch never merged: two cores, cold, with the
    walk started before the records load and without it, the same findings (H009 for the unmerged one)."""
    from conftest import entry_text
    from opsgov_hooks.check import pipeline
    from opsgov_hooks.git import history
    from opsgov_hooks.output.text import format_line
    from opsgov_hooks.speed import store as cachestore

    names = _branches(repo)
    repo.write("ops/ledger/2026-01.yaml", "".join(
        entry_text(f"OPS-2026-01-27-{n:03d}", rollback_ref=f"'{names[key]}'")
        for n, key in enumerate(("m0", "s0", "merge", "r0"), 1)))
    repo.commit("record")
    monkeypatch.delenv("OPSGOV_NO_CACHE", raising=False)
    started: list[tuple[str, ...]] = []
    real = history.start_git
    monkeypatch.setattr(history, "start_git",
                        lambda args, *rest, **kw: (started.append(tuple(args)), real(args, *rest, **kw))[1])
    found = {}
    for early in (True, False):
        monkeypatch.setenv("OPSGOV_CACHE_DIR", str(tmp_path / f"cache-{early}"))   # cold, each
        monkeypatch.setattr(cachestore, "_OPEN", {})
        monkeypatch.setattr(pipeline, "has_store", lambda *_args, _early=early: not _early)
        started.clear()
        with Git.discover(str(repo.path)) as git:
            found[early] = sorted(format_line(f) for f in pipeline.check_all(git))
        assert started.count(("rev-list", "--parents", "--stdin")) == (1 if early else 0)   # the child's is not seen here
    assert found[True] == found[False]
    assert [line for line in found[True] if " H009 " in line and names["r0"] in line]
    assert not [line for line in found[True] if " H009 " in line and names["r0"] not in line]


def test_an_early_walk_that_fails_on_an_extra_tip_leaves_the_walk_to_be_asked(repo: Repo) -> None:
    """The early walk starts from every complete tag's target; one git cannot walk from (an object the
    clone lacks) fails it, and the walk the rules ask for, from their own tips, is asked as before."""
    names = _branches(repo)
    missing = "1234567" * 5 + "12345"
    with Git.discover(str(repo.path)) as plain:
        expected = [[sha, parents] for batch in plain.walk_parents([names["head"]]) for sha, parents in batch]
    with Git.discover(str(repo.path)) as git:
        git.prefetch_walk([names["head"], missing])
        git.settle_walk()
        assert git._walk is not None and git._walk.code != 0
        assert [[sha, parents] for batch in git.walk_parents([names["head"]]) for sha, parents in batch] == expected
