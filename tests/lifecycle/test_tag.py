"""``opsgov tag``: closing an operation with an annotated tag, and every refusal."""
from __future__ import annotations

import re

import subprocess
from pathlib import Path

import pytest
from conftest import Repo, entry_text, init_repo
from lifecycle_helpers import OP, declare, record_args
from lifecycle_helpers import RECORDED_YAML as ENTRY_YAML

from opsgov_hooks.git.gitio import Git

pytest_plugins = ["conftest_lifecycle"]

TAG = "ops-2026-01-27-001"
MESSAGE = f"{OP}: Tune Prometheus scrape interval\n\n" + ENTRY_YAML


@pytest.fixture
def recorded(declared: Repo, run_cli) -> Repo:  # type: ignore[no-untyped-def]
    assert run_cli(*record_args())[0] == 0
    declared.commit("record")
    return declared


def _tag_message(repo: Repo, name: str = TAG) -> str:
    raw = repo.git("cat-file", "tag", name)
    return raw.split("\n\n", 1)[1]


def test_tag_closes_a_recorded_operation(recorded: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    head = recorded.head()
    assert run_cli("tag", OP) == (0, f"created tag {TAG} at {head[:12]}\n", "")
    assert recorded.git("cat-file", "-t", TAG) == "tag\n"
    assert recorded.git("rev-parse", f"{TAG}^{{commit}}").strip() == head
    assert _tag_message(recorded) == MESSAGE
    assert f"\ntag {TAG}\n" in recorded.git("cat-file", "tag", TAG)
    assert run_cli("ledger", "list")[1].splitlines()[1].split()[5] == TAG


def test_dry_run_creates_nothing(recorded: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    head = recorded.head()
    assert run_cli("tag", OP, "--dry-run") == (
        0, f"would create tag {TAG} at {head[:12]} with message:\n{MESSAGE}", "")
    assert recorded.git("tag", "--list") == ""


def test_an_existing_tag_is_never_moved(recorded: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    run_cli("tag", OP)
    before = recorded.git("rev-parse", TAG)
    recorded.commit("later")
    code, out, _ = run_cli("tag", OP)
    assert code == 1
    assert out.splitlines()[0] == (f"refs/tags/{TAG}:1:1: T009 tag {TAG} already exists (object {before[:12]}); "
                                   "opsgov never moves a tag (fix: the operation is already closed; 'opsgov ledger "
                                   "show' shows its entry)")
    assert recorded.git("rev-parse", TAG) == before


def test_tag_at_a_revision_without_the_records_is_refused(recorded: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli("tag", OP, "HEAD~1")
    assert (code, out) == (1, (
        f"refs/tags/{TAG}:1:1: T010 {OP} has no ledger entry at HEAD~1 (fix: record it and commit it, then tag)\n"
        "Found 1 error(s), 0 warning(s).\n"
        f"opsgov: refusing to tag {OP}: fix the above and run again\n"))
    code, out, _ = run_cli("tag", "OPS-2026-01-27-009")
    assert code == 1 and out.count("T010") == 2
    assert recorded.git("tag", "--list") == ""


def test_uncommitted_records_are_not_enough(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    run_cli(*record_args())
    code, out, _ = run_cli("tag", OP)
    assert code == 1 and "T010" in out and declared.git("tag", "--list") == ""


def test_any_rule_failure_refuses_the_tag(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    # (signed approvals, on by default for a custom class, are not what this test is about)
    declared.write(".opsgov.yaml", "custom_risk_classes: [DB_MIGRATION]\n"
                                   "require_signed_approvals: {DB_MIGRATION: false}\n")
    declare(declared, OP, commit=False, RISK_CLASS="DB_MIGRATION")
    declared.write("ops/ledger/2026-01.yaml", entry_text(OP, risk_class="DB_MIGRATION", approved_by="SELF"))
    declared.commit("self-approved high-risk operation")
    code, out, _ = run_cli("tag", OP)
    assert (code, out.splitlines()[0]) == (1, (
        f"ops/ledger/2026-01.yaml:5:14: L102 {OP}: DB_MIGRATION requires sign-off by someone other than the "
        "requester, but approved_by is 'SELF' (fix: name the approver in approved_by (or set solo_mode: true for a "
        "one-person team))"))
    assert declared.git("tag", "--list") == ""


def test_a_broken_record_anywhere_refuses_the_tag(recorded: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    recorded.write("ops/operations/OPS-2026-01-28-001.md", "---\nOPERATION_ID: [\n---\n")
    recorded.commit("broken declaration")
    code, out, _ = run_cli("tag", OP, "--format", "json")
    assert code == 1 and '"code": "F005"' in out and recorded.git("tag", "--list") == ""


def test_a_bad_rollback_reference_refuses_the_tag(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli(*record_args(rollback_ref="0" * 40))
    assert code == 1 and " H006 " in out   # 'ledger record' runs the gate's rules first, and writes nothing
    assert run_cli(*record_args())[0] == 0
    ledger = next((declared.path / "ops" / "ledger").glob("*.yaml"))
    text = ledger.read_text(encoding="utf-8")
    ledger.write_text(re.sub(r"(?m)^rollback_ref: .*$", "rollback_ref: " + "0" * 40, text), encoding="utf-8")
    declared.commit("record, its reference edited by hand")
    code, out, _ = run_cli("tag", OP)
    assert code == 1 and " H006 " in out


def test_usage_problems(recorded: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("tag", "ops-2026-01-27-001") == (
        2, "", "opsgov: error: 'ops-2026-01-27-001' is not an operation id: write OPS-YYYY-MM-DD-NNN with a real date "
               "(e.g. OPS-2026-01-27-001)\n")
    assert run_cli("tag", OP, "no-such-rev") == (2, "", "opsgov: error: cannot resolve 'no-such-rev' to a commit\n")
    code, _out, err = run_cli("tag", OP, "--remote", "nowhere")
    assert code == 2 and err.startswith("opsgov: error: git ls-remote failed:")
    code, _out, err = run_cli("tag", OP, "--remote=--upload-pack=touch pwned")  # never read as a git option
    assert (code, err) == (2, "opsgov: error: git ls-remote failed: fatal: strange pathname '--upload-pack=touch pwned' "
                                 "blocked\n")
    assert not (recorded.path / "pwned").exists() and recorded.git("tag", "--list") == ""


def test_never_opens_an_editor(recorded: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    recorded.git("config", "core.editor", "sh -c 'exit 3'")
    monkeypatch.setenv("GIT_EDITOR", "false")
    monkeypatch.setenv("EDITOR", "false")
    assert run_cli("tag", OP)[0] == 0
    assert _tag_message(recorded) == MESSAGE


def _remote(tmp_path: Path, repo: Repo) -> Path:
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    repo.git("remote", "add", "origin", str(bare))
    repo.git("push", "-q", "origin", "main")
    return bare


def test_remote_push(recorded: Repo, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bare = _remote(tmp_path, recorded)
    head = recorded.head()
    assert run_cli("tag", OP, "--remote", "origin") == (
        0, f"created tag {TAG} at {head[:12]}\npushed tag {TAG} to origin\n", "")
    remote_tags = subprocess.run(["git", "ls-remote", "--tags", str(bare)], capture_output=True, text=True).stdout
    assert remote_tags == f"{recorded.git('rev-parse', TAG).strip()}\trefs/tags/{TAG}\n" + \
        f"{head}\trefs/tags/{TAG}^{{}}\n"


def _taken_by_another_branch(tmp_path: Path, bare: Path) -> str:
    other = init_repo(tmp_path / "other")
    other.git("fetch", "-q", str(bare), "main")
    other.git("reset", "-q", "--hard", "FETCH_HEAD")
    declare(other, OP, commit=False, OPERATION_NAME="Rotate nginx logs")
    other.write("ops/ledger/2026-01.yaml", entry_text(OP, operation_name="'Rotate nginx logs'"))
    other.commit("the same id on another branch")
    other.git("tag", "-a", "-m", "taken", TAG)
    other.git("push", "-q", str(bare), f"refs/tags/{TAG}")
    return other.git("rev-parse", TAG).strip()


def test_remote_tag_taken_first_by_another_branch(recorded: Repo, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bare = _remote(tmp_path, recorded)
    taken = _taken_by_another_branch(tmp_path, bare)
    code, out, _ = run_cli("tag", OP, "--remote", "origin")
    assert (code, out.splitlines()[0]) == (1, (
        f"refs/tags/{TAG}:1:1: T009 tag {TAG} already exists on origin (object {taken[:12]}): another branch took "
        "this id first (fix: give this operation a new id ('opsgov new') and move its records)"))
    assert recorded.git("tag", "--list") == ""


def test_push_rejected_when_the_remote_took_the_tag_meanwhile(recorded: Repo, run_cli, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                             monkeypatch) -> None:
    bare = _remote(tmp_path, recorded)
    _taken_by_another_branch(tmp_path, bare)
    monkeypatch.setattr(Git, "remote_tags", lambda self, remote, names: {})  # the check ran before the other push
    code, out, _ = run_cli("tag", OP, "--remote", "origin")
    lines = out.splitlines()
    assert code == 1 and lines[0] == f"created tag {TAG} at {recorded.head()[:12]}"
    assert lines[1].startswith(f"refs/tags/{TAG}:1:1: T009 origin refused tag {TAG}: another branch took this id "
                               "first (")
    assert lines[1].endswith(f"(fix: the local tag remains: delete it with 'git tag -d {TAG}' and give the "
                             "operation a new id)")


def test_tags_backend_the_message_is_the_entry(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    declared.write(".opsgov.yaml", "ledger:\n  backend: tags\n")
    declared.commit("tags backend")
    assert run_cli(*record_args()) == (
        0, f"recorded {OP} in .git/opsgov/pending/{OP}.yaml:1\n", "")
    # The entry waits outside the tree; only the record's section 6 changed.
    assert declared.git("status", "--porcelain") == f" M ops/operations/{OP}.md\n"
    assert run_cli("tag", OP)[0] == 0
    assert _tag_message(declared) == ENTRY_YAML
    assert not (declared.path / ".git/opsgov/pending" / f"{OP}.yaml").exists()
    assert run_cli("validate") == (0, "", "")
    assert run_cli("ledger", "show", OP) == (0, f"# refs/tags/{TAG}:1 (sealed in tag {TAG})\n---\n" + ENTRY_YAML, "")
    assert run_cli(*record_args())[0] == 1  # sealed: T009
    code, _out, err = run_cli("ledger", "rollback", OP, "--at", "now", "--evidence", "x")
    assert code == 2 and err.startswith(f"opsgov: error: {OP} is sealed in tag {TAG} and opsgov never moves a tag")


def test_tags_backend_without_a_pending_entry(declared: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    declared.write(".opsgov.yaml", "ledger:\n  backend: tags\n")
    declared.commit("tags backend")
    code, out, _ = run_cli("tag", OP)
    assert (code, out.splitlines()[0]) == (1, (
        f"refs/tags/{TAG}:1:1: T010 {OP} has no ledger entry at HEAD (fix: record it with 'opsgov ledger record', "
        "then tag)"))
