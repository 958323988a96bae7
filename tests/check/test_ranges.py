"""Range mode (CI, pre-push): each commit judged on its own, the policy from the base."""
from __future__ import annotations

import pytest

pytest.register_assert_rewrite("conftest_gate")

from conftest import Repo  # noqa: E402
from conftest_gate import (LEDGER, OPS1, OPS2, OPS_FEB, PROM, Check, add_entry, close, codes, declare,  # noqa: E402
                          operation, record)

pytest_plugins = ["conftest_gate"]


def short(repo: Repo, rev: str = "HEAD") -> str:
    return repo.git("rev-parse", "--short=12", rev).strip()


def test_valid_range_passes(gate_repo: Repo, check: Check) -> None:
    base = gate_repo.head()
    operation(gate_repo)
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.commit("operation and its change")
    gate_repo.write(PROM, "x: 2\n")
    gate_repo.commit("more of it")
    assert check(gate_repo, "--range", f"{base}..HEAD") == (0, "", "")


def test_each_commit_is_judged_and_named(gate_repo: Repo, check: Check) -> None:
    base = gate_repo.head()
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.commit("change before any declaration")
    first = short(gate_repo)
    operation(gate_repo)
    gate_repo.commit("declare afterwards")
    code, out, _ = check(gate_repo, "--range", f"{base}..HEAD")
    assert code == 1
    assert out == (f"{PROM}:1:1: G001 {PROM} is governed but the change belongs to no operation (commit {first}) "
                   "(fix: declare an operation whose ALLOWED_PATHS cover it ('opsgov new'), or name an open one in "
                   "an 'Ops-Id: OPS-...' commit trailer)\nFound 1 error(s), 0 warning(s).\n")


def test_ledger_entry_may_come_later_in_the_range(gate_repo: Repo, check: Check) -> None:
    base = gate_repo.head()
    declare(gate_repo)
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.commit("declare and change")
    middle = gate_repo.head()
    add_entry(gate_repo)
    gate_repo.commit("ledger entry in a follow-up commit")
    assert check(gate_repo, "--range", f"{base}..HEAD") == (0, "", "")
    code, out, _ = check(gate_repo, "--range", f"{base}..{middle}")
    assert code == 1
    assert out.splitlines()[0] == (f"{record(OPS1)}:1:1: G003 {OPS1} has no valid ledger entry by the end of the "
                                   f"range (fix: record it: opsgov ledger record {OPS1} --approved-by NAME "
                                   "--approval-timestamp now --execution-timestamp now --changes-summary TEXT "
                                   "--rollback-ref COMMIT)")


def test_policy_comes_from_the_base_not_from_the_change(gate_repo: Repo, check: Check) -> None:
    base = gate_repo.head()
    # The pull request tries to un-govern its own change.
    gate_repo.write(".opsgov.yaml", "governed_paths:\n  - nothing/**\n")
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.commit("sneak a change past the gate")
    sha = short(gate_repo)
    code, out, _ = check(gate_repo, "--range", f"{base}..HEAD")
    assert code == 1
    assert [line.split(":")[0] for line in out.splitlines()[:-1]] == [".opsgov.yaml", PROM]
    assert codes(out) == ["G001", "G001"]
    assert f"(commit {sha})" in out
    # Once on the base, the new policy governs what follows.
    assert check(gate_repo, "--range", "HEAD..HEAD") == (0, "", "")


def test_base_policy_applies_even_when_the_change_rewrites_it(gate_repo: Repo, check: Check) -> None:
    gate_repo.write(".opsgov.yaml", "governed_paths:\n  - infra/**\n")
    gate_repo.commit("policy governs infra/")
    base = gate_repo.head()
    gate_repo.write(".opsgov.yaml", "governed_paths:\n  - ops/**\n")
    gate_repo.write("infra/main.tf", "resource {}\n")
    gate_repo.commit("drop infra/ from the policy and change it")
    code, out, _ = check(gate_repo, "--range", f"{base}..HEAD")
    assert code == 1
    assert [line.split(":")[0] for line in out.splitlines()[:-1]] == [".opsgov.yaml", "infra/main.tf"]


