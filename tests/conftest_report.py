"""A repository with a month of governed history, for the report tests (a pytest plugin).

Every commit and tag has a fixed date, so the history (and every sha) is the same
on every run. The story, in January and February 2026:

* OPS-2026-01-10-001 (LOW_RISK_CONFIG): declared, changed in scope, recorded, closed
  by an annotated tag; a later change to its files is NOT traced (it is closed).
* OPS-2026-01-12-001 (SERVICE_RESTART): declared with its change, a follow-up named
  by an Ops-Id trailer, rolled back, and "closed" by a lightweight tag.
* OPS-2026-01-15-001 (FILESYSTEM_WRITE): an emergency, approved 48 hours after it ran
  (the window is 24), and never tagged.
* OPS-2026-02-01-001 (READ_ONLY): declared, still open; its name needs HTML escaping.
"""
from __future__ import annotations

import dataclasses
import os
import subprocess
from pathlib import Path

import pytest

from conftest import Repo, declaration_text, entry_text, init_repo

HOSTILE_NAME = 'Review <b>docs</b> & "notes"'
ODD_PATH = "ops/monitoring/odd name\n.yml"


@dataclasses.dataclass
class AuditRepo:
    repo: Repo
    shas: dict[str, str]

    @property
    def path(self) -> Path:
        return self.repo.path


