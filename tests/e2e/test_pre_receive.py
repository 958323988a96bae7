"""A real server-side gate: a bare repository whose pre-receive hook runs ``opsgov check --pre-receive``."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

pytest.register_assert_rewrite("conftest_gate")

from conftest import Repo, init_repo  # noqa: E402
from conftest_gate import LEDGER, OPS1, OPS2, PROM, Check, add_entry, close, declare, operation  # noqa: E402

pytest_plugins = ["conftest_gate"]


@pytest.fixture
def server(tmp_path: Path) -> Path:
    bare = tmp_path / "server.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    hook = bare / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\nexec '{sys.executable}' -m opsgov_hooks check --pre-receive\n", encoding="utf-8")
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
    return bare


@pytest.fixture
def clone(tmp_path: Path, server: Path) -> Repo:
    repo = init_repo(tmp_path / "work")
    repo.git("remote", "add", "origin", str(server))
    repo.write("README.md", "# service\n")
    repo.commit("initial")
    return repo


def push(repo: Repo, *refspecs: str) -> tuple[int, str]:
    proc = subprocess.run(["git", "push", "--porcelain", "origin", *refspecs], cwd=repo.path,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy())
    return proc.returncode, proc.stdout


def remote_lines(output: str) -> list[str]:
    return [line.removeprefix("remote: ").rstrip() for line in output.splitlines() if line.startswith("remote: ")]


def test_push_rejected_then_accepted(clone: Repo, server: Path) -> None:
    clone.write(PROM, "scrape_interval: 30s\n")
    clone.commit("tune prometheus")
    code, out = push(clone, "main")
    assert code == 1, out
    assert remote_lines(out) == [
        f"{PROM}:1:1: G001 {PROM} is governed but the change belongs to no operation (commit {clone.head()[:12]}) "
        "(fix: declare an operation whose ALLOWED_PATHS cover it ('opsgov new'), or name an open one in an "
        "'Ops-Id: OPS-...' commit trailer)",
        "Found 1 error(s), 0 warning(s).",
    ]
    assert "!\trefs/heads/main:refs/heads/main\t[remote rejected] (pre-receive hook declined)" in out
    assert subprocess.run(["git", "rev-parse", "--verify", "-q", "refs/heads/main"], cwd=server).returncode == 1

    operation(clone)
    clone.git("commit", "-q", "--amend", "--no-edit")
    code, out = push(clone, "main")
    assert code == 0, out
    assert remote_lines(out) == []
    assert subprocess.run(["git", "rev-parse", "refs/heads/main"], cwd=server, capture_output=True,
                          text=True).stdout.strip() == clone.head()


def test_update_judged_under_the_servers_policy(clone: Repo) -> None:
    operation(clone)
    clone.commit("declare")
    assert push(clone, "main")[0] == 0
    clone.write(".opsgov.yaml", "governed_paths:\n  - nothing/**\n")
    clone.write("ops/nginx/site.conf", "server {}\n")
    clone.commit("try to un-govern the change")
    code, out = push(clone, "main")
    assert code == 1
    assert [line.split(":")[0] for line in remote_lines(out)[:-1]] == [".opsgov.yaml", "ops/nginx/site.conf"]


def test_new_branch_only_new_commits_are_judged(clone: Repo) -> None:
    clone.write("docs/governance/old.md", "# written before the gate\n")
    clone.commit("history from before the gate")
    # The server accepted this history before the hook existed: push it around the hook.
    bare = Path(clone.git("remote", "get-url", "origin").strip())
    hook = bare / "hooks" / "pre-receive"
    hook.rename(hook.with_suffix(".off"))
    assert push(clone, "main")[0] == 0
    hook.with_suffix(".off").rename(hook)

    clone.git("checkout", "-q", "-b", "feature")
    clone.write("src/app.py", "print(1)\n")
    clone.commit("ungoverned work")
    assert push(clone, "feature")[0] == 0
    clone.write("ops/nginx/site.conf", "server {}\n")
    clone.commit("governed work")
    code, out = push(clone, "feature")
    assert code == 1
    assert [line.split(":")[0] for line in remote_lines(out)[:-1]] == ["ops/nginx/site.conf"]


def test_deleted_refs_and_tags_bring_nothing_to_judge(clone: Repo) -> None:
    operation(clone)
    clone.write(PROM, "x: 1\n")
    clone.commit("operation")
    close(clone)
    assert push(clone, "main", "--follow-tags")[0] == 0
    clone.git("branch", "old-branch")
    assert push(clone, "old-branch")[0] == 0
    code, out = push(clone, ":old-branch")
    assert code == 0, out
    clone.git("tag", "-a", "release-1", "-m", "release")
    assert push(clone, "release-1")[0] == 0


def test_one_push_with_several_refs(clone: Repo) -> None:
    assert push(clone, "main")[0] == 0
    clone.git("checkout", "-q", "-b", "good")
    operation(clone, OPS2, ["ops/nginx/**"])
    clone.write("ops/nginx/site.conf", "server {}\n")
    clone.commit("good operation")
    clone.git("checkout", "-q", "-b", "bad", "main")
    clone.write(PROM, "x: 1\n")
    clone.commit("undeclared")
    code, out = push(clone, "good", "bad")
    assert code == 1
    assert [line.split(":")[0] for line in remote_lines(out)[:-1]] == [PROM]
    # A push is all or nothing: the good ref is declined with the bad one.
    assert "!\trefs/heads/good:refs/heads/good\t[remote rejected] (pre-receive hook declined)" in out


def test_ledger_entry_must_exist_at_the_pushed_tip(clone: Repo) -> None:
    declare(clone)
    clone.write(PROM, "x: 1\n")
    clone.commit("declared, not yet recorded")
    code, out = push(clone, "main")
    assert code == 1
    assert remote_lines(out)[0].startswith(f"ops/operations/{OPS1}.md:1:1: G003 {OPS1} has no valid ledger entry "
                                           "by the end of the range")
    add_entry(clone)
    clone.commit("record the entry")
    assert push(clone, "main")[0] == 0
    assert (clone.path / LEDGER).exists()


def test_hook_input_that_is_not_from_git(clone: Repo, run_cli: Check, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("not a ref update\n"))
    code, out, err = run_cli("check", "-C", str(clone.path), "--pre-receive")
    assert (code, out) == (2, "")
    assert err == ("opsgov: error: line 1 of standard input is not '<old> <new> <ref>' as git gives a pre-receive "
                   "hook; run 'opsgov check --pre-receive' from the hook only\n")


def test_tag_bringing_new_commits_is_judged(clone: Repo) -> None:
    assert push(clone, "main")[0] == 0
    clone.git("checkout", "-q", "--detach")
    clone.write(PROM, "x: 1\n")
    clone.commit("only reachable from a tag")
    clone.git("tag", "-a", "sneaky", "-m", "a tag on an unjudged commit")
    code, out = push(clone, "refs/tags/sneaky")
    assert code == 1
    assert [line.split(":")[0] for line in remote_lines(out)[:-1]] == [PROM]


# -- the ops-* tags a push brings ---------------------------------------------------------------

def _closed_operation(clone: Repo) -> None:
    operation(clone)
    clone.write(PROM, "x: 1\n")
    clone.commit("operation")


def test_opsgov_tag_then_push_follow_tags_is_accepted(clone: Repo) -> None:
    _closed_operation(clone)
    tagged = subprocess.run([sys.executable, "-m", "opsgov_hooks", "tag", OPS1], cwd=clone.path, text=True,
                            stdin=subprocess.DEVNULL, capture_output=True)
    assert tagged.returncode == 0, tagged.stderr
    code, out = push(clone, "main", "--follow-tags")
    assert code == 0, out
    assert f"refs/tags/{OPS1.lower()}" in out


def test_a_hand_made_tag_that_seals_another_entry_is_rejected(clone: Repo, server: Path) -> None:
    _closed_operation(clone)
    assert push(clone, "main")[0] == 0
    message = f"{OPS1}: closed\n\n" + (clone.path / LEDGER).read_text(encoding="utf-8").removeprefix("---\n")
    clone.git("tag", "-a", OPS1.lower(), "-m", message.replace("scrape_interval 15s -> 30s", "nothing changed"))
    code, out = push(clone, OPS1.lower())
    assert code == 1, out
    codes = {line.split(": ")[1].split()[0] for line in remote_lines(out)[:-1]}
    assert codes == {"T005", "T006"}, out
    assert all(line.startswith(f"refs/tags/{OPS1.lower()}:") or line.startswith(LEDGER)
               for line in remote_lines(out)[:-1]), out
    assert subprocess.run(["git", "rev-parse", "-q", "--verify", f"refs/tags/{OPS1.lower()}"], cwd=server,
                          capture_output=True).returncode != 0   # not landed


def test_a_lightweight_ops_tag_is_rejected(clone: Repo) -> None:
    _closed_operation(clone)
    assert push(clone, "main")[0] == 0
    clone.git("tag", OPS1.lower())
    code, out = push(clone, OPS1.lower())
    assert code == 1, out
    assert remote_lines(out)[0].startswith(f"refs/tags/{OPS1.lower()}:1:1: T001 tag {OPS1.lower()} is lightweight")


def test_a_tag_made_for_one_name_and_pushed_under_another_is_rejected(clone: Repo) -> None:
    _closed_operation(clone)
    close(clone)
    assert push(clone, "main", "--follow-tags")[0] == 0
    copy = OPS2.lower()
    code, out = push(clone, f"refs/tags/{OPS1.lower()}:refs/tags/{copy}")
    assert code == 1, out
    assert f"T003 tag {copy} is a tag object named '{OPS1.lower()}'" in out


def test_moving_an_ops_tag_is_refused(clone: Repo) -> None:
    _closed_operation(clone)
    close(clone)
    assert push(clone, "main", "--follow-tags")[0] == 0
    clone.write("README.md", "# moved\n")
    clone.commit("later")
    clone.git("tag", "-d", OPS1.lower())
    close(clone)   # the same seal, re-made on a later commit
    code, out = push(clone, "--force", OPS1.lower())
    assert code == 1, out
    assert f"T009 tag {OPS1.lower()} already exists here: this push moves it" in out


def test_require_signed_tags_holds_for_a_pushed_tag(clone: Repo, tmp_path: Path) -> None:
    """The server's trusted policy and allowed signers judge the pushed tag's signature (T007)."""
    keygen = shutil.which("ssh-keygen")
    assert keygen is not None, "ssh-keygen is required for signing tests: install openssh-client"
    key = tmp_path / "bob_key"
    subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-C", "bob", "-f", str(key)], check=True)
    clone.write(".opsgov.yaml", "require_signed_tags: true\nallowed_signers_file: .github/allowed_signers\n")
    clone.write(".github/allowed_signers", f"bob@example.com {(tmp_path / 'bob_key.pub').read_text().strip()}\n")
    operation(clone, allowed=["ops/monitoring/**", ".opsgov.yaml", ".github/**"])   # the change is governed
    clone.write(PROM, "x: 1\n")
    clone.commit("sign ops tags, in an operation")
    code, out = push(clone, "main")
    assert code == 0, out
    close(clone)   # annotated, unsigned
    code, out = push(clone, OPS1.lower())
    assert code == 1, out
    assert f"T007 tag {OPS1.lower()} has no valid signature" in out
    message = clone.git("for-each-ref", "--format=%(contents)", f"refs/tags/{OPS1.lower()}")
    clone.git("tag", "-d", OPS1.lower())
    clone.git("-c", "gpg.format=ssh", "-c", f"user.signingkey={key}", "tag", "-s", OPS1.lower(), "-m", message)
    code, out = push(clone, OPS1.lower())
    assert code == 0, out


@pytest.mark.parametrize("tagged_commit_on_server", [True, False])
def test_a_tag_in_the_push_closes_its_operation_for_the_commits_after_it(clone: Repo,
                                                                        tagged_commit_on_server: bool) -> None:
    """Pushed with the tag or after it, a change that relies on the closed operation gets the same findings."""
    assert push(clone, "main")[0] == 0
    _closed_operation(clone)
    if tagged_commit_on_server:
        assert push(clone, "main")[0] == 0
    close(clone)
    clone.write(PROM, "x: 2\n")
    clone.commit("after the close")
    code, together = push(clone, "main", OPS1.lower())
    assert code == 1, together
    if not tagged_commit_on_server:
        assert push(clone, "HEAD~1:refs/heads/main")[0] == 0
    assert push(clone, OPS1.lower())[0] == 0
    code, after = push(clone, "main")
    assert code == 1, after
    assert remote_lines(together) == remote_lines(after) and len(remote_lines(after)) > 1, (together, after)