def test_trailer_names_the_operation_and_widens_the_scope_check(gate_repo: Repo, check: Check) -> None:
    operation(gate_repo)
    gate_repo.commit("declare")
    base = gate_repo.head()
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.write("src/app.py", "print(1)\n")
    gate_repo.commit(f"tune scrape\n\nOps-Id: {OPS1}")
    sha = short(gate_repo)
    code, out, _ = check(gate_repo, "--range", f"{base}..HEAD")
    assert code == 1
    assert out.splitlines()[0].startswith(
        f"src/app.py:1:1: G004 src/app.py is outside the ALLOWED_PATHS of {OPS1} (commit {sha})")


def test_trailer_naming_no_declared_operation(gate_repo: Repo, check: Check) -> None:
    operation(gate_repo)
    gate_repo.commit("declare")
    base = gate_repo.head()
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.commit(f"tune\n\nOps-Id: {OPS2}\nOps-Id: not-an-id")
    sha = short(gate_repo)
    code, out, _ = check(gate_repo, "--range", f"{base}..HEAD")
    assert code == 1
    assert out.splitlines()[:2] == [
        f"commit {sha}:1:1: G009 Ops-Id 'not-an-id' is not an operation id (commit {sha}) (fix: write one "
        "'Ops-Id: OPS-YYYY-MM-DD-NNN' trailer per operation)",
        f"commit {sha}:1:1: G009 Ops-Id {OPS2} names no declared operation (commit {sha}) (fix: declare it in "
        f"{record(OPS2)} ('opsgov new') or fix the id)",
    ]


def test_commits_the_tag_closes_keep_their_permit(gate_repo: Repo, check: Check) -> None:
    base = gate_repo.head()
    operation(gate_repo)
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.commit("the operation")
    close(gate_repo)
    # e.g. pushing the branch after closing the operation: its commits stay permitted
    assert check(gate_repo, "--range", f"{base}..HEAD") == (0, "", "")
    gate_repo.write(PROM, "x: 2\n")
    gate_repo.commit("after the close")
    code, out, _ = check(gate_repo, "--range", f"{base}..HEAD")
    assert code == 1 and codes(out) == ["G005"]


def test_merge_is_judged_against_its_first_parent(gate_repo: Repo, check: Check) -> None:
    gate_repo.git("checkout", "-q", "-b", "feature")
    operation(gate_repo, OPS_FEB, ["ops/nginx/**"])
    gate_repo.write("ops/nginx/site.conf", "server {}\n")
    gate_repo.commit("feature operation")
    gate_repo.git("checkout", "-q", "main")
    operation(gate_repo)
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.commit("main operation")
    close(gate_repo, title="closed on main")
    main = gate_repo.head()
    gate_repo.git("checkout", "-q", "feature")
    base = gate_repo.git("merge-base", "main", "feature").strip()
    gate_repo.git("merge", "-q", "--no-edit", "main")
    # The merge brings main's closed operation in with its records: that is main's history, not a new change.
    assert check(gate_repo, "--range", f"{main}..HEAD") == (0, "", "")
    assert check(gate_repo, "--range", f"{base}..HEAD") == (0, "", "")


def test_evil_merge_is_caught(gate_repo: Repo, check: Check) -> None:
    base = gate_repo.head()
    gate_repo.git("checkout", "-q", "-b", "side")
    gate_repo.write("src/side.py", "x = 1\n")
    gate_repo.commit("side work")
    gate_repo.git("checkout", "-q", "main")
    gate_repo.git("merge", "-q", "--no-ff", "--no-commit", "side")
    gate_repo.write(PROM, "smuggled: true\n")
    gate_repo.stage()
    gate_repo.git("commit", "-q", "--no-edit")
    merge = short(gate_repo)
    code, out, _ = check(gate_repo, "--range", f"{base}..HEAD")
    assert code == 1
    assert out.startswith(f"{PROM}:1:1: G001 {PROM} is governed but the change belongs to no operation "
                          f"(commit {merge})")


