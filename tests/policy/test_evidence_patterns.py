"""Default evidence patterns recognise a verification program where a command runs, never a word."""
from __future__ import annotations

import re

import pytest

from opsgov_hooks.policy.config import DEFAULT_EVIDENCE


def kinds(command: str) -> list[str]:
    return [kind for kind, patterns in DEFAULT_EVIDENCE.items() if any(re.search(p, command) for p in patterns)]


@pytest.mark.parametrize(("command", "expected"), [
    ("curl -fsS http://localhost:9090/-/healthy", ["functional"]),
    ("curl --fail https://example.com/health", ["functional"]),
    ("sudo curl -sf http://127.0.0.1:8080/ready", ["functional"]),
    ("wget -q --spider http://localhost:3000/", ["functional"]),
    ("promtool check config ops/monitoring/prometheus.yml", ["functional"]),
    ("amtool check-config alertmanager.yml", ["functional"]),
    ("nginx -t", ["functional"]),
    ("opsgov validate .opsgov.yaml", ["functional"]),
    ("systemctl is-active prometheus", ["status"]),
    ("systemctl --user status grafana", ["status"]),
    ("sh -c '! journalctl -u prometheus --since -10min | grep -iE \"error|fail|panic|fatal\"'", ["logs"]),
    ("journalctl -u prometheus -p err", ["logs"]),
])
def test_verification_programs_count(command: str, expected: list[str]) -> None:
    assert kinds(command) == expected


@pytest.mark.parametrize("command", [
    "echo health", "echo healthy", "grep -q health ops/x.yml", "curl http://localhost/health",
    "echo curl -f http://localhost/health", "echo systemctl is-active prometheus", "true promtool check config x",
    "echo opsgov validate",
])
def test_words_are_no_evidence(command: str) -> None:
    assert kinds(command) == []


def test_echo_health_does_not_meet_the_gate(repo: object, run_cli: object) -> None:
    from conftest import Repo, declaration_text, entry_text

    assert isinstance(repo, Repo)
    record = declaration_text()
    assert "$ curl -fsS http://localhost:9090/-/healthy" in record
    repo.write("ops/operations/OPS-2026-01-27-001.md", record.replace("$ curl -fsS", "$ echo health curl -fsS"))
    repo.write("ops/ledger/2026-01.yaml", entry_text())
    code, out, _ = run_cli("validate", "-C", str(repo.path))  # type: ignore[operator]
    assert code == 1
    x012 = [line for line in out.splitlines() if " X012 " in line]
    assert x012 == [
        "ops/operations/OPS-2026-01-27-001.md:" + x012[0].split(":", 2)[1] + ":1: X012 LOW_RISK_CONFIG needs "
        "functional evidence: no passing step has a verification command that counts as functional (fix: record "
        "a step with e.g. opsgov run OPS-2026-01-27-001 --verify 'curl -fsS http://localhost:PORT/health' -- "
        "COMMAND (evidence_patterns in the config say what counts))"]
