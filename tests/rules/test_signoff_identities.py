"""Identities are text a person can read (L121, L122); sign-off compares their normalised form.

Black box: ``opsgov ledger record`` and ``opsgov check`` in real repositories, in child processes.
"""
from __future__ import annotations

import pytest

from conftest import Repo, declaration_text, init_repo
from security_helpers import finding_codes, opsgov

from opsgov_hooks.identities import comparable, problems
from opsgov_hooks.rules.signoff import normalise_person

OP = "OPS-2026-01-27-001"
REQUESTER = "alice@example.com"


@pytest.fixture
def high_risk(tmp_path) -> Repo:  # type: ignore[no-untyped-def]
    """A committed DB_MIGRATION operation: a custom class, so sign-off by another person is required."""
    repo = init_repo(tmp_path / "repo")
    repo.write(".opsgov.yaml", "custom_risk_classes: [DB_MIGRATION]\n")
    repo.write(f"ops/operations/{OP}.md", declaration_text(OP, RISK_CLASS="DB_MIGRATION"))
    repo.commit("declare")
    return repo


def _record(repo: Repo, approved_by: str) -> tuple[int, str, str]:
    return opsgov(repo.path, "ledger", "record", OP, "--requested-by", REQUESTER, "--approved-by", approved_by,
                  "--approval-timestamp", "2026-01-27T09:00:00Z", "--execution-timestamp", "2026-01-27T10:00:00Z",
                  "--changes-summary", "schema v2", "--rollback-ref", "command: git revert HEAD")


def test_plain_self_approval_is_l102(high_risk: Repo) -> None:
    code, out, _err = _record(high_risk, REQUESTER)
    assert code == 1 and finding_codes(out) == ["L102"]


@pytest.mark.parametrize("approver, expected", [
    ("alice@example.com\u200b", ["L121", "L102"]),     # zero-width space: the requester, invisibly
    ("alice@example.com\u2060", ["L121", "L102"]),     # word joiner
    ("\u202ealice@example.com", ["L121", "L102"]),     # bidi override
    ("ALICE@EXAMPLE.COM", ["L102"]),                   # case: the same person
    ("\uff41lice@example.com", ["L121", "L102"]),      # full-width a: NFKC makes it the requester
    ("\u0430lice@example.com", ["L122"]),              # Cyrillic a: someone a reader takes for alice
    ("\u0440\u0430\u0443\u0430@example.com", ["L122"]),  # all-Cyrillic look-alike of a Latin word
])
def test_invisible_and_look_alike_approvers_are_refused(high_risk: Repo, approver: str,
                                                       expected: list[str]) -> None:
    ledger = high_risk.path / "ops" / "ledger" / "2026-01.yaml"
    code, out, _err = _record(high_risk, approver)
    assert code == 1 and sorted(finding_codes(out)) == sorted(expected), out
    assert not ledger.exists()   # nothing recorded


def test_a_hand_written_entry_is_refused_by_the_gate(high_risk: Repo) -> None:
    high_risk.write("ops/ledger/2026-01.yaml", (
        f"---\noperation_id: {OP}\noperation_name: Tune Prometheus scrape interval\nrequested_by: {REQUESTER}\n"
        "approved_by: \"alice@example.com\\u200B\"\napproval_timestamp: 2026-01-27T09:00:00Z\n"
        "execution_timestamp: 2026-01-27T10:00:00Z\nrisk_class: DB_MIGRATION\n"
        "blast_radius: Prometheus metrics freshness only\nchanges_summary: x\n"
        "rollback_ref: 'command: git revert HEAD'\noutcome: SUCCESS\n"))
    high_risk.stage()
    code, out, _err = opsgov(high_risk.path, "check")
    assert code == 1 and {"L121", "L102"} <= set(finding_codes(out)), out


def test_readable_identities_in_any_script_pass(high_risk: Repo) -> None:
    for approver in ("bob@example.com", "Bob <bob@example.com>", "jos\u00e9@example.com",
                     "\u03b4\u03b7\u03bc\u03b7\u03c4\u03c1\u03b7\u03c2@example.gr", "\u674e\u96f7@example.cn"):
        assert problems(approver) == [], approver
    code, out, err = _record(high_risk, "\u03b4\u03b7\u03bc\u03b7\u03c4\u03c1\u03b7\u03c2@example.gr")
    assert code == 0, out + err


def test_an_approvers_list_with_an_invisible_name_is_a_broken_configuration(high_risk: Repo) -> None:
    high_risk.write(".opsgov.yaml", "custom_risk_classes: [DB_MIGRATION]\napprovers: [\"bob@example.com\\u200B\"]\n")
    code, out, err = opsgov(high_risk.path, "validate")
    assert code == 2 and "C001 approvers.0" in err and "U+200B ZERO WIDTH SPACE" in err


def test_comparison_form() -> None:
    assert comparable("Ａlice@Example.COM\u200b") == "alice@example.com"
    assert normalise_person("Alice <ALICE@example.com\u200b>") == normalise_person("alice@example.com")
    assert normalise_person("\u0430lice@example.com") != normalise_person("alice@example.com")