def test_pre_commit_refs_select_range_mode(gate_repo: Repo, check: Check, monkeypatch: pytest.MonkeyPatch) -> None:
    base = gate_repo.head()
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.commit("ungoverned change")
    monkeypatch.setenv("PRE_COMMIT_FROM_REF", base)
    monkeypatch.setenv("PRE_COMMIT_TO_REF", gate_repo.head())
    code, out, _ = check(gate_repo)
    assert code == 1 and codes(out) == ["G001"]
    # --staged still means the index (empty here)
    assert check(gate_repo, "--staged") == (0, "", "")


def test_pre_push_of_a_whole_new_history(gate_repo: Repo, check: Check, monkeypatch: pytest.MonkeyPatch) -> None:
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.commit("ungoverned change")
    monkeypatch.setenv("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/main")
    code, out, _ = check(gate_repo, "--pre-push")
    assert code == 1 and codes(out) == ["G001"]


def test_pre_push_outside_pre_commit_is_a_usage_error(gate_repo: Repo, check: Check) -> None:
    code, out, err = check(gate_repo, "--pre-push")
    assert (code, out) == (2, "")
    assert err == ("opsgov: error: --pre-push runs from pre-commit's pre-push stage (which sets PRE_COMMIT_FROM_REF "
                   "and PRE_COMMIT_TO_REF); elsewhere use --range BASE..HEAD\n")


def test_three_dot_range_and_empty_range(gate_repo: Repo, check: Check) -> None:
    base = gate_repo.head()
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.commit("ungoverned change")
    assert check(gate_repo, "--range", f"{base}...HEAD")[0] == 1
    assert check(gate_repo, "--range", "HEAD..HEAD") == (0, "", "")
    assert check(gate_repo, "--range", f"{base}..")[0] == 1


def test_range_reports_new_record_problems_once(gate_repo: Repo, check: Check) -> None:
    base = gate_repo.head()
    operation(gate_repo)
    gate_repo.commit("declare")
    declare(gate_repo, OPS2, BLAST_RADIUS=None)
    gate_repo.commit("a broken second declaration")
    gate_repo.write(PROM, "x: 2\n")
    gate_repo.commit(f"tune\n\nOps-Id: {OPS1}")
    code, out, _ = check(gate_repo, "--range", f"{base}..HEAD")
    assert code == 1
    # The broken declaration is only a declaration: no ledger entry is due for it (no G003).
    assert [c for c in codes(out)] == ["G002", "D001"]


def test_a_tag_merged_in_from_outside_the_range_closes_its_operation(gate_repo: Repo, check: Check,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """What each commit builds on is derived from its parents: one --merged walk per parent outside the range."""
    from opsgov_hooks.git.gitio import Git

    fork = gate_repo.head()
    gate_repo.git("checkout", "-q", "-b", "feature")
    gate_repo.write("notes.txt", "feature work\n")
    gate_repo.commit("feature work")
    gate_repo.git("checkout", "-q", "main")
    operation(gate_repo)
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.commit("main operation")
    close(gate_repo, title="closed on main")
    gate_repo.git("checkout", "-q", "feature")
    gate_repo.git("merge", "-q", "--no-edit", "main")
    gate_repo.write(PROM, "x: 2\n")
    gate_repo.commit("edits the closed operation's file after the merge")
    gate_repo.write(PROM, "x: 3\n")
    gate_repo.commit("and again")
    walks: list[str] = []
    real = Git.tags_merged_into

    def counting(self: Git, commit: str, *args: str) -> set[str]:
        walks.append(commit)
        return real(self, commit, *args)

    monkeypatch.setattr(Git, "tags_merged_into", counting)
    code, out, _ = check(gate_repo, "--range", f"{fork}..HEAD")
    assert code == 1 and codes(out) == ["G005", "G005"]
    assert len(walks) == len(set(walks)) <= 2   # the fork and main's tip, each once
