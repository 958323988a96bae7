"""Helpers for the signed-approval tests: real SSH keys (ssh-keygen) and git's own SSH signing.

Every identity gets its own key in the test's folder; a repository "becomes" someone by setting
user.email, gpg.format ssh and user.signingkey in its own config (HOME is the test's own).
"""
from __future__ import annotations

import datetime
import io
import shutil
import subprocess
from pathlib import Path

from conftest import Repo, init_repo
from conftest_gate import PROM, add_entry, declare

OP = "OPS-2026-01-27-001"
SIGNERS = ".github/allowed_signers"
CONFIG = f"custom_risk_classes: [DB_MIGRATION]\nallowed_signers_file: {SIGNERS}\n"
APPROVED_AT = datetime.datetime(2026, 1, 27, 9, 0, tzinfo=datetime.timezone.utc)   # _entry's approval time
PEOPLE = ("alice", "bob", "carol")


def ssh_key(folder: Path, name: str) -> tuple[Path, str]:
    keygen = shutil.which("ssh-keygen")
    assert keygen is not None, "ssh-keygen is required for signing tests: install openssh-client"
    key = folder / f"{name}_key"
    if not key.exists():
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True)
    return key, (folder / f"{name}_key.pub").read_text().strip()


def signers_text(folder: Path, *people: str) -> str:
    return "".join(f"{who}@example.com {ssh_key(folder, who)[1]}\n" for who in people)


def become(repo: Repo, folder: Path, who: str, email: str | None = None) -> None:
    """The repository's git now signs as ``who`` (with ``email`` as its user.email, default who@example.com)."""
    key, _public = ssh_key(folder, who)
    repo.git("config", "user.email", email or f"{who}@example.com")
    repo.git("config", "gpg.format", "ssh")
    repo.git("config", "user.signingkey", str(key))


def approve(repo: Repo, op_id: str = OP, when: datetime.datetime = APPROVED_AT) -> tuple[int, str]:
    """``opsgov approve OP --yes`` as the repository's current identity, at a fixed time."""
    from opsgov_hooks.lifecycle.approve import ApproveRequest, approve_operation

    out = io.StringIO()
    code = approve_operation(str(repo.path), ApproveRequest(op_id, yes=True), out, now=when)
    return code, out.getvalue()


def governed_repo(folder: Path, *listed: str, config: str = CONFIG, op_id: str = OP,
                  risk: str = "DB_MIGRATION") -> tuple[Repo, str]:
    """A repository whose base commit holds the policy and the allowed signers; the declaration on top."""
    repo = init_repo(folder / "repo")
    repo.write(".opsgov.yaml", config)
    repo.write(SIGNERS, signers_text(folder, *(listed or ("alice", "bob", "carol"))))
    repo.write("README.md", "# service\n")
    base = repo.commit("initial")
    declare(repo, op_id, RISK_CLASS=risk)
    repo.commit(f"declare {op_id}")
    return repo, base


def carry_out(repo: Repo, op_id: str = OP, **entry: object) -> str:
    """The requester's change and its ledger entry (approved by bob unless told otherwise), committed."""
    repo.write(PROM, "scrape_interval: 30s\n")
    entry.setdefault("risk_class", "DB_MIGRATION")
    add_entry(repo, op_id, **entry)
    return repo.commit(f"tune prometheus\n\nOps-Id: {op_id}")
