"""Signed approvals through the gate: real ed25519 keys and git's own SSH signing, judged by ``opsgov check``.

Needs ``ssh-keygen`` (package openssh-client); the tests fail, never skip, without it.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.register_assert_rewrite("approval_helpers", "conftest_gate")

from approval_helpers import (OP, SIGNERS, approve, become, carry_out, governed_repo,  # noqa: E402
                              signers_text)
from conftest import Repo  # noqa: E402
from conftest_gate import PROM, Check, codes, declare  # noqa: E402

pytest_plugins = ["conftest_gate"]

APPROVAL = f"ops/approvals/{OP}.yaml"


def _range(check: Check, repo: Repo, base: str) -> tuple[int, list[str], str]:
    code, out, _err = check(repo, "--range", f"{base}..HEAD")
    return code, codes(out), out


def test_a_valid_approval_passes_the_range_and_all(tmp_path: Path, check: Check) -> None:
    repo, base = governed_repo(tmp_path)
    become(repo, tmp_path, "bob")
    code, said = approve(repo)
    assert code == 0, said
    approval_commit = repo.head()
    assert said.splitlines()[-1].startswith(f"approved at {approval_commit[:12]}: signed by bob@example.com "
                                            "(ED25519 SHA256:")
    assert repo.read(APPROVAL).endswith(
        f'operation_id: "{OP}"\nscope_digest: "sha256:' + said.split("sha256:")[1].split("\n")[0] + '"\n'
        'risk_class: "DB_MIGRATION"\napproved_by: "bob@example.com"\napproval_timestamp: "2026-01-27T09:00:00Z"\n')
    assert "\ngpgsig -----BEGIN SSH SIGNATURE-----\n" in repo.git("cat-file", "commit", approval_commit)
    become(repo, tmp_path, "alice")
    carry_out(repo)
    assert _range(check, repo, base)[:2] == (0, [])
    assert check(repo, "--all")[:2] == (0, "")


def test_no_approval_is_refused(tmp_path: Path, check: Check) -> None:
    repo, base = governed_repo(tmp_path)
    carry_out(repo)
    code, found, out = _range(check, repo, base)
    assert (code, found) == (1, ["P001"])
    assert out.splitlines()[0] == (
        f"{APPROVAL}:1:1: P001 {OP}: DB_MIGRATION requires a signed approval, and {APPROVAL} is not committed "
        f"(fix: the approver runs 'opsgov approve {OP}' in their clone and pushes the commit it makes)")
    assert check(repo, "--all")[0] == 1


def test_an_unsigned_approval_record_is_refused(tmp_path: Path, check: Check) -> None:
    """The requester writes the record herself (no key): the record is text, the commit proves nothing."""
    repo, base = governed_repo(tmp_path)
    become(repo, tmp_path, "bob")
    approve(repo)
    record = repo.read(APPROVAL)
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.write(APPROVAL, record)
    repo.commit(f"approval\n\nOps-Id: {OP}")
    carry_out(repo)
    code, found, out = _range(check, repo, base)
    assert (code, found) == (1, ["P003"])
    assert "has no valid signature: the commit is not signed" in out


def test_a_tampered_signature_is_refused(tmp_path: Path, check: Check) -> None:
    repo, base = governed_repo(tmp_path)
    become(repo, tmp_path, "bob")
    approve(repo)
    signed = repo.git("cat-file", "commit", "HEAD")
    forged = signed.replace("Approve OPS", "Approved OPS", 1)
    assert forged != signed and "gpgsig" in forged
    sha = repo.git("hash-object", "-t", "commit", "-w", "--stdin", input=forged.encode()).strip()
    repo.git("update-ref", "refs/heads/main", sha)
    carry_out(repo)
    code, found, out = _range(check, repo, base)
    assert (code, found) == (1, ["P003"])
    assert f"the approval commit {sha[:12]} has no valid signature" in out


def test_a_key_outside_the_allowed_signers_is_refused(tmp_path: Path, check: Check) -> None:
    repo, base = governed_repo(tmp_path, "alice", "bob")
    become(repo, tmp_path, "carol", email="bob@example.com")
    assert approve(repo)[0] == 1   # opsgov approve says at once that the key does not verify
    carry_out(repo)
    code, found, out = _range(check, repo, base)
    assert (code, found) == (1, ["P003"])
    assert "is not in the allowed signers file" in out


def test_a_signer_who_is_not_the_approver_is_refused(tmp_path: Path, check: Check) -> None:
    repo, base = governed_repo(tmp_path)
    become(repo, tmp_path, "carol", email="bob@example.com")   # carol's key, bob's name in the record
    approve(repo)
    carry_out(repo)
    code, found, out = _range(check, repo, base)
    assert (code, found) == (1, ["P004", "P008"])
    approval_commit = repo.git("rev-list", "-n", "1", "HEAD~1").strip()
    assert (f"P004 {OP}: the approval names 'bob@example.com' but the approval commit {approval_commit[:12]} is "
            "signed by 'carol@example.com'") in out


def test_a_signer_who_is_the_requester_is_refused(tmp_path: Path, check: Check) -> None:
    repo, base = governed_repo(tmp_path)
    become(repo, tmp_path, "alice")
    approve(repo)
    carry_out(repo, approved_by="alice@example.com")
    code, found, out = _range(check, repo, base)
    assert "P005" in found and code == 1
    assert f"P005 {OP}: the approval is signed by the requester 'alice@example.com'" in out


def test_solo_mode_lets_the_requester_sign(tmp_path: Path, check: Check) -> None:
    repo, base = governed_repo(tmp_path, config=f"solo_mode: true\ncustom_risk_classes: [DB_MIGRATION]\n"
                                                f"allowed_signers_file: {SIGNERS}\n")
    become(repo, tmp_path, "alice")
    approve(repo)
    carry_out(repo, approved_by="SELF")
    assert _range(check, repo, base)[:2] == (0, [])


def test_scope_changed_after_approval_is_refused(tmp_path: Path, check: Check) -> None:
    repo, base = governed_repo(tmp_path)
    become(repo, tmp_path, "bob")
    approve(repo)
    become(repo, tmp_path, "alice")
    declare(repo, OP, allowed=["ops/monitoring/**", "ops/nginx/**"], RISK_CLASS="DB_MIGRATION")
    repo.commit("widen the scope")
    carry_out(repo)
    code, found, out = _range(check, repo, base)
    assert (code, found) == (1, ["P006"])
    assert f"ops/operations/{OP}.md:1:1: P006 {OP}: the approval covers scope sha256:" in out
    assert "(the scope changed after approval)" in out
    # Approving the new scope again clears it.
    become(repo, tmp_path, "bob")
    approve(repo)
    repo.git("commit", "-q", "--allow-empty", "-m", "after the new approval")
    assert "P006" not in _range(check, repo, base)[1]


def test_a_change_made_before_the_approval_is_refused(tmp_path: Path, check: Check) -> None:
    repo, base = governed_repo(tmp_path)
    declared = repo.head()
    repo.write(PROM, "scrape_interval: 30s\n")
    early = repo.commit(f"tune prometheus before anyone approved\n\nOps-Id: {OP}")
    repo.git("checkout", "-q", "-b", "approval", declared)
    become(repo, tmp_path, "bob")
    approve(repo)
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "--no-edit", "approval")
    from conftest_gate import add_entry

    add_entry(repo, OP, risk_class="DB_MIGRATION")
    repo.commit(f"record\n\nOps-Id: {OP}")
    code, found, out = _range(check, repo, base)
    assert (code, found) == (1, ["P007"])
    assert f"P007 {OP}: commit {early[:12]} does not descend from the approval commit" in out


def test_a_ledger_approver_other_than_the_signer_is_refused(tmp_path: Path, check: Check) -> None:
    repo, base = governed_repo(tmp_path)
    become(repo, tmp_path, "bob")
    approve(repo)
    carry_out(repo, approved_by="carol@example.com")
    code, found, out = _range(check, repo, base)
    assert (code, found) == (1, ["P008"])
    assert (f"ops/ledger/2026-01.yaml:5:14: P008 {OP}: the ledger says approved_by 'carol@example.com', but the "
            "signed approval is 'bob@example.com''s (fix: record the approval as signed: approved_by "
            "bob@example.com)") in out


def test_a_ledger_approval_time_other_than_the_signed_one_is_refused(tmp_path: Path, check: Check) -> None:
    repo, base = governed_repo(tmp_path)
    become(repo, tmp_path, "bob")
    approve(repo)
    carry_out(repo, approval_timestamp="2026-01-27T08:00:00Z")
    code, found, out = _range(check, repo, base)
    assert (code, found) == (1, ["P008"])
    assert "the signed approval was made at 2026-01-27T09:00:00Z" in out


def test_allowed_signers_changed_in_the_same_change_is_refused(tmp_path: Path, check: Check) -> None:
    """Bob's key arrives in the very pull request his approval is in: it cannot vouch for itself."""
    repo, base = governed_repo(tmp_path, "alice")
    repo.write(SIGNERS, signers_text(tmp_path, "alice", "bob"))
    repo.commit("trust bob")
    become(repo, tmp_path, "bob")
    approve(repo)
    carry_out(repo)
    code, found, out = _range(check, repo, base)
    assert (code, found) == (1, ["P009"])
    assert f"(fix: land the change to {SIGNERS} on its own first" in out
    # Once the key has landed (the base holds it), the same approval verifies.
    landed = repo.git("rev-list", "-n", "1", "HEAD~2").strip()
    assert _range(check, repo, landed)[:2] == (0, [])


