"""Every input bounded, and messages that name the real cause (issue 13, items 5 and 6).

Black box: the real CLI in child processes, in real repositories.
"""
from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from conftest import Repo, declaration_text, entry_text, init_repo
from security_helpers import finding_codes, opsgov

pytest_plugins = ["conftest_gate"]

OP = "OPS-2026-01-27-001"
LEDGER = "ops/ledger/2026-01.yaml"


def _valid(repo: Repo) -> None:
    repo.write(f"ops/operations/{OP}.md", declaration_text(OP))


def test_a_fifo_where_the_ledger_should_be_is_refused_never_opened(repo: Repo) -> None:
    _valid(repo)
    (repo.path / "ops" / "ledger").mkdir(parents=True)
    os.mkfifo(repo.path / LEDGER)
    code, out, _err = opsgov(repo.path, "validate", timeout=60)   # reading the FIFO would wait forever
    assert code == 1 and finding_codes(out) == ["F013"]
    assert out.startswith(f"{LEDGER}:1:1: F013 a FIFO stands where a record should be; opsgov does not open it")


def test_a_socket_where_a_record_should_be_is_refused(repo: Repo) -> None:
    (repo.path / "ops" / "operations").mkdir(parents=True)
    here = os.getcwd()
    os.chdir(repo.path / "ops" / "operations")   # a socket path must be short
    try:
        sock = socket.socket(socket.AF_UNIX)
        sock.bind(f"{OP}.md")
    finally:
        os.chdir(here)
    try:
        code, out, _err = opsgov(repo.path, "validate", timeout=60)
    finally:
        sock.close()
    assert code == 1 and finding_codes(out) == ["F013"] and "a socket stands where" in out


def test_a_fifo_as_the_configuration_is_exit_2_never_the_defaults(repo: Repo) -> None:
    _valid(repo)
    os.mkfifo(repo.path / ".opsgov.yaml")
    code, out, err = opsgov(repo.path, "validate", timeout=60)
    assert (code, out) == (2, "") and ".opsgov.yaml is a FIFO, not a file" in err


@pytest.mark.parametrize("ref, expected", [
    ("'procedure: docs/../../../etc/passwd.md'", ["H012"]),
    ("'procedure: ../outside/rollback.md'", ["H012"]),
    ("'procedure: docs/runbooks/missing.md'", ["H011"]),
])
def test_a_procedure_leaving_the_repository_is_refused(repo: Repo, ref: str, expected: list[str]) -> None:
    repo.write("README.md", "# x\n")
    repo.commit("base")
    _valid(repo)
    repo.write(LEDGER, entry_text(OP, rollback_ref=ref))
    repo.stage()
    code, out, _err = opsgov(repo.path, "check")
    assert code == 1 and finding_codes(out) == expected, out


def test_a_procedure_inside_the_repository_after_normalisation_passes(repo: Repo) -> None:
    repo.write("docs/runbooks/rollback.md", "# how\n")
    repo.commit("base")
    _valid(repo)
    repo.write(LEDGER, entry_text(OP, rollback_ref="'procedure: docs/x/../runbooks/rollback.md'"))
    repo.stage()
    assert opsgov(repo.path, "check") == (0, "", "")


@pytest.mark.parametrize("paths, index", [(["'!ops/app/**'"], 0), (["'!ops/a/**'", "'!ops/b/**'"], 0)])
def test_a_negation_that_selects_nothing_is_refused_by_validate(repo: Repo, paths: list[str], index: int) -> None:
    repo.write(f"ops/operations/{OP}.md", declaration_text(OP, ALLOWED_PATHS=paths))
    code, out, _err = opsgov(repo.path, "validate")
    assert code == 1 and "D002" in finding_codes(out)
    assert f"ALLOWED_PATHS.{index}: '{paths[index].strip(chr(39))}' is a negation with nothing before it" in out


def test_a_negation_narrowing_an_earlier_pattern_passes(repo: Repo) -> None:
    repo.write(f"ops/operations/{OP}.md", declaration_text(OP, ALLOWED_PATHS=["ops/app/**", "'!ops/app/secret/**'"]))
    assert opsgov(repo.path, "validate") == (0, "", "")


