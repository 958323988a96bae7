"""The whole approval lifecycle with two people in two clones and a server that runs the gate.

Alice (requester) declares; Bob (approver) reviews the declaration in his own clone and signs it with
``opsgov approve`` (his ed25519 key, git's SSH signing); Alice builds on his signed commit, records the
ledger entry and pushes to a bare repository whose pre-receive hook runs ``opsgov check --pre-receive``.
Everything goes through the ``opsgov`` command line in subprocesses, as people would run it.
"""
from __future__ import annotations

import datetime
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

pytest.register_assert_rewrite("approval_helpers", "conftest_gate")

from approval_helpers import SIGNERS, become, signers_text  # noqa: E402
from conftest import Repo, declaration_text, init_repo  # noqa: E402
from conftest_gate import PROM  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CONFIG = f"custom_risk_classes: [DB_MIGRATION]\nallowed_signers_file: {SIGNERS}\n"


def opsgov(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    """``opsgov ARGS`` in ``repo``, as the person whose identity that clone's config holds (no terminal)."""
    email = repo.git("config", "user.email").strip()
    env = {**os.environ, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_EMAIL": email,
           "GIT_AUTHOR_NAME": email.split("@")[0], "GIT_COMMITTER_NAME": email.split("@")[0]}
    return subprocess.run([sys.executable, "-m", "opsgov_hooks", *args], cwd=repo.path, env=env, text=True,
                          stdin=subprocess.DEVNULL, capture_output=True)


def push(repo: Repo) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "push", "origin", "main"], cwd=repo.path, text=True, capture_output=True)


def clone(server: Path, path: Path, who: str, keys: Path) -> Repo:
    subprocess.run(["git", "clone", "-q", str(server), str(path)], check=True)
    repo = Repo(path)
    repo.git("config", "user.name", who)
    repo.git("config", "commit.gpgsign", "false")
    become(repo, keys, who)
    return repo


@pytest.fixture
def server(tmp_path: Path) -> Path:
    """A bare repository holding the policy and the allowed signers, then gated by its pre-receive hook."""
    bare = tmp_path / "server.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    admin = init_repo(tmp_path / "admin")
    admin.write(".opsgov.yaml", CONFIG)
    admin.write(SIGNERS, signers_text(tmp_path, "alice", "bob"))
    admin.write("README.md", "# service\n")
    admin.commit("policy: signed approvals for DB_MIGRATION; alice and bob may sign")
    admin.git("push", "-q", str(bare), "main")
    hook = bare / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\nexec '{sys.executable}' -m opsgov_hooks check --pre-receive\n", encoding="utf-8")
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
    return bare


def test_two_people_two_clones_signed_approval_end_to_end(tmp_path: Path, server: Path) -> None:
    op = "OPS-" + datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d") + "-001"
    alice = clone(server, tmp_path / "alice", "alice", tmp_path)
    bob = clone(server, tmp_path / "bob", "bob", tmp_path)

    # Alice declares the operation and carries it out without an approval: the server refuses it.
    alice.write(f"ops/operations/{op}.md", declaration_text(op, RISK_CLASS="DB_MIGRATION"))
    declared = alice.commit(f"declare {op}\n\nOps-Id: {op}")
    alice.write(PROM, "scrape_interval: 30s\n")
    recorded = opsgov(alice, "ledger", "record", op, "--approved-by", "bob@example.com", "--approval-timestamp",
                      "now", "--execution-timestamp", "now", "--changes-summary", "scrape_interval 15s -> 30s",
                      "--rollback-ref", "command: git revert HEAD")
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    alice.commit(f"tune prometheus\n\nOps-Id: {op}")
    refused = push(alice)
    assert refused.returncode == 1
    assert f"P001 {op}: DB_MIGRATION requires a signed approval" in refused.stderr

    # Bob reviews the declaration in his own clone (fetched from Alice's) and signs it.
    bob.git("pull", "-q", "--ff-only", str(alice.path), declared)
    asked = opsgov(bob, "approve", op)
    assert asked.returncode == 2
    assert "risk class:        DB_MIGRATION\n" in asked.stdout
    assert "rollback strategy: git revert the config commit and reload prometheus\n" in asked.stdout
    assert "run again with --yes" in asked.stderr
    approved = opsgov(bob, "approve", op, "--yes")
    assert approved.returncode == 0, approved.stdout + approved.stderr
    approval = bob.head()
    assert approved.stdout.splitlines()[-1].startswith(
        f"approved at {approval[:12]}: signed by bob@example.com (ED25519 SHA256:")
    stamp = bob.read(f"ops/approvals/{op}.yaml").split('approval_timestamp: "')[1].split('"')[0]
    ledger = f"ops/ledger/{op[4:11]}.yaml"

    # Alice starts again on top of Bob's signed commit, records the approval as signed, and pushes.
    alice.git("reset", "-q", "--hard", declared)
    alice.git("pull", "-q", "--ff-only", str(bob.path), "main")
    alice.write(PROM, "scrape_interval: 30s\n")
    # approved_by and approval_timestamp default to the committed signed approval's
    recorded = opsgov(alice, "ledger", "record", op, "--execution-timestamp", "now", "--changes-summary",
                      "scrape_interval 15s -> 30s", "--rollback-ref", "command: git revert HEAD")
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    assert f"approved_by: bob@example.com\napproval_timestamp: {stamp}\n" in alice.read(ledger)
    work = alice.commit(f"tune prometheus\n\nOps-Id: {op}")
    accepted = push(alice)
    assert accepted.returncode == 0, accepted.stderr

    # Anyone can verify it offline, from a fresh clone: the gate on everything, and the audit report.
    auditor = clone(server, tmp_path / "auditor", "carol", tmp_path)
    checked = opsgov(auditor, "check", "--all")
    assert (checked.returncode, checked.stdout) == (0, ""), checked.stdout
    report = opsgov(auditor, "report", "--format", "json", "--quiet")
    assert report.returncode == 0, report.stdout + report.stderr
    data = json.loads(report.stdout)
    jsonschema.validate(data, json.loads((ROOT / "schemas" / "report.schema.json").read_text(encoding="utf-8")))
    (row,) = [o for o in data["operations"] if o["operation_id"] == op]
    signed = row["signed_approval"]
    assert signed["key_fingerprint"].startswith("ED25519 SHA256:")
    assert signed == {"required": True, "status": "verified", "approved_by": "bob@example.com",
                      "key_fingerprint": signed["key_fingerprint"], "verified": True, "reason": None,
                      "commit": approval, "changes_after_approval": True}
    assert work in row["commits"]
    markdown = opsgov(auditor, "report", "--quiet").stdout
    assert (f"| {op} | bob@example.com | {signed['key_fingerprint']} | verified | {approval[:12]} | yes |"
            in markdown)
