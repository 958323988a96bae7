"""``opsgov prompt`` and its standard wrapper ``ops/ops_prompt_fill.py``."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Repo, declaration_text
from execution_helpers import OP, RECORD
from opsgov_hooks.policy.config import default_policy
from opsgov_hooks.records.declaration import parse_operation_record
from opsgov_hooks.lifecycle.templating import PROMPT_TEMPLATE, packaged_template, render, template_values

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def here(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Repo:
    repo.write(RECORD, declaration_text(ALLOWED_SERVICES=["prometheus", "grafana-server"]))
    repo.chdir(monkeypatch)
    return repo


def test_prints_the_canonical_prompt_filled(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("prompt", OP)
    assert (code, err) == (0, "")
    declaration, _ = parse_operation_record(RECORD, here.read(RECORD).encode(), default_policy())
    assert declaration is not None
    assert out == render(packaged_template(PROMPT_TEMPLATE), template_values(declaration, default_policy()))
    assert "{{" not in out
    assert ("SCOPE CONTRACT\nALLOWED:\n- Modify ONLY files under: ops/monitoring/**\n"
            "- Restart/reload ONLY services: prometheus, grafana-server\n"
            "- Read-only inspection of logs/config/metrics/status\n\nNOT ALLOWED:\n"
            "- No trading logic modifications\n- No writes to trading Redis streams\n") in out
    assert ("- If a verification FAILS: STOP and execute the rollback strategy:\n"
            "    git revert the config commit and reload prometheus\n") in out
    assert f"    opsgov run {OP} --verify \"<verification command>\" -- <exact command>\n" in out


def test_repository_prompt_template_is_used(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    here.write("ops/ops_prompt_template_v1.txt", "Run {{ OPERATION_ID }} ({{ RISK_CLASS }}) on {{ ALLOWED_SERVICES }}"
                                                 " only; rollback: {{ ROLLBACK_STRATEGY }}")
    assert run_cli("prompt", OP) == (0, f"Run {OP} (LOW_RISK_CONFIG) on prometheus, grafana-server only; rollback: "
                                        "git revert the config commit and reload prometheus\n", "")


def test_unknown_placeholder_in_the_prompt_template(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    here.write("ops/ops_prompt_template_v1.txt", "Operation {{ OPERATION_ID }}\nTicket: {{ TICKET }}\n")
    code, out, err = run_cli("prompt", OP)
    assert (code, out) == (2, "")
    assert err.startswith("opsgov: error: the template ops/ops_prompt_template_v1.txt cannot be filled:\n"
                          "ops/ops_prompt_template_v1.txt:2:9: unknown placeholder {{ TICKET }} (known: ")


def test_undeclared_operation(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("prompt", "OPS-2026-01-27-002") == (2, "", (
        "opsgov: error: OPS-2026-01-27-002 is not declared: ops/operations/OPS-2026-01-27-002.md does not exist "
        "(declare it with 'opsgov new')\n"))


def test_not_an_id(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("prompt", "../../etc/passwd") == (2, "", (
        "opsgov: error: '../../etc/passwd' is not an operation id: write OPS-YYYY-MM-DD-NNN, e.g. "
        "OPS-2026-01-27-001\n"))


def test_invalid_record(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    here.write(RECORD, declaration_text(BLAST_RADIUS=None))
    code, out, err = run_cli("prompt", OP)
    assert (code, out) == (2, "")
    assert err.startswith(f"opsgov: error: the record of {OP} is not valid:\n{RECORD}:2:1: D001 mandatory field "
                          "'BLAST_RADIUS' is missing")


def test_ops_prompt_fill_wrapper(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    shutil.copy(ROOT / "ops" / "ops_prompt_fill.py", here.path / "ops" / "ops_prompt_fill.py")
    proc = subprocess.run([sys.executable, "ops/ops_prompt_fill.py", OP], cwd=here.path, capture_output=True,
                          stdin=subprocess.DEVNULL)
    assert (proc.returncode, proc.stderr) == (0, b"")
    assert proc.stdout.decode() == run_cli("prompt", OP)[1]
    missing = subprocess.run([sys.executable, "ops/ops_prompt_fill.py", "OPS-2026-01-27-009"], cwd=here.path,
                             capture_output=True, stdin=subprocess.DEVNULL)
    assert missing.returncode == 2
