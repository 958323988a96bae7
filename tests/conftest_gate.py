"""Helpers for the gate's tests (a pytest plugin: ``pytest_plugins = ["conftest_gate"]``)."""
from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import Repo, declaration_text, entry_text, init_repo

OPS1 = "OPS-2026-01-27-001"
OPS2 = "OPS-2026-01-27-002"
OPS_FEB = "OPS-2026-02-03-001"
LEDGER = "ops/ledger/2026-01.yaml"
PROM = "ops/monitoring/prometheus.yml"

Check = Callable[..., tuple[int, str, str]]


def record(op_id: str) -> str:
    return f"ops/operations/{op_id}.md"


def declare(repo: Repo, op_id: str = OPS1, allowed: list[str] | None = None, **fields: object) -> None:
    repo.write(record(op_id), declaration_text(op_id, ALLOWED_PATHS=allowed or ["ops/monitoring/**"], **fields))


def _entry(op_id: str, **fields: object) -> str:
    """The operation's entry, approved and executed on its id's day (L106: declared before it runs)."""
    day = op_id[4:14]
    fields.setdefault("approval_timestamp", f"{day}T09:00:00Z")
    fields.setdefault("execution_timestamp", f"{day}T10:00:00Z")
    return entry_text(op_id, **fields)


def add_entry(repo: Repo, op_id: str = OPS1, **fields: object) -> None:
    """Append the operation's ledger entry to its month file."""
    ledger = f"ops/ledger/{op_id[4:11]}.yaml"
    path = repo.path / ledger
    before = path.read_text(encoding="utf-8") if path.exists() else ""
    repo.write(ledger, before + _entry(op_id, **fields))


def close(repo: Repo, op_id: str = OPS1, title: str = "closed") -> None:
    """Seal the operation with an annotated tag carrying its entry, as 'opsgov tag' does (tag consistency)."""
    message = f"{op_id}: {title}\n\n" + _entry(op_id).removeprefix("---\n")
    repo.git("tag", "-a", op_id.lower(), "-m", message)


def operation(repo: Repo, op_id: str = OPS1, allowed: list[str] | None = None) -> None:
    """A declared and recorded operation, staged."""
    declare(repo, op_id, allowed)
    add_entry(repo, op_id)
    repo.stage()


@pytest.fixture
def gate_repo(tmp_path: Path) -> Repo:
    """A repository with one unrelated commit, so HEAD exists."""
    repo = init_repo(tmp_path / "repo")
    repo.write("README.md", "# service\n")
    repo.commit("initial")
    return repo


@pytest.fixture
def check(run_cli: Check) -> Check:
    """``opsgov check -C <repo> ARGS...`` in-process: (exit code, stdout, stderr)."""
    def _check(repo: Repo, *args: str) -> tuple[int, str, str]:
        return run_cli("check", "-C", str(repo.path), *args)  # type: ignore[no-any-return]

    return _check


def codes(out: str) -> list[str]:
    """The finding codes of text output, in order."""
    return [line.split(": ", 2)[1].split()[0] for line in out.splitlines() if line and not line.startswith("Found ")]


PYTHON = sys.executable
