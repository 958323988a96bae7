"""Merges answer for what they change themselves: the paths (and lines) unlike every parent's."""
from __future__ import annotations

import pytest

pytest.register_assert_rewrite("conftest_gate")

from conftest import Repo  # noqa: E402
from conftest_gate import OPS1, PROM, Check, codes, operation  # noqa: E402
from opsgov_hooks.git.patches import added_lines_by_commit  # noqa: E402

pytest_plugins = ["conftest_gate"]


def short(repo: Repo, rev: str = "HEAD") -> str:
    return repo.git("rev-parse", "--short=12", rev).strip()


def _topic_behind_a_governed_base(repo: Repo) -> None:
    """The issue's history: a topic branch, and a governed change on main made after it forked."""
    repo.write("README", "x\n")
    repo.commit("init")
    repo.git("checkout", "-qb", "topic")
    repo.write("README", "x\nt\n")
    repo.commit("topic")
    repo.git("checkout", "-q", "main")
    repo.write("ops/a.conf", "1\n")
    repo.commit("X")
    repo.git("checkout", "-q", "topic")


def test_the_issue_example_merging_the_base_into_a_topic_passes(repo: Repo, check: Check) -> None:
    """The base's change that a topic merges in is the base's, not the topic's (issue 12)."""
    _topic_behind_a_governed_base(repo)
    repo.git("merge", "-q", "--no-edit", "main")
    assert check(repo, "--range", "main..topic") == (0, "", "")


def _conflicting_branches(repo: Repo) -> None:
    """main and topic both change ops/a.conf (no operation on either side)."""
    repo.write("README", "x\n")
    repo.write("ops/a.conf", "1\n")
    repo.commit("init")
    repo.git("checkout", "-qb", "topic")
    repo.write("ops/a.conf", "1\ntopic\n")
    repo.commit("topic edits the governed file")
    repo.git("checkout", "-q", "main")
    repo.write("ops/a.conf", "1\nmain\n")
    repo.commit("main edits the governed file")


def test_a_branch_change_is_judged_once_on_its_commit(repo: Repo, check: Check) -> None:
    repo.write("README", "x\n")
    repo.commit("init")
    base = repo.head()
    repo.git("checkout", "-qb", "topic")
    repo.write("ops/a.conf", "1\n")
    repo.commit("topic edits a governed file")
    topic = short(repo)
    repo.git("checkout", "-q", "main")
    repo.write("README", "y\n")
    repo.commit("main moves on")
    repo.git("merge", "-q", "--no-ff", "--no-edit", "topic")
    code, out, _ = check(repo, "--range", f"{base}..main")
    assert code == 1
    assert codes(out) == ["G001"]
    assert f"(commit {topic})" in out


def test_a_hand_resolved_conflict_in_a_governed_file_is_judged_on_the_merge(repo: Repo, check: Check) -> None:
    _conflicting_branches(repo)
    main = repo.head()
    repo.git("checkout", "-q", "topic")
    topic_commit = short(repo)
    repo.git("merge", "-q", "--no-edit", "main", check=False)
    repo.write("ops/a.conf", "1\ntopic\nmain\n")
    repo.stage()
    repo.git("commit", "-q", "--no-edit")
    merge = short(repo)
    code, out, _ = check(repo, "--range", f"{main}..topic")
    assert code == 1
    lines = [line for line in out.splitlines() if " G001 " in line]
    assert len(lines) == 2
    assert f"(commit {topic_commit})" in lines[0] + lines[1]
    assert f"(commit {merge})" in lines[0] + lines[1]


def test_a_conflict_resolved_to_one_side_is_that_sides_change(repo: Repo, check: Check) -> None:
    """Taking main's version whole is not a change of the merge's own (it equals a parent)."""
    _conflicting_branches(repo)
    main = repo.head()
    repo.git("checkout", "-q", "topic")
    repo.git("merge", "-q", "--no-edit", "main", check=False)
    repo.git("checkout", "--theirs", "--", "ops/a.conf")
    repo.stage()
    repo.git("commit", "-q", "--no-edit")
    code, out, _ = check(repo, "--range", f"{main}..topic")
    assert code == 1
    assert codes(out) == ["G001"]  # the topic's own commit only
    assert f"(commit {short(repo, 'topic~1')})" in out


def test_lines_a_merge_takes_from_a_parent_are_not_scanned_again(repo: Repo, check: Check) -> None:
    """A NOT ALLOWED line is reported on the commit that added it; a line the resolution adds, on the merge."""
    operation(repo, OPS1, ["ops/**"])
    repo.write(PROM, "a: 1\n")
    repo.commit(f"operation\n\nOps-Id: {OPS1}")
    base = repo.head()
    repo.git("checkout", "-qb", "topic")
    repo.write(PROM, "a: 1\niptables -F\n")
    repo.commit(f"topic\n\nOps-Id: {OPS1}")
    topic = short(repo)
    repo.git("checkout", "-q", "main")
    repo.write(PROM, "a: 1\nb: 2\n")
    repo.commit(f"main\n\nOps-Id: {OPS1}")
    repo.git("merge", "-q", "--no-edit", "topic", check=False)
    repo.write(PROM, "a: 1\niptables -F\nb: 2\nuseradd mallory\n")
    repo.stage()
    repo.git("commit", "-q", "-m", f"merge topic\n\nOps-Id: {OPS1}")
    merge = short(repo)
    code, out, _ = check(repo, "--range", f"{base}..main")
    assert code == 1
    g007 = [line for line in out.splitlines() if " G007 " in line]
    assert len(g007) == 2
    assert g007[0].startswith(f"{PROM}:2:") and f"(commit {topic})" in g007[0]
    assert g007[1].startswith(f"{PROM}:4:") and f"(commit {merge})" in g007[1]


def test_concluding_a_merge_of_the_base_passes_the_staged_check(repo: Repo, check: Check) -> None:
    _topic_behind_a_governed_base(repo)
    repo.git("merge", "-q", "--no-ff", "--no-commit", "main")
    assert check(repo) == (0, "", "")


def test_concluding_a_merge_judges_the_hand_resolution(repo: Repo, check: Check) -> None:
    _conflicting_branches(repo)
    repo.git("checkout", "-q", "topic")
    repo.git("merge", "-q", "--no-edit", "main", check=False)
    repo.write("ops/a.conf", "1\ntopic\nmain\n")
    repo.stage()
    code, out, _ = check(repo)
    assert code == 1 and codes(out) == ["G001"] and out.startswith("ops/a.conf:1:1: G001")


def test_combined_patch_lines_added_against_every_parent() -> None:
    patch = (b"\x01abc\n\ndiff --cc ops/a.conf\nindex 1,2..3\n--- a/ops/a.conf\n+++ b/ops/a.conf\n"
             b"@@@ -2,2 -2,1 +2,3 @@@\n+ 2\n +3\n- secret\n++new\n"
             b"diff --cc \"ops/b c\"\n--- a/ops/b c\n+++ b/ops/b c\n@@@ -1,0 -1,0 +1,1 @@@\n++++ looks like a header\n")
    lines = added_lines_by_commit(patch)["abc"]
    assert [(a.path, a.line, a.text) for a in lines] == [("ops/a.conf", 4, "new"),
                                                         ("ops/b c", 1, "++ looks like a header")]
