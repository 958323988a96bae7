"""An approval record an operation does not need (its risk class does not require one) is still a record:
a malformed one, or one naming another operation, is P002 in every mode; its signature is not asked for."""
from __future__ import annotations

import pytest

pytest.register_assert_rewrite("conftest_gate")

from conftest import Repo  # noqa: E402
from conftest_gate import OPS1, Check, codes, operation  # noqa: E402

pytest_plugins = ["conftest_gate"]

APPROVAL = f"ops/approvals/{OPS1}.yaml"
VALID = (f'operation_id: "{OPS1}"\nscope_digest: "sha256:' + "0" * 64 + '"\nrisk_class: "LOW_RISK_CONFIG"\n'
         'approved_by: "bob@example.com"\napproval_timestamp: "2026-01-27T09:00:00Z"\n')


def _declared(gate_repo: Repo) -> Repo:
    operation(gate_repo, OPS1, ["ops/**"])
    gate_repo.commit("declare")
    return gate_repo


@pytest.mark.parametrize("text, expected", [
    ("operation_id: [unclosed\n", "invalid approval record"),
    ("operation_id: x\noperation_id: y\n", "invalid approval record"),
    (VALID.replace(OPS1, "OPS-2026-01-27-002"), f"approves OPS-2026-01-27-002"),
    (VALID + "extra: 1\n", "unknown field 'extra'"),
])
def test_a_malformed_optional_approval_record_is_refused_staged_in_a_range_and_under_all(
        gate_repo: Repo, check: Check, text: str, expected: str) -> None:
    repo = _declared(gate_repo)
    base = repo.head()
    repo.write(APPROVAL, text)
    repo.stage()
    code, out, _err = check(repo)
    assert code == 1 and codes(out) == ["P002"] and out.startswith(f"{APPROVAL}:") and expected in out
    repo.commit(f"approval\n\nOps-Id: {OPS1}")
    code, out, _err = check(repo, "--range", f"{base}..HEAD")
    assert code == 1 and codes(out) == ["P002"] and expected in out
    code, out, _err = check(repo, "--all")
    assert code == 1 and codes(out) == ["P002"] and expected in out


def test_a_valid_optional_approval_record_passes_unsigned(gate_repo: Repo, check: Check) -> None:
    """LOW_RISK_CONFIG needs no signed approval: a valid record in an unsigned commit is fine."""
    repo = _declared(gate_repo)
    base = repo.head()
    repo.write(APPROVAL, VALID)
    repo.stage()
    assert check(repo)[:2] == (0, "")
    repo.commit(f"approval\n\nOps-Id: {OPS1}")
    assert check(repo, "--range", f"{base}..HEAD")[:2] == (0, "")
    assert check(repo, "--all")[:2] == (0, "")
