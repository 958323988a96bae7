"""One command analysis for services, NOT ALLOWED and what opsgov cannot read (X010, X011, X021).

Black box: ``opsgov run`` refuses before anything runs, and ``opsgov validate`` / ``opsgov check --all``
report a recorded step that breaks the contract (a log edited by hand included).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import Repo
from execution_helpers import OP, RECORD, runbook, step
from security_helpers import finding_codes, opsgov

DECLARE = ["new", "--name", "Tune nginx", "--objective", "Reduce load", "--risk", "LOW_RISK_CONFIG",
           "--blast-radius", "the web tier", "--rollback", "git revert", "--path", "ops/web/**",
           "--service", "nginx", "--date", "2026-01-27"]


@pytest.fixture
def declared(repo: Repo) -> Repo:
    code, out, err = opsgov(repo.path, *DECLARE)
    assert code == 0, out + err
    return repo


def _run(repo: Repo, *argv: str, verify: str | None = None) -> tuple[int, str, str]:
    return opsgov(repo.path, "run", OP, *(["--verify", verify] if verify else []), "--", *argv)


REFUSED_FORBIDDEN = [
    ["/usr/sbin/iptables", "-F"],
    ["env", "iptables", "-F"],
    ["env", "-i", "PATH=/usr/sbin", "iptables", "-F"],
    ["sudo", "-u", "root", "iptables", "-F"],
    ["sudo", "-E", "-n", "--", "/sbin/iptables", "-F"],
    ["sh", "-c", "true; iptables -F"],
    ["bash", "-c", "true && echo x | /usr/sbin/iptables -F"],
    ["sh", "-c", "echo -F | xargs iptables"],
    ["timeout", "5", "nice", "-n", "5", "iptables", "-F"],
]


@pytest.mark.parametrize("argv", REFUSED_FORBIDDEN, ids=lambda a: " ".join(a))
def test_run_refuses_wrapped_forbidden_commands_before_running(declared: Repo, argv: list[str]) -> None:
    before = declared.read(RECORD)
    code, out, err = _run(declared, *argv)
    assert (code, out) == (2, "")
    assert "breaks the NOT ALLOWED rule 'firewall-network-permissions'" in err and "Nothing was run." in err
    assert declared.read(RECORD) == before


def test_run_refuses_a_symlinked_name(declared: Repo, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    real = bin_dir / "iptables"
    real.write_text("#!/bin/sh\ntouch \"$0.ran\"\n", encoding="utf-8")
    real.chmod(0o755)
    (declared.path / "ipt").symlink_to(real)
    code, _out, err = _run(declared, "./ipt", "-F")
    assert code == 2 and "NOT ALLOWED rule 'firewall-network-permissions'" in err
    assert not (bin_dir / "iptables.ran").exists()


@pytest.mark.parametrize("argv, says", [
    (["sh", "-c", "echo postgresql | xargs systemctl restart"], "cannot tell which services"),
    (["systemctl", "restart", "nginx", "postgresql"], "acts on service 'postgresql'"),
    (["systemctl", "restart", "nginx-admin"], "acts on service 'nginx-admin'"),
    (["sudo", "-u", "root", "--", "/bin/systemctl", "restart", "nginx-admin"], "acts on service 'nginx-admin'"),
])
def test_run_refuses_services_outside_the_scope(declared: Repo, argv: list[str], says: str) -> None:
    code, out, err = _run(declared, *argv)
    assert (code, out) == (2, "") and says in err and "Nothing was run." in err


@pytest.mark.parametrize("argv", [
    ["python3", "-c", "import os; os.system('iptables -F')"],
    ["perl", "-e", "system('iptables -F')"],
    ["sh", "-c", "eval \"$CMD\""],
    ["bash", "deploy.sh"],
    ["./deploy.sh"],
    ["sh", "-c", "echo $(iptables -F)"],
])
def test_run_refuses_what_it_cannot_read_unless_allowed(declared: Repo, argv: list[str]) -> None:
    code, out, err = _run(declared, *argv)
    assert (code, out) == (2, "") and "opsgov cannot tell what" in err and "Nothing was run." in err
    declared.write(".opsgov.yaml", "opaque_commands: allow\n")
    code, _out, err = _run(declared, *argv)
    assert "opsgov cannot tell what" not in err


def test_run_allows_the_allowed_service_and_read_only_commands(declared: Repo) -> None:
    code, _out, err = _run(declared, "sh", "-c", "echo restart | xargs echo && systemctl --version >/dev/null || true",
                           verify="sh -c 'systemctl is-active nginx-admin || true'")
    assert "HALT" not in err


def _hand_edited(repo: Repo, command: str) -> tuple[int, list[str], str]:
    repo.write(RECORD, runbook(steps=step(1, command)))
    code, out, err = opsgov(repo.path, "validate")
    return code, finding_codes(out), out


@pytest.mark.parametrize("command, code_expected", [
    ("env iptables -F", "X011"),
    ("/usr/sbin/iptables -F", "X011"),
    ("sudo -u root iptables -F", "X011"),
    ("sh -c 'true; iptables -F'", "X011"),
    ("sh -c 'echo postgresql | xargs systemctl restart'", "X010"),
    ("systemctl restart prometheus postgresql", "X010"),
    ("systemctl restart prometheus-admin", "X010"),
    ("python3 -c 'import os'", "X021"),
    ("eval iptables", "X021"),
])
def test_validate_reports_a_recorded_step_that_breaks_the_contract(repo: Repo, command: str,
                                                                  code_expected: str) -> None:
    code, found, out = _hand_edited(repo, command)
    assert code == 1 and found == [code_expected], out


def test_check_all_reports_it_too(repo: Repo) -> None:
    repo.write(RECORD, runbook(steps=step(1, "env iptables -F")))
    repo.commit("a hand-edited log")
    code, out, _err = opsgov(repo.path, "check", "--all")
    assert code == 1 and "X011" in finding_codes(out)


def test_opaque_recorded_step_passes_when_the_config_allows_it(repo: Repo) -> None:
    repo.write(".opsgov.yaml", "opaque_commands: allow\n")
    code, found, out = _hand_edited(repo, "python3 -c 'import os'")
    assert (code, found) == (0, []), out


def test_the_allowed_service_passes(repo: Repo) -> None:
    code, found, out = _hand_edited(repo, "sudo -u root /bin/systemctl restart prometheus.service")
    assert (code, found) == (0, []), out


def test_no_import_circle_between_the_command_modules() -> None:
    import ast

    source = Path(__file__).resolve().parents[2] / "opsgov_hooks" / "execution" / "servicecmds.py"
    imported = [n.module for n in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
                if isinstance(n, ast.ImportFrom)]
    assert "opsgov_hooks.execution.cmdpolicy" not in imported
    assert os.path.exists(source)