def test_the_pre_commit_gate_knows_the_approval(tmp_path: Path, check: Check) -> None:
    """Staged: the approver's commit passes; the requester's change is refused until HEAD holds the approval."""
    repo, _base = governed_repo(tmp_path)
    repo.write(PROM, "scrape_interval: 30s\n")
    from conftest_gate import add_entry

    add_entry(repo, OP, risk_class="DB_MIGRATION")
    repo.stage()
    assert codes(check(repo)[1]) == ["P001"]
    repo.git("stash", "-q", "--include-untracked")
    become(repo, tmp_path, "bob")
    hook = repo.write(".git/hooks/pre-commit", f"#!/bin/sh\nexec '{sys.executable}' -m opsgov_hooks check\n")
    hook.chmod(0o755)   # the approval commit goes through the staged gate like any other, and passes it
    assert approve(repo)[0] == 0
    repo.git("stash", "pop", "-q")
    repo.stage()
    assert check(repo)[:2] == (0, "")


def test_migration_keeps_text_only_approvals_of_older_operations(tmp_path: Path, check: Check) -> None:
    """The policy turned on after OP was declared, from the next id on: OP keeps its text approval."""
    new = "OPS-2026-01-28-001"
    repo, _base = governed_repo(tmp_path, config=f"custom_risk_classes: [DB_MIGRATION]\n"
                                f"require_signed_approvals: {{DB_MIGRATION: false}}\n")
    repo.write(".opsgov.yaml", f"custom_risk_classes: [DB_MIGRATION]\nallowed_signers_file: {SIGNERS}\n"
                               f"signed_approvals_from: {new}\n")
    turned_on = repo.commit("require signed approvals from the next operation on")
    carry_out(repo)
    assert _range(check, repo, turned_on)[:2] == (0, [])
    assert check(repo, "--all")[:2] == (0, "")
    # An operation from the threshold on needs a signed approval.
    middle = repo.head()
    declare(repo, new, allowed=["ops/nginx/**"], RISK_CLASS="DB_MIGRATION")
    repo.write("ops/nginx/site.conf", "server {}\n")
    from conftest_gate import add_entry

    add_entry(repo, new, risk_class="DB_MIGRATION")
    repo.commit(f"new op\n\nOps-Id: {new}")
    assert _range(check, repo, middle)[1] == ["P001"]
    assert codes(check(repo, "--all")[1]) == ["P001"]