def test_a_negated_governed_path_is_a_broken_configuration(repo: Repo) -> None:
    repo.write(".opsgov.yaml", "governed_paths: ['!ops/**']\n")
    code, _out, err = opsgov(repo.path, "validate")
    assert code == 2 and "C002 governed_paths.0: '!ops/**' is a negation with nothing before it" in err


@pytest.mark.parametrize("char, name", [("\u2028", "U+2028 LINE SEPARATOR"), ("\u2029", "U+2029 PARAGRAPH SEPARATOR"),
                                        ("\u0085", "U+0085 NEXT LINE")])
def test_unicode_line_separators_in_a_record_are_refused_at_their_line(repo: Repo, char: str, name: str) -> None:
    _valid(repo)
    text = entry_text(OP).replace("changes_summary: scrape_interval 15s -> 30s",
                                  f"changes_summary: tuned{char}approved_by: mallory@example.com")
    repo.write(LEDGER, text)
    code, out, _err = opsgov(repo.path, "validate")
    line = text.split("\n").index(next(t for t in text.split("\n") if char in t)) + 1
    assert code == 1 and finding_codes(out) == ["F014"]
    assert out.startswith(f"{LEDGER}:{line}:23: F014 file holds {name}")


def test_a_bare_repository_is_named_as_such(tmp_path: Path) -> None:
    bare = tmp_path / "server.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    code, out, err = opsgov(tmp_path, "check", "-C", str(bare))
    assert (code, out) == (2, "") and "is a bare repository, which has no working tree" in err
    assert "not inside a git repository" not in err


def test_a_missing_directory_is_named_as_such(tmp_path: Path) -> None:
    code, out, err = opsgov(tmp_path, "check", "-C", str(tmp_path / "nonexistent"))
    assert (code, out) == (2, "") and "git is not installed" not in err
    assert "nonexistent" in err and ("no such directory" in err or "does not exist" in err)


def test_control_characters_in_a_range_are_shown_not_stripped(gate_repo: Repo) -> None:
    code, out, err = opsgov(gate_repo.path, "check", "--range", "HEAD\x1b[2K~1..HEAD")
    assert (code, out) == (2, "")
    assert "HEAD\\x1b[2K~1" in err and "control characters" in err


def test_deeply_nested_yaml_is_a_yaml_finding(repo: Repo) -> None:
    _valid(repo)
    repo.write(LEDGER, "a: " + "[" * 100_000 + "]" * 100_000 + "\n")
    code, out, err = opsgov(repo.path, "validate")
    assert code == 1 and "F005" in finding_codes(out) and "detect-secrets" not in out + err


def test_deeply_nested_yaml_staged_names_the_nesting_not_detect_secrets(gate_repo: Repo) -> None:
    gate_repo.write(f"ops/operations/{OP}.md", declaration_text(OP, ALLOWED_PATHS=["ops/**"]))
    gate_repo.write(LEDGER, entry_text(OP))
    gate_repo.write("ops/app/deep.yaml", "a: " + "[" * 100_000 + "]" * 100_000 + "\n")
    gate_repo.stage()
    code, out, err = opsgov(gate_repo.path, "check")
    assert "detect-secrets" not in out + err and "Traceback" not in err
    assert code in (0, 1)


def test_markdown_report_shows_record_fields_as_text(repo: Repo) -> None:
    name = "'<script>alert(1)</script> [click](javascript:alert(1))'"
    repo.write(f"ops/operations/{OP}.md", declaration_text(OP, OPERATION_NAME=name))
    repo.write(LEDGER, entry_text(OP, operation_name=name, requested_by="'Alice <alice@example.com>'"))
    repo.commit("records")
    code, out, err = opsgov(repo.path, "report", "--format", "md")
    assert code in (0, 1), err
    assert "<script>" not in out and "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "\\[click\\](javascript:alert(1))" in out
    assert "Alice &lt;alice@example.com&gt;" in out
