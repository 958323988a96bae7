"""P5 sign-off levels per risk class, the approver allow-list and solo mode, through ``opsgov validate``."""
from __future__ import annotations

import pytest

from conftest import Repo, entry_text
from lifecycle_helpers import OP, declare

from opsgov_hooks.rules.signoff import is_self, normalise_person

pytest_plugins = ["conftest_lifecycle"]

LEDGER = "ops/ledger/2026-01.yaml"


def _setup(repo: Repo, risk: str, config: str = "", **entry: str) -> None:
    if config:
        repo.write(".opsgov.yaml", config)
    declare(repo, OP, commit=False, RISK_CLASS=risk)
    repo.write(LEDGER, entry_text(OP, risk_class=risk, **entry))


CUSTOM = "custom_risk_classes: [DB_MIGRATION]\n"


@pytest.mark.parametrize("risk, config, approved_by, expected", [
    ("LOW_RISK_CONFIG", "", "SELF", ""),
    ("READ_ONLY", "", "alice@example.com", ""),
    ("SERVICE_RESTART", "", "bob@example.com", ""),
    ("SERVICE_RESTART", "", "SELF",
     f"{LEDGER}:5:14: L101 warning: {OP}: SERVICE_RESTART is self-approved ('SELF'); P5 recommends a second person "
     "(fix: have someone else approve, or set solo_mode: true for a one-person team)\n"
     "Found 0 error(s), 1 warning(s).\n"),
    ("FILESYSTEM_WRITE", "", "'Alice <ALICE@example.com>'",
     f"{LEDGER}:5:14: L101 warning: {OP}: FILESYSTEM_WRITE is self-approved ('Alice <ALICE@example.com>'); P5 "
     "recommends a second person (fix: have someone else approve, or set solo_mode: true for a one-person team)\n"
     "Found 0 error(s), 1 warning(s).\n"),
    ("DB_MIGRATION", CUSTOM, "bob@example.com", ""),
    ("DB_MIGRATION", CUSTOM, "self",
     f"{LEDGER}:5:14: L102 {OP}: DB_MIGRATION requires sign-off by someone other than the requester, but "
     "approved_by is 'self' (fix: name the approver in approved_by (or set solo_mode: true for a one-person team))\n"
     "Found 1 error(s), 0 warning(s).\n"),
    ("DB_MIGRATION", CUSTOM, "' mailto:Alice@Example.com '",
     f"{LEDGER}:5:14: L102 {OP}: DB_MIGRATION requires sign-off by someone other than the requester, but "
     "approved_by is ' mailto:Alice@Example.com ' (fix: name the approver in approved_by (or set solo_mode: true "
     "for a one-person team))\nFound 1 error(s), 0 warning(s).\n"),
    ("DB_MIGRATION", CUSTOM + "solo_mode: true\n", "SELF", ""),
    ("SERVICE_RESTART", "solo_mode: true\n", "SELF", ""),
    ("LOW_RISK_CONFIG", "signoff:\n  LOW_RISK_CONFIG: required\n", "SELF",
     f"{LEDGER}:5:14: L102 {OP}: LOW_RISK_CONFIG requires sign-off by someone other than the requester, but "
     "approved_by is 'SELF' (fix: name the approver in approved_by (or set solo_mode: true for a one-person "
     "team))\nFound 1 error(s), 0 warning(s).\n"),
    ("DB_MIGRATION", CUSTOM + "signoff:\n  DB_MIGRATION: optional\n", "SELF", ""),
])
def test_signoff_levels(repo: Repo, run_cli, monkeypatch, risk: str, config: str, approved_by: str,  # type: ignore[no-untyped-def]
                        expected: str) -> None:
    _setup(repo, risk, config, approved_by=approved_by)
    repo.chdir(monkeypatch)
    assert run_cli("validate") == (1 if " error(s)" in expected and "Found 0 error" not in expected else 0,
                                   expected, "")


@pytest.mark.parametrize("approved_by, expected_code", [
    ("'Bob <BOB@example.com>'", 0), ("carol@example.com", 1), ("SELF", 1)])
def test_approver_allow_list(repo: Repo, run_cli, monkeypatch, approved_by: str, expected_code: int) -> None:  # type: ignore[no-untyped-def]
    _setup(repo, "LOW_RISK_CONFIG", "approvers: [bob@example.com]\n", approved_by=approved_by)
    repo.chdir(monkeypatch)
    code, out, _ = run_cli("validate")
    assert code == expected_code
    if expected_code:
        who = "carol@example.com" if approved_by.startswith("carol") else "alice@example.com"
        assert out.splitlines()[0] == (f"{LEDGER}:5:14: L103 {OP}: {who!r} is not on the approvers list "
                                       "(fix: approvers: bob@example.com)")


def test_solo_mode_accepts_self_despite_an_allow_list(repo: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _setup(repo, "SERVICE_RESTART", "solo_mode: true\napprovers: [bob@example.com]\n", approved_by="SELF")
    repo.chdir(monkeypatch)
    assert run_cli("validate") == (0, "", "")


@pytest.mark.parametrize("left, right, same", [
    ("Alice <alice@x.org>", "alice@x.org", True), ("ALICE@X.ORG", "alice@x.org", True),
    ("  alice@x.org ", "mailto:alice@x.org", True), ("Alice Smith <alice@x.org>", "Alice <alice@x.org>", True),
    ("alice", "Alice", True), ("alice@x.org", "alice@y.org", False), ("Alice <a@x.org>", "Alice <b@x.org>", False),
])
def test_people_compare_after_normalising(left: str, right: str, same: bool) -> None:
    assert (normalise_person(left) == normalise_person(right)) is same
    assert is_self(right, left) is same
    assert is_self("Self", left) is True
