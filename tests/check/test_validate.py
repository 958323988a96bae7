"""`opsgov validate`: exit codes, output formats, PATH arguments, outside a repository, as a real process."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Repo, declaration_text, entry_text

OP = "ops/operations/OPS-2026-01-27-001.md"
LEDGER = "ops/ledger/2026-01.yaml"


@pytest.fixture
def records(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """A repository with one valid operation and its ledger entry, as the current directory."""
    repo.write(OP, declaration_text())
    repo.write(LEDGER, entry_text())
    repo.chdir(monkeypatch)
    return repo


def _opsgov() -> list[str]:
    """The installed console script of this environment (next to its python)."""
    script = Path(sys.executable).with_name("opsgov")
    return [str(script)] if script.exists() else [sys.executable, "-m", "opsgov_hooks"]


def test_clean_repository_exit_0(records: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("validate") == (0, "", "")


def test_empty_repository_exit_0(repo: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo.chdir(monkeypatch)
    assert run_cli("validate") == (0, "", "")


def test_findings_exit_1_text(records: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    records.write(LEDGER, entry_text(outcome="DONE"))
    assert run_cli("validate", "--format", "text") == (1, (
        f"{LEDGER}:12:10: L002 outcome: 'DONE' is not one of SUCCESS, ROLLBACK, PARTIAL "
        "(fix: SUCCESS, ROLLBACK or PARTIAL.)\nFound 1 error(s), 0 warning(s).\n"), "")


def test_json_format(records: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    records.write(LEDGER, entry_text(outcome="DONE"))
    code, out, err = run_cli("validate", "--format", "json")
    assert (code, err) == (1, "")
    assert json.loads(out) == {"ok": False, "findings": [{
        "code": "L002", "severity": "error", "path": LEDGER, "line": 12, "column": 10,
        "message": "outcome: 'DONE' is not one of SUCCESS, ROLLBACK, PARTIAL", "hint": "SUCCESS, ROLLBACK or PARTIAL.", "commit": None,
    }]}


def test_json_format_clean(records: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("validate", "--format", "json")
    assert (code, json.loads(out), err) == (0, {"ok": True, "findings": []}, "")


def test_github_format(records: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    records.write(LEDGER, entry_text(outcome="DONE"))
    code, out, _ = run_cli("validate", "--format", "github")
    assert (code, out) == (1, f"::error file={LEDGER},line=12,col=10,title=L002::L002 outcome: 'DONE' is not one "
                              "of SUCCESS, ROLLBACK, PARTIAL (fix: SUCCESS, ROLLBACK or PARTIAL.)\n")


def test_unknown_format_is_exit_2(records: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("validate", "--format", "xml")
    assert (code, out) == (2, "")
    assert "Invalid value for '--format'" in err and "Traceback" not in err


# -- PATH arguments ----------------------------------------------------------------------

def test_explicit_record_paths(records: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("validate", OP, LEDGER) == (0, "", "")
    records.write("ops/operations/OPS-2026-01-28-001.md", declaration_text("OPS-2026-01-28-001", OBJECTIVE=None))
    # Only the named file is reported on, though the other record is broken.
    assert run_cli("validate", OP) == (0, "", "")
    code, out, _ = run_cli("validate", "ops/operations/OPS-2026-01-28-001.md")
    assert code == 1 and out.startswith("ops/operations/OPS-2026-01-28-001.md:2:1: D001 mandatory field 'OBJECTIVE'")


def test_a_named_file_is_still_checked_against_the_others(records: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    records.write(LEDGER, entry_text(operation_name="Renamed"))
    code, out, _ = run_cli("validate", LEDGER)
    assert code == 1 and out.startswith(f"{LEDGER}:3:17: L006 operation_name 'Renamed' differs")
    assert run_cli("validate", OP) == (0, "", "")   # the finding belongs to the ledger file


def test_a_directory_names_the_records_under_it(records: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    records.write(LEDGER, entry_text(outcome="DONE"))
    assert run_cli("validate", "ops/operations") == (0, "", "")
    code, out, _ = run_cli("validate", "ops")
    assert code == 1 and out.startswith(f"{LEDGER}:12:10: L002")


def test_the_config_file_as_a_path(records: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    records.write(".opsgov.yaml", "solo_mode: true\n")
    assert run_cli("validate", ".opsgov.yaml") == (0, "", "")
    records.write(".opsgov.yaml", "solo_mode: maybe\n")
    code, out, err = run_cli("validate", ".opsgov.yaml")
    assert (code, out) == (2, "") and ".opsgov.yaml:1:12: C001 solo_mode: 'maybe' is not of type boolean" in err


def test_a_path_that_is_not_a_record_is_exit_2(records: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    records.write("README.md", "# hi\n")
    assert run_cli("validate", "README.md") == (2, "", (
        "opsgov: error: not a record file of this repository's policy: README.md (operation records live in "
        "ops/operations/, the ledger in ops/ledger)\n"))


def test_a_path_outside_the_repository_is_exit_2(records: Repo, run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    outside = tmp_path / "elsewhere.md"
    outside.write_text("x")
    code, out, err = run_cli("validate", str(outside))
    assert (code, out) == (2, "") and err.startswith("opsgov: error: not a record file of this repository's policy")


def test_a_missing_path_is_exit_2(records: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("validate", "ops/operations/OPS-2026-01-27-009.md") == (
        2, "", "opsgov: error: no such file: ops/operations/OPS-2026-01-27-009.md\n")


def test_paths_are_relative_to_the_current_directory(records: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    records.write(LEDGER, entry_text(outcome="DONE"))
    monkeypatch.chdir(records.path / "ops" / "ledger")
    code, out, _ = run_cli("validate", "2026-01.yaml")
    assert code == 1 and out.startswith(f"{LEDGER}:12:10: L002")


def test_repo_option_makes_paths_relative_to_it(records: Repo, run_cli, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    assert run_cli("validate", "-C", str(records.path), OP) == (0, "", "")
    assert run_cli("validate", "-C", str(records.path)) == (0, "", "")


def test_repo_option_with_a_missing_directory_is_exit_2(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    missing = tmp_path / "nope"
    assert run_cli("validate", "-C", str(missing)) == (
        2, "", f"opsgov: error: {missing} is not a directory; pass the repository with -C\n")


# -- outside a git repository ------------------------------------------------------------

def test_outside_a_repository_the_directory_is_validated(tmp_path: Path, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # No git needed: `validate` checks the files on disk (the tags backend, which needs git, is exit 2).
    plain = tmp_path / "export"
    (plain / "ops" / "operations").mkdir(parents=True)
    (plain / OP).write_text(declaration_text(RISK_CLASS="NOPE"))
    monkeypatch.chdir(plain)
    code, out, err = run_cli("validate")
    assert (code, err) == (1, "")
    assert out.startswith(f"{OP}:5:13: D004 unknown RISK_CLASS NOPE")


def test_unreadable_record_is_a_finding(records: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    (records.path / "ops/operations/OPS-2026-01-28-001.md").symlink_to("does-not-exist.md")
    assert run_cli("validate") == (1, "ops/operations/OPS-2026-01-28-001.md:1:1: F012 the file cannot be read\n"
                                      "Found 1 error(s), 0 warning(s).\n", "")


# -- as a real process ------------------------------------------------------------------

def test_real_process_exit_codes_and_no_traceback(records: Repo, tmp_path: Path) -> None:
    env = {**os.environ, "GITHUB_ACTIONS": ""}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*_opsgov(), *args], cwd=records.path, capture_output=True, text=True, env=env,
                              timeout=60)

    ok = run("validate")
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "", "")
    records.write(LEDGER, b"operation_id: &a x\nb: *a\n" + b"\xff")
    bad = run("validate", "--format", "json")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert json.loads(bad.stdout)["findings"][0]["code"] == "F001"
    records.write(".opsgov.yaml", "ledger: [")
    broken = run("validate")
    assert (broken.returncode, broken.stdout) == (2, "")
    assert broken.stderr.startswith("opsgov: error: the opsgov configuration is broken:\n.opsgov.yaml:2:1: F005 ")
    assert "Traceback" not in broken.stderr


def test_real_process_outside_a_repository_with_tags_backend(tmp_path: Path) -> None:
    (tmp_path / ".opsgov.yaml").write_text("ledger: {backend: tags}\n")
    proc = subprocess.run([*_opsgov(), "validate"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (f"opsgov: error: {tmp_path} is not inside a git repository; run opsgov from a clone of "
                           "the repository (or 'git init' first)\n")


def test_real_process_hostile_files_are_refused(records: Repo) -> None:
    laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    laughs += [f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]" for p, c in zip("abcdefgh", "bcdefghi")]
    records.write(LEDGER, "\n".join(laughs) + "\n")
    records.write("ops/ledger/2026-02.yaml", b"x: " + b"y" * (2 * 1024 * 1024))
    proc = subprocess.run([*_opsgov(), "validate"], cwd=records.path, capture_output=True, text=True, timeout=60)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 1 and proc.stderr == ""
    assert lines[0] == f"{LEDGER}:1:4: F007 YAML anchor '&a' is not allowed in records (fix: write the value out in full)"
    assert "ops/ledger/2026-02.yaml:1:1: F004 file is over the 1 MiB limit for records (1048576 bytes)" in proc.stdout


def test_module_entry_point(records: Repo) -> None:
    proc = subprocess.run([sys.executable, "-m", "opsgov_hooks", "validate"], cwd=records.path, capture_output=True,
                          text=True, timeout=60)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_git_not_needed_on_path_for_file_backends(records: Repo, tmp_path: Path) -> None:
    # validate reads files only: with no git at all it still works (the gate is another matter).
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    env = {**os.environ, "PATH": str(bin_dir)}
    assert shutil.which("git", path=str(bin_dir)) is None
    proc = subprocess.run([sys.executable, "-m", "opsgov_hooks", "validate"], cwd=records.path, capture_output=True,
                          text=True, env=env, timeout=60)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_a_record_that_links_out_of_the_repository_is_not_read(repo: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    outside = repo.path.parent / "outside.yaml"
    outside.write_text("secret: value-from-outside\n")
    (repo.path / "ops" / "ledger").mkdir(parents=True)
    (repo.path / "ops" / "ledger" / "2026-01.yaml").symlink_to(outside)
    repo.chdir(monkeypatch)
    code, out, _ = run_cli("validate")
    assert code == 1
    assert out.startswith("ops/ledger/2026-01.yaml:1:1: F012 ")
    assert "value-from-outside" not in out


def test_a_folder_of_records_that_links_out_of_the_repository_is_not_read(repo: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Regular files are read without resolving each path again, but only in a folder that resolves inside.
    outside = repo.path.parent / "elsewhere"
    outside.mkdir()
    (outside / "2026-01.yaml").write_text("secret: value-from-outside\n")
    (repo.path / "ops").mkdir(parents=True)
    (repo.path / "ops" / "ledger").symlink_to(outside)
    repo.write("ops/operations/OPS-2026-01-27-001.md", declaration_text("OPS-2026-01-27-001"))
    repo.chdir(monkeypatch)
    code, out, _ = run_cli("validate")
    assert code == 1
    assert out.startswith("ops/ledger/2026-01.yaml:1:1: F012 ")
    assert "value-from-outside" not in out
    (repo.path / "ops" / "ledger").unlink()
    repo.write("ops/kept/2026-01.yaml", entry_text("OPS-2026-01-27-001"))
    (repo.path / "ops" / "ledger").symlink_to("kept")   # a folder link that stays inside is followed
    assert run_cli("validate")[:2] == (0, "")
    repo.write("ops/kept/2026-01.yaml", entry_text("OPS-2026-01-27-001", outcome="MAYBE"))
    code, out, _ = run_cli("validate")
    assert code == 1 and out.startswith("ops/ledger/2026-01.yaml:") and "F012" not in out


def test_a_huge_committed_record_is_refused_without_reading_it_whole(repo: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from opsgov_hooks.git.gitio import Git
    from opsgov_hooks.git.sources import READ_LIMIT, CommitSource

    repo.write("ops/ledger/2026-01.yaml", b"# " + b"x" * (3 * 1024 * 1024) + b"\n")
    repo.write("ops/ledger/2026-02.yaml", entry_text("OPS-2026-02-01-001"))
    sha = repo.commit("huge")
    with Git(str(repo.path)) as git:
        got = CommitSource(git, sha).read_many(["ops/ledger/2026-01.yaml", "ops/ledger/2026-02.yaml"])
    assert len(got["ops/ledger/2026-01.yaml"] or b"") == READ_LIMIT
    # The batch process stays in step: the object after the huge one reads back whole.
    assert got["ops/ledger/2026-02.yaml"] == entry_text("OPS-2026-02-01-001").encode()


def test_quiet_prints_errors_only(repo: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo.write("ops/operations/OPS-2026-01-27-001.md", declaration_text(BLAST_RADIUS=None))
    repo.write("ops/operations/OPS-2026-01-27-002.md", declaration_text("OPS-2026-01-27-002"))
    repo.write("ops/ledger/2026-01.yaml", entry_text("OPS-2026-01-27-002", approved_by="SELF",
                                                      risk_class="SERVICE_RESTART"))
    repo.write("ops/operations/OPS-2026-01-27-002.md", declaration_text("OPS-2026-01-27-002",
                                                                        RISK_CLASS="SERVICE_RESTART"))
    repo.chdir(monkeypatch)
    code, out, _ = run_cli("validate")
    assert code == 1 and " warning: " in out and out.endswith("warning(s).\n")
    quiet_code, quiet_out, _ = run_cli("validate", "--quiet")
    assert quiet_code == 1
    assert quiet_out.splitlines() == [line for line in out.splitlines()
                                      if " warning: " not in line and not line.startswith("Found ")]
    assert quiet_out.splitlines()[0].startswith("ops/operations/OPS-2026-01-27-001.md:2:1: D001 ")
