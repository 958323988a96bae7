"""Rollback references resolved against real history, in one batch."""
from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from conftest import Repo, entry_text, init_repo
from lifecycle_helpers import context

from opsgov_hooks.git.gitio import Git
from opsgov_hooks.output.text import format_line
from opsgov_hooks.check.preparers import prepare
from opsgov_hooks.rules import rollback_refs
from opsgov_hooks.rules.registry import Facts

pytest_plugins = ["conftest_lifecycle"]

LEDGER = "ops/ledger/2026-01.yaml"


def _op(n: int) -> str:
    return f"OPS-2026-01-27-{n:03d}"


def _judge(repo: Repo, *refs: str, extra_files: dict[str, str] | None = None, tags: bool = True) -> list[str]:
    """Record one entry per reference, commit, and run the preparer and the rule on that commit."""
    repo.write(LEDGER, "".join(entry_text(_op(i), rollback_ref=f"'{ref}'") for i, ref in enumerate(refs, 1)))
    for path, text in (extra_files or {}).items():
        repo.write(path, text)
    head = repo.commit("record")
    ctx = context(repo, None, head, tags=tags)
    assert ctx.head_records.findings == []
    assert ctx.git is not None
    prepare(ctx, ctx.git, [Facts.REFS])
    return [format_line(f) for f in rollback_refs.rollback_refs(ctx)]


def _where(n: int) -> str:
    """The value of the n-th entry's rollback_ref (12 lines per entry; 'rollback_ref: ' is 14 characters)."""
    return f"{LEDGER}:{11 + 12 * (n - 1)}:15"


def test_reachable_commits_in_every_form_pass(repo: Repo) -> None:
    first = repo.commit("first")
    second = repo.commit("second")
    assert _judge(repo, first, second[:7], f"commit:{first}", "commit: HEAD", "commit:main~1",
                  "command: git revert HEAD", "procedure: restore /etc/prometheus from backup") == []


def test_missing_commit(repo: Repo) -> None:
    repo.commit("first")
    assert _judge(repo, "0123456789abcdef0123456789abcdef01234567") == [
        f"{_where(1)}: H006 {_op(1)}: rollback_ref 0123456789abcdef0123456789abcdef01234567 does not exist in this "
        "repository (fix: name the commit that undoes (or precedes) the operation)"]


def test_a_blob_or_tree_is_not_a_commit(repo: Repo) -> None:
    repo.write("ops/monitoring/prometheus.yml", "scrape_interval: 30s\n")
    head = repo.commit("config")
    blob = repo.git("rev-parse", "HEAD:ops/monitoring/prometheus.yml").strip()
    tree = repo.git("rev-parse", f"{head}^{{tree}}").strip()
    assert _judge(repo, blob, tree) == [
        f"{_where(1)}: H007 {_op(1)}: rollback_ref {blob} is not a commit (fix: name a commit (e.g. "
        "commit:<rev>^{commit}))",
        f"{_where(2)}: H007 {_op(2)}: rollback_ref {tree} is not a commit (fix: name a commit (e.g. "
        "commit:<rev>^{commit}))"]


def _colliding_blobs(repo: Repo) -> str:
    """Write two blobs whose ids share their first four hex digits; return that prefix."""
    seen: dict[str, bytes] = {}
    i = 0
    while True:
        data = f"object {i}\n".encode()
        sha = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        if sha[:4] in seen:
            for content in (seen[sha[:4]], data):
                repo.git("hash-object", "-w", "--stdin", input=content)
            return sha[:4]
        seen[sha[:4]] = data
        i += 1


def test_ambiguous_abbreviation(repo: Repo) -> None:
    repo.commit("first")
    prefix = _colliding_blobs(repo)
    assert _judge(repo, f"commit:{prefix}") == [
        f"{_where(1)}: H008 {_op(1)}: rollback_ref {prefix} is ambiguous: it abbreviates more than one object (fix: "
        "write more digits of the hash (or all 40))"]