def commit_at(repo: Repo, when: str, message: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    subprocess.run(("git", "add", "-A"), cwd=repo.path, check=True, env=env)
    subprocess.run(("git", "commit", "-q", "--allow-empty", "-m", message), cwd=repo.path, check=True, env=env)
    return repo.head()


def tag_at(repo: Repo, when: str, name: str, *, annotated: bool = True) -> None:
    env = {**os.environ, "GIT_COMMITTER_DATE": when}
    args = ("git", "tag", "-a", name, "-m", f"close {name}") if annotated else ("git", "tag", name)
    subprocess.run(args, cwd=repo.path, check=True, env=env)


ENTRIES = {
    "OPS-2026-01-10-001": entry_text("OPS-2026-01-10-001", approval_timestamp="2026-01-10T08:30:00Z",
                                     execution_timestamp="2026-01-10T09:00:00Z"),
    "OPS-2026-01-12-001": entry_text(
        "OPS-2026-01-12-001", operation_name="Restart node exporter", risk_class="SERVICE_RESTART",
        blast_radius="node metrics", approval_timestamp="2026-01-12T07:30:00Z",
        execution_timestamp="2026-01-12T08:00:00Z", outcome="ROLLBACK", rollback_timestamp="2026-01-12T11:30:00Z",
        rollback_evidence="'systemctl is-active node-exporter: active'"),
    "OPS-2026-01-15-001": entry_text(
        "OPS-2026-01-15-001", operation_name="Emergency disk cleanup", risk_class="FILESYSTEM_WRITE",
        blast_radius="log files", requested_by="carol@example.com", approved_by="dave@example.com",
        approval_timestamp="2026-01-17T02:00:00Z", execution_timestamp="2026-01-15T02:00:00Z", emergency="true"),
}


def build(path: Path) -> AuditRepo:
    repo = init_repo(path)
    shas: dict[str, str] = {}
    repo.write("README.md", "service repo\n")
    repo.write("ops/operations/OPS-2026-01-10-001.md", declaration_text("OPS-2026-01-10-001"))
    shas["declare-10"] = commit_at(repo, "2026-01-10T08:00:00Z", "Declare OPS-2026-01-10-001")
    repo.write("ops/monitoring/prometheus.yml", "scrape_interval: 30s\n")
    repo.write(ODD_PATH, "odd: true\n")
    shas["change-10"] = commit_at(repo, "2026-01-10T09:00:00Z", "Raise the scrape interval")
    repo.write("ops/ledger/2026-01.yaml", ENTRIES["OPS-2026-01-10-001"])
    shas["ledger-10"] = commit_at(repo, "2026-01-10T10:00:00Z", "Ledger entry of OPS-2026-01-10-001")
    tag_at(repo, "2026-01-10T11:00:00Z", "ops-2026-01-10-001")
    repo.write("ops/operations/OPS-2026-01-12-001.md", declaration_text(
        "OPS-2026-01-12-001", OPERATION_NAME="Restart node exporter", RISK_CLASS="SERVICE_RESTART",
        BLAST_RADIUS="node metrics", ALLOWED_PATHS=["ops/services/**"], ALLOWED_SERVICES=["node-exporter"]))
    repo.write("ops/services/exporter.service", "[Service]\n")
    shas["declare-12"] = commit_at(repo, "2026-01-12T08:00:00Z", "Restart the node exporter")
    repo.write("ops/services/exporter.service", "[Service]\nRestart=always\n")
    shas["trailer-12"] = commit_at(repo, "2026-01-12T09:00:00Z",
                                   "Exporter restart policy\n\nOps-Id: OPS-2026-01-12-001")
    repo.write("ops/ledger/2026-01.yaml", ENTRIES["OPS-2026-01-10-001"] + ENTRIES["OPS-2026-01-12-001"])
    shas["ledger-12"] = commit_at(repo, "2026-01-12T12:00:00Z", "Ledger: OPS-2026-01-12-001 rolled back")
    tag_at(repo, "2026-01-12T12:00:00Z", "ops-2026-01-12-001", annotated=False)
    repo.write("ops/operations/OPS-2026-01-15-001.md", declaration_text(
        "OPS-2026-01-15-001", OPERATION_NAME="Emergency disk cleanup", RISK_CLASS="FILESYSTEM_WRITE",
        BLAST_RADIUS="log files", ALLOWED_PATHS=["ops/disk/**"], ALLOWED_SERVICES=[]))
    repo.write("ops/disk/cleanup.sh", "find /var/log -mtime +30 -delete\n")
    shas["declare-15"] = commit_at(repo, "2026-01-15T03:00:00Z", "Emergency disk cleanup")
    repo.write("ops/ledger/2026-01.yaml", "".join(ENTRIES.values()))
    shas["ledger-15"] = commit_at(repo, "2026-01-17T03:00:00Z", "Ledger: OPS-2026-01-15-001")
    repo.write("ops/monitoring/prometheus.yml", "scrape_interval: 10s\n")
    shas["untraced"] = commit_at(repo, "2026-01-20T09:00:00Z", "Tweak the scrape interval again")
    repo.write("ops/operations/OPS-2026-02-01-001.md", declaration_text(
        "OPS-2026-02-01-001", OPERATION_NAME=f"'{HOSTILE_NAME}'", RISK_CLASS="READ_ONLY",
        ALLOWED_PATHS=["docs/governance/**"], ALLOWED_SERVICES=[]))
    shas["declare-02"] = commit_at(repo, "2026-02-01T08:00:00Z", "Declare OPS-2026-02-01-001")
    repo.write("README.md", "service repo, v2\n")
    shas["readme"] = commit_at(repo, "2026-02-02T08:00:00Z", "README")
    return AuditRepo(repo, shas)


@pytest.fixture(scope="session")
def audit_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built once per session (about 15 git commands), then copied by :func:`audit_repo`."""
    import shutil

    home = tmp_path_factory.mktemp("audit-home")
    env_keys = ("HOME", "XDG_CONFIG_HOME", "GIT_CONFIG_NOSYSTEM")
    saved = {k: os.environ.get(k) for k in env_keys}
    os.environ.update({"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "GIT_CONFIG_NOSYSTEM": "1"})
    try:
        from conftest import IDENTITY

        saved.update({k: os.environ.get(k) for k in IDENTITY})
        os.environ.update(IDENTITY)
        built = build(tmp_path_factory.mktemp("audit") / "repo")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    shutil.copytree(built.path, built.path.parent / "pristine", symlinks=True)
    return built.path.parent / "pristine"


@pytest.fixture
def audit_repo(audit_history: Path, tmp_path: Path) -> AuditRepo:
    import shutil

    target = tmp_path / "repo"
    shutil.copytree(audit_history, target, symlinks=True)
    repo = Repo(target)
    shas = dict(zip(LABELS, repo.git("log", "--reverse", "--format=%H").split()))
    return AuditRepo(repo, shas)


LABELS = ("declare-10", "change-10", "ledger-10", "declare-12", "trailer-12", "ledger-12", "declare-15",
          "ledger-15", "untraced", "declare-02", "readme")