def test_an_old_id_declared_by_the_change_still_needs_the_signature(tmp_path: Path, check: Check) -> None:
    """A change cannot escape the policy by back-dating its operation's id: a new declaration is judged by
    the policy in force."""
    config = (f"custom_risk_classes: [DB_MIGRATION]\nallowed_signers_file: {SIGNERS}\n"
              "signed_approvals_from: OPS-2026-01-28-001\n")
    repo, base = governed_repo(tmp_path, config=config)   # declares OPS-2026-01-27-001 after the base
    carry_out(repo)
    assert _range(check, repo, base)[1] == ["P001"]


def _report_row(repo: Repo) -> tuple[dict[str, object], list[str]]:
    """The JSON report's row for OP, and the report's finding codes."""
    import datetime
    import io
    import json

    from opsgov_hooks.audit.run import run_report

    out, err = io.StringIO(), io.StringIO()
    run_report(str(repo.path), "2026-01-01", None, "json", None, quiet=True, out=out, err=err,
               now=datetime.datetime.now(datetime.timezone.utc))   # the commits are made now
    data = json.loads(out.getvalue())
    (row,) = [o for o in data["operations"] if o["operation_id"] == OP]
    return row, [f["code"] for f in data["findings"]]


def test_the_report_says_why_an_approval_is_not_verified(tmp_path: Path) -> None:
    repo, _base = governed_repo(tmp_path)
    become(repo, tmp_path, "bob")
    approve(repo)
    record = repo.read(APPROVAL)
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.write(APPROVAL, record)
    unsigned = repo.commit(f"approval written by hand\n\nOps-Id: {OP}")
    carry_out(repo)
    row, found = _report_row(repo)
    assert row["signed_approval"] == {
        "required": True, "status": "unverified", "approved_by": "bob@example.com", "key_fingerprint": None,
        "verified": False, "reason": f"{OP}: the approval commit {unsigned[:12]} has no valid signature: the commit "
                                     "is not signed", "commit": unsigned, "changes_after_approval": True}
    assert [c for c in found if c.startswith("P")] == ["P003"]