def test_commits_only_on_an_unmerged_or_deleted_branch_are_unreachable(repo: Repo) -> None:
    repo.commit("first")
    repo.git("switch", "-q", "-c", "feature")
    unmerged = repo.commit("on feature")
    repo.git("switch", "-q", "-c", "gone", "main")
    deleted = repo.commit("on a branch that will be deleted")
    repo.git("switch", "-q", "main")
    repo.git("branch", "-D", "gone")
    message = ("exists but is not an ancestor of the checked HEAD: it is only on an unmerged or deleted branch (fix: "
               "merge the branch that holds it, or name a commit on this history)")
    assert _judge(repo, unmerged, deleted) == [
        f"{_where(1)}: H009 {_op(1)}: rollback_ref {unmerged} {message}",
        f"{_where(2)}: H009 {_op(2)}: rollback_ref {deleted} {message}"]
    repo.git("merge", "-q", "--no-edit", "feature")
    assert _judge(repo, unmerged) == []


def test_a_tagged_operation_needs_an_ancestor_of_the_tag(repo: Repo) -> None:
    repo.write(LEDGER, entry_text(_op(1), rollback_ref="'commit:HEAD'"))
    tagged = repo.commit("record")
    repo.git("tag", "-a", "-m", f"{_op(1)}\n\n" + entry_text(_op(1)).removeprefix("---\n"), "ops-2026-01-27-001")
    later = repo.commit("later")
    assert _judge(repo, later) == [
        f"{_where(1)}: H009 {_op(1)}: rollback_ref {later} exists but is not an ancestor of the commit of tag "
        "ops-2026-01-27-001: it is only on an unmerged or deleted branch (fix: merge the branch that holds it, or name "
        "a commit on this history)"]
    assert _judge(repo, tagged) == []
    assert _judge(repo, later, tags=False) == []  # no tags in the context: judged against HEAD


def test_shallow_clone_says_too_shallow_never_missing(tmp_path: Path) -> None:
    source = init_repo(tmp_path / "source")
    old = source.commit("old")
    source.commit("middle")
    source.write(LEDGER, entry_text(_op(1), rollback_ref=old))
    source.commit("record")
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{source.path}", str(tmp_path / "clone")],
                   check=True, capture_output=True)
    clone = Repo(tmp_path / "clone")
    ctx = context(clone, None, clone.head())
    assert ctx.git is not None
    prepare(ctx, ctx.git, [Facts.REFS])
    assert ctx.shallow is True
    assert [format_line(f) for f in rollback_refs.rollback_refs(ctx)] == [
        f"{_where(1)}: H010 {_op(1)}: rollback_ref {old} cannot be resolved: history too shallow (fix: fetch the "
        "full history: 'git fetch --unshallow' (or fetch-depth: 0 in actions/checkout))"]


def test_procedure_paths_must_exist(repo: Repo) -> None:
    repo.write("docs/runbooks/prometheus.md", "# restore\n")
    repo.commit("runbook")
    assert _judge(repo, "procedure: docs/runbooks/prometheus.md#restore, then reload",
                  "procedure: see docs/runbooks/", "procedure: restore s3/backups/prom and /etc/prometheus") == []
    assert _judge(repo, "procedure: docs/runbooks/grafana.md (section 2)", "procedure: ROLLBACK.md") == [
        f"{_where(1)}: H011 {_op(1)}: rollback procedure docs/runbooks/grafana.md does not exist in the checked tree "
        "(fix: commit the procedure, or correct the path)",
        f"{_where(2)}: H011 {_op(2)}: rollback procedure ROLLBACK.md does not exist in the checked tree (fix: "
        "commit the procedure, or correct the path)"]


def test_staged_procedures_are_looked_up_in_the_index(repo: Repo) -> None:
    repo.commit("first")
    repo.write("docs/rollback.md", "# how\n")
    repo.write(LEDGER, entry_text(_op(1), rollback_ref="'procedure: docs/rollback.md'"))
    repo.stage()
    ctx = context(repo, repo.head(), None, mode="staged")
    assert ctx.git is not None
    prepare(ctx, ctx.git, [Facts.REFS])
    assert list(rollback_refs.rollback_refs(ctx)) == []


