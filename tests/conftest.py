"""Shared fixtures: real git repositories in temporary folders, with their own identity.

CI machines have no global git identity and no terminal, so every repository made
here sets its own identity and never signs or prompts.
"""
from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

# Every report a test makes is also checked in every CI format against its schema.
pytest_plugins = ["conftest_formats"]

IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Operator",
    "GIT_AUTHOR_EMAIL": "operator@example.com",
    "GIT_COMMITTER_NAME": "Test Operator",
    "GIT_COMMITTER_EMAIL": "operator@example.com",
}


@pytest.fixture(autouse=True)
def _isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user or system git config leaks into a test, and no prompt can hang it."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")
    # A finding whose code its rule does not declare in rules/registry.py fails the test.
    monkeypatch.setenv("OPSGOV_STRICT_CODES", "1")
    # pre-commit builds virtualenvs; virtualenv's background "periodic update" process
    # outlives the test that started it and writes its log into whatever runs next.
    monkeypatch.setenv("VIRTUALENV_NO_PERIODIC_UPDATE", "1")
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.delenv("PRE_COMMIT_FROM_REF", raising=False)
    monkeypatch.delenv("PRE_COMMIT_TO_REF", raising=False)
    for key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(key, raising=False)
    for key, value in IDENTITY.items():
        monkeypatch.setenv(key, value)


class Repo:
    """A real git repository in a temporary folder, with small helpers for tests."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def git(self, *args: str, check: bool = True, input: bytes | None = None) -> str:
        proc = subprocess.run(("git", *args), cwd=self.path, capture_output=True, input=input)
        if check and proc.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr.decode()}")
        return proc.stdout.decode("utf-8", "surrogateescape")

    def write(self, rel: str, content: str | bytes) -> Path:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
        return target

    def read(self, rel: str) -> str:
        return (self.path / rel).read_text(encoding="utf-8")

    def stage(self, *paths: str) -> None:
        self.git("add", "-A", "--", *(paths or (".",)))

    def commit(self, message: str = "change", *paths: str) -> str:
        self.stage(*paths)
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()

    def chdir(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(self.path)


def init_repo(path: Path) -> Repo:
    path.mkdir(parents=True, exist_ok=True)
    repo = Repo(path)
    repo.git("init", "-q", "-b", "main")
    repo.git("config", "user.name", IDENTITY["GIT_AUTHOR_NAME"])
    repo.git("config", "user.email", IDENTITY["GIT_AUTHOR_EMAIL"])
    repo.git("config", "commit.gpgsign", "false")
    repo.git("config", "tag.gpgsign", "false")
    return repo


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[Repo]:
    yield init_repo(tmp_path / "repo")


# -- record factories: valid by default, override any field ------------------------

def declaration_text(op_id: str = "OPS-2026-01-27-001", **overrides: object) -> str:
    fields: dict[str, object] = {
        "OPERATION_ID": op_id,
        "OPERATION_NAME": "Tune Prometheus scrape interval",
        "OBJECTIVE": "Reduce scrape load on the node exporter",
        "RISK_CLASS": "LOW_RISK_CONFIG",
        "BLAST_RADIUS": "Prometheus metrics freshness only",
        "ROLLBACK_STRATEGY": "git revert the config commit and reload prometheus",
        "ALLOWED_PATHS": ["ops/monitoring/**"],
        "ALLOWED_SERVICES": ["prometheus"],
    }
    fields.update(overrides)
    lines = ["---"]
    for key, value in fields.items():
        if value is None:
            continue
        if isinstance(value, list):
            lines.append(f"{key}:" + ("" if value else " []"))
            lines.extend(f"  - {item}" for item in value)
        else:
            lines.append(f"{key}: {value}")
    lines += ["---", "", f"# {op_id}", "", runbook_body(op_id)]
    return "\n".join(lines)


def runbook_body(op_id: str) -> str:
    """A finished runbook: one passing step with status, logs and functional evidence, the five report
    sections and a section 6 naming the operation, so a *closed* operation (one with a ledger entry) passes
    the execution and report rules (X, R) whatever its risk class and ledger fields."""
    checks = ["systemctl is-active prometheus", "active",
              "sh -c '! journalctl -u prometheus --since -10min | grep -iE \"error|fail|panic|fatal\"'", "(no output)",
              "curl -fsS http://localhost:9090/-/healthy", "Prometheus Server is Healthy."]
    verification = [f"    $ {c}\n    exit 0 in 0.01s" if i % 2 == 0 else f"    {c}" for i, c in enumerate(checks)]
    report = [f"### {name}\n\n{text}\n" for name, text in (
        ("EXEC SUMMARY", "Raised scrape_interval to 30s; Prometheus is healthy."),
        ("CHANGES MADE", "- ops/monitoring/prometheus.yml"), ("VERIFICATION EVIDENCE", "- /-/healthy: Healthy."),
        ("RISK ASSESSMENT", "Low."), ("NEXT SAFE ACTIONS", "- Watch the scrape duration panel."))]
    return "\n".join([
        "## 3) Execution log", "", "```text", "[STEP 1 | 2026-01-27T10:00:00Z]", "Command:",
        "    sed -i 's/scrape_interval: 15s/scrape_interval: 30s/' ops/monitoring/prometheus.yml", "Result:",
        "    exit 0 in 0.01s", "    (no output)", "Status: PASS", "Verification:", *verification, "```", "",
        "## 5) Report", "", *report, "## 6) Signoff & Ledger Entry", "", "```yaml", f"operation_id: {op_id}", "```",
        ""])


def entry_text(op_id: str = "OPS-2026-01-27-001", **overrides: object) -> str:
    fields: dict[str, object] = {
        "operation_id": op_id,
        "operation_name": "Tune Prometheus scrape interval",
        "requested_by": "alice@example.com",
        "approved_by": "bob@example.com",
        "approval_timestamp": "2026-01-27T09:00:00Z",
        "execution_timestamp": "2026-01-27T10:00:00Z",
        "risk_class": "LOW_RISK_CONFIG",
        "blast_radius": "Prometheus metrics freshness only",
        "changes_summary": "scrape_interval 15s -> 30s",
        "rollback_ref": "'command: git revert HEAD'",
        "outcome": "SUCCESS",
    }
    fields.update(overrides)
    lines = ["---"]
    lines.extend(f"{key}: {value}" for key, value in fields.items() if value is not None)
    return "\n".join(lines) + "\n"


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Call ``opsgov`` in-process: returns (exit code, stdout, stderr)."""
    from opsgov_hooks.cli import main

    def _run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return _run




@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Two cores, whatever the machine has; the pid of every child :mod:`opsgov_hooks.speed.parallel` forks
    (0 when a fork failed)."""
    from opsgov_hooks.speed import parallel

    started: list[int] = []
    real_fork = parallel.fork_worker

    def counting(*args: object) -> tuple[int, int] | None:
        child = real_fork(*args)  # type: ignore[arg-type]
        started.append(child[0] if child else 0)
        return child

    monkeypatch.setattr(parallel, "cores", lambda: 2)
    monkeypatch.setattr(parallel, "fork_worker", counting)
    return started
