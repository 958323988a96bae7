"""Writing the ledger entry into section 6: only the block's lines change, and R005 then agrees."""
from __future__ import annotations

import pytest

from conftest import Repo, entry_text
from execution_helpers import OP, RECORD, runbook
from opsgov_hooks.findings import UsageError
from opsgov_hooks.execution.signoff_block import fill_signoff


def test_replaces_only_the_block(repo: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    before = runbook(signoff="operation_id: OPS-2026-01-27-001\napproved_by: <username/email | SELF if solo>\n")
    entry = entry_text(OP, approved_by="SELF", outcome="ROLLBACK", rollback_timestamp="2026-01-27T11:00:00Z",
                       rollback_evidence="restored")
    after = fill_signoff(before, entry, RECORD)
    head, tail = before.split("```yaml\n")[0], before.split("```yaml\n")[1].split("```")[1]
    assert after == head + "```yaml\n" + entry.removeprefix("---\n") + "```" + tail
    repo.write(RECORD, after)
    repo.write("ops/ledger/2026-01.yaml", entry)
    repo.chdir(monkeypatch)
    assert run_cli("validate") == (0, "", "")


def test_empty_block_and_missing_block(repo: Repo) -> None:
    entry = "operation_id: OPS-2026-01-27-001\n"
    empty = runbook().split("```yaml\n")[0] + "```yaml\n```\n"
    assert fill_signoff(empty, entry, RECORD).endswith("```yaml\noperation_id: OPS-2026-01-27-001\n```\n")
    missing = runbook().split("```yaml\n")[0] + "Approved in the change meeting.\n"
    assert fill_signoff(missing, entry, RECORD).endswith(
        "Approved in the change meeting.\n\n```yaml\noperation_id: OPS-2026-01-27-001\n```\n")


def test_no_section_6(repo: Repo) -> None:
    with pytest.raises(UsageError, match="has no '## 6\\) Signoff & Ledger Entry' section"):
        fill_signoff(runbook().split("## 6)")[0], "operation_id: x\n", RECORD)