def test_all_references_resolve_in_one_batch(repo: Repo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    commits = [repo.commit(f"c{i}") for i in range(12)]
    calls: list[tuple[str, ...]] = []
    original = Git.run

    def counting(self: Git, *args: str, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(args)
        return original(self, *args, **kwargs)

    walk = Git.walk_parents

    def counting_walk(self: Git, tips):  # type: ignore[no-untyped-def]
        calls.append(("rev-list",))
        return walk(self, tips)

    monkeypatch.setattr(Git, "run", counting)
    monkeypatch.setattr(Git, "walk_parents", counting_walk)
    refs = [*commits, "0" * 40, "commit:nope"]
    assert len(_judge(repo, *refs)) == 2
    by_command = [c[0] for c in calls]
    assert by_command.count("cat-file") == 1 and by_command.count("rev-list") == 1
    assert "merge-base" not in by_command


def test_the_ancestry_walk_is_read_only_as_far_as_the_answer_needs(repo: Repo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A rollback commit near its tip is found without listing the rest of history."""
    from opsgov_hooks.git import history
    from opsgov_hooks.git.refs import Ancestry

    monkeypatch.setattr(history, "WALK_CHUNK", 250)  # a few commits per read, as 3,000 are on a big history
    commits = [repo.commit(f"c{i}") for i in range(60)]
    git = Git(str(repo.path))
    shown: list[str] = []

    def counted():  # type: ignore[no-untyped-def]
        for batch in git.walk_parents([commits[-1]]):
            shown.extend(sha for sha, _parents in batch)
            yield batch

    walk = counted()
    ancestry = Ancestry(walk)
    assert ancestry.reaches(commits[-1], commits[-3])
    assert len(shown) <= 8
    assert not ancestry.reaches(commits[-1], "f" * 40)  # not an ancestor: now the whole walk is read
    assert len(shown) == len(set(shown)) == len(commits)  # every commit of the history, once
    walk.close()


def test_an_unfinished_walk_stops_its_git_process(repo: Repo) -> None:
    commits = [repo.commit(f"c{i}") for i in range(30)]
    walk = Git(str(repo.path)).walk_parents([commits[-1]])
    assert next(walk)[0][0] == commits[-1]
    walk.close()  # kills rev-list and reaps it; no error for a walk the caller stopped
    everything = [pair for batch in Git(str(repo.path)).walk_parents([commits[-1]]) for pair in batch]
    assert [sha for sha, _ in everything] == commits[::-1] and everything[-1][1] == []


def test_a_failing_walk_is_an_error(repo: Repo) -> None:
    import pytest

    from opsgov_hooks.git.process import GitError

    repo.commit("first")
    with pytest.raises(GitError, match="rev-list"):
        list(Git(str(repo.path)).walk_parents(["0" * 40]))


def test_ancestry_answers_are_kept_between_runs(repo: Repo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A commit's ancestry never changes: the second run asks git nothing about it."""
    from opsgov_hooks.speed import store as cachestore

    monkeypatch.delenv("OPSGOV_NO_CACHE", raising=False)
    monkeypatch.setattr(cachestore, "_OPEN", {})
    commits = [repo.commit(f"c{i}") for i in range(5)]
    repo.git("checkout", "-q", "-b", "side", commits[1])
    side = repo.commit("side only")
    repo.git("checkout", "-q", "main")
    walks: list[list[str]] = []
    real = Git.walk_parents

    def counting(self: Git, tips):  # type: ignore[no-untyped-def]
        walks.append(list(tips))
        return real(self, tips)

    monkeypatch.setattr(Git, "walk_parents", counting)
    first = _judge(repo, commits[2], side)
    assert len(walks) == 1 and [line.split(": ")[1].split()[0] for line in first] == ["H009"]
    monkeypatch.setattr(cachestore, "_OPEN", {})  # as a new process would
    ctx = context(repo, None, repo.head())
    assert ctx.git is not None
    prepare(ctx, ctx.git, [Facts.REFS])
    assert [format_line(f) for f in rollback_refs.rollback_refs(ctx)] == first
    assert len(walks) == 1


def test_a_shallow_clone_keeps_no_ancestry_answers(repo: Repo, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from opsgov_hooks.speed import store as cachestore

    monkeypatch.delenv("OPSGOV_NO_CACHE", raising=False)
    monkeypatch.setattr(cachestore, "_OPEN", {})
    commits = [repo.commit(f"c{i}") for i in range(4)]
    repo.write(LEDGER, entry_text(_op(1), rollback_ref=f"'{commits[0]}'") +
               entry_text(_op(2), rollback_ref=f"'{commits[3]}'"))  # within the clone's depth: walked
    repo.commit("record")
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "2", f"file://{repo.path}", str(clone)], check=True)
    shallow = Repo(clone)
    ctx = context(shallow, None, shallow.head())
    assert ctx.git is not None
    prepare(ctx, ctx.git, [Facts.REFS])
    assert [format_line(f).split(": ")[1].split()[0] for f in rollback_refs.rollback_refs(ctx)] == ["H010"]
    assert not list((clone / ".git" / "opsgov-cache").glob("ancestry-*"))


def test_a_new_head_reuses_what_its_parent_reached(repo: Repo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """After a commit, HEAD is a new tip: the walk finds the earlier tip, not the whole history."""
    from opsgov_hooks.speed import store as cachestore
    from opsgov_hooks.git import history

    monkeypatch.delenv("OPSGOV_NO_CACHE", raising=False)
    monkeypatch.setattr(cachestore, "_OPEN", {})
    monkeypatch.setattr(history, "WALK_CHUNK", 250)
    commits = [repo.commit(f"c{i}") for i in range(60)]
    shown: list[str] = []
    real = Git.walk_parents

    def counting(self: Git, tips):  # type: ignore[no-untyped-def]
        for batch in real(self, tips):
            shown.extend(sha for sha, _parents in batch)
            yield batch

    monkeypatch.setattr(Git, "walk_parents", counting)
    assert _judge(repo, commits[1]) == []
    assert len(shown) >= 60
    shown.clear()
    repo.commit("one more")
    monkeypatch.setattr(cachestore, "_OPEN", {})  # as a new process would
    ctx = context(repo, None, repo.head())
    assert ctx.git is not None
    prepare(ctx, ctx.git, [Facts.REFS])
    assert list(rollback_refs.rollback_refs(ctx)) == []
    assert ctx.refs[commits[1]].reachable and len(shown) <= 8


def test_a_change_answers_for_the_procedures_it_can_break(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    """A procedure already missing is --all's business; a change that removes a path, or adds a
    top-level entry (which turns a procedure's word into a repository path), answers for every one."""
    from conftest import declaration_text

    repo = init_repo(tmp_path / "repo")
    repo.write("docs/runbooks/restore.md", "# restore\n")
    repo.write("ops/monitoring/prometheus.yml", "scrape_interval: 15s\n")
    for i in (1, 2, 3):
        repo.write(f"ops/operations/{_op(i)}.md", declaration_text(_op(i)))
    repo.write(LEDGER, entry_text(_op(1), rollback_ref="'procedure: docs/runbooks/restore.md'")
               + entry_text(_op(2), rollback_ref="'procedure: docs/runbooks/gone.md'")
               + entry_text(_op(3), rollback_ref="'procedure: restore s3/bucket from backup'"))
    repo.commit("records")

    def codes(*args: str) -> list[str]:
        _status, out, err = run_cli("check", "-C", str(repo.path), *args)
        assert "Traceback" not in err
        return [line.split(": ", 2)[1].split()[0] for line in out.splitlines() if ": H0" in line]

    assert codes("--all") == ["H011"]                      # op 2's procedure is missing
    repo.write("ops/monitoring/prometheus.yml", "scrape_interval: 30s\n")
    repo.stage()
    assert codes("--staged") == []                         # an edit cannot break a procedure
    repo.git("rm", "-q", "--cached", "docs/runbooks/restore.md")
    assert codes("--staged") == ["H011", "H011"]          # a removal may: every entry is judged again
    repo.git("reset", "-q")
    repo.write("s3/README.md", "# bucket notes\n")
    repo.stage()
    assert codes("--staged") == ["H011", "H011"]          # 'gone.md', and now 's3/bucket' is a repository path