def test_the_report_shows_a_change_made_before_the_approval(tmp_path: Path) -> None:
    repo, _base = governed_repo(tmp_path)
    declared = repo.head()
    repo.write(PROM, "scrape_interval: 30s\n")
    repo.commit(f"tune prometheus before anyone approved\n\nOps-Id: {OP}")
    repo.git("checkout", "-q", "-b", "approval", declared)
    become(repo, tmp_path, "bob")
    approve(repo)
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "--no-edit", "approval")
    row, found = _report_row(repo)
    approval = row["signed_approval"]
    assert isinstance(approval, dict)
    assert (approval["status"], approval["approved_by"], approval["changes_after_approval"]) == (
        "verified", "bob@example.com", False)
    assert str(approval["key_fingerprint"]).startswith("ED25519 SHA256:")
    assert "P007" in found


def test_an_emergency_is_approved_later_and_the_ledger_takes_the_signed_approval(
        tmp_path: Path, check: Check, run_cli) -> None:  # type: ignore[no-untyped-def]
    """Executed first (emergency: true, approval pending): no signed approval is asked for yet; Bob signs
    afterwards, 'opsgov ledger approve' copies his signed approval into the ledger, and the change made
    before it is accepted (the emergency window, not the graph, bounds it)."""
    import datetime

    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    op = f"OPS-{now:%Y-%m-%d}-001"
    stamp = f"{now:%Y-%m-%dT%H:%M:%SZ}"
    config = f"require_signed_approvals: {{FILESYSTEM_WRITE: true}}\nallowed_signers_file: {SIGNERS}\n"
    repo, base = governed_repo(tmp_path, config=config, op_id=op, risk="FILESYSTEM_WRITE")
    carry_out(repo, op, emergency="true", approved_by="SELF", approval_timestamp=stamp, execution_timestamp=stamp,
              risk_class="FILESYSTEM_WRITE")
    code, out, _ = check(repo, "--range", f"{base}..HEAD")
    assert (code, codes(out)) == (0, ["L101", "L108"])   # self-approved (recommended: a warning), pending
    become(repo, tmp_path, "bob")
    assert approve(repo, op, when=now)[0] == 0
    code, out, err = run_cli("ledger", "approve", op, "-C", str(repo.path))
    assert code == 0, out + err
    assert f"approved_by: bob@example.com\napproval_timestamp: {stamp}\n" in repo.read(f"ops/ledger/{op[4:11]}.yaml")
    repo.commit(f"record bob's approval\n\nOps-Id: {op}")
    assert _range(check, repo, base)[:2] == (0, [])
    assert check(repo, "--all")[:2] == (0, "")


def test_opsgov_approve_refuses_what_it_cannot_sign(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    repo, _base = governed_repo(tmp_path)
    code, out, err = run_cli("approve", "OPS-2026-01-27-009", "--yes", "-C", str(repo.path))
    assert (code, out) == (2, "")
    assert err == ("opsgov: error: OPS-2026-01-27-009 is not declared at HEAD (ops/operations/OPS-2026-01-27-009.md "
                   "is not committed): fetch and check out the requester's branch that declares it, then run again\n")
    repo.git("config", "gpg.format", "ssh")
    code, out, err = run_cli("approve", OP, "--yes", "-C", str(repo.path))
    assert (code, err) == (2, "opsgov: error: gpg.format is ssh but user.signingkey is not set: git config "
                              "user.signingkey ~/.ssh/id_ed25519.pub\n")
    assert not (repo.path / APPROVAL).exists()


def test_many_approvals_are_read_in_one_walk_and_each_judged(tmp_path: Path, check: Check) -> None:
    """Six operations (more than the one-by-one look-up takes): one approval written by hand among five
    signed ones is the only one refused."""
    from conftest_gate import add_entry

    repo, _base = governed_repo(tmp_path)
    ops = [OP] + [f"OPS-2026-01-27-00{i}" for i in range(2, 7)]
    for op in ops[1:]:
        declare(repo, op, allowed=[f"ops/svc{op[-1]}/**"], RISK_CLASS="DB_MIGRATION")
    repo.commit("declare five more")
    become(repo, tmp_path, "bob")
    for op in ops[:-1]:
        assert approve(repo, op)[0] == 0
    repo.write(f"ops/approvals/{ops[-1]}.yaml", repo.read(f"ops/approvals/{ops[0]}.yaml").replace(ops[0], ops[-1]))
    repo.git("add", "-A")
    repo.git("commit", "-q", "--no-gpg-sign", "-m", "approval written by hand")
    for op in ops:
        add_entry(repo, op, risk_class="DB_MIGRATION")
    repo.commit("record")
    code, out, _ = check(repo, "--all")
    assert code == 1
    assert [line.split(": ")[1].split()[:2] for line in out.splitlines()[:-1]] == [["P003", ops[-1]]]
