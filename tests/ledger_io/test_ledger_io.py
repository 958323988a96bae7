"""Ledger writers: write-and-read round trips, byte-for-byte preservation, atomic replacement."""
from __future__ import annotations

import os
import stat

import pytest

from conftest import Repo, entry_text
from lifecycle_helpers import OP, declare

pytest_plugins = ["conftest_lifecycle"]

from opsgov_hooks.policy.config import default_policy, policy_from_mapping
from opsgov_hooks.findings import UsageError
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.ledger_io import open_backend
from opsgov_hooks.atomicfile import write_atomic
from opsgov_hooks.ledger_io.render import render_entry, scalar
from opsgov_hooks.records.ledger import parse_changelog, parse_ledger_yaml
from opsgov_hooks.records.located import at_entry
from opsgov_hooks.records.yamlstrict import load_documents

FIELDS = {
    "operation_id": "OPS-2026-01-27-002",
    "operation_name": "Tune Prometheus scrape interval",
    "requested_by": "alice@example.com",
    "approved_by": "bob@example.com",
    "approval_timestamp": "2026-01-27T09:00:00Z",
    "execution_timestamp": "2026-01-27T10:00:00Z",
    "risk_class": "LOW_RISK_CONFIG",
    "blast_radius": "Prometheus metrics freshness only",
    "changes_summary": "scrape_interval 15s -> 30s",
    "rollback_ref": "command: git revert HEAD",
    "outcome": "SUCCESS",
}

# Comments, odd quoting and a non-standard key order: all must survive every write.
EXISTING_YAML = (
    "# Ledger for January 2026. Keep this header.\n"
    "---\n"
    "operation_id: \"OPS-2026-01-27-001\"   # quoted on purpose\n"
    "operation_name: 'Tune Prometheus scrape interval'\n"
    "risk_class: LOW_RISK_CONFIG\n"
    "requested_by: alice@example.com\n"
    "approved_by: bob@example.com\n"
    "approval_timestamp: 2026-01-27T09:00:00Z\n"
    "execution_timestamp: 2026-01-27T10:00:00Z\n"
    "blast_radius: Prometheus metrics freshness only\n"
    "changes_summary: scrape_interval 15s -> 30s\n"
    "rollback_ref: 'command: git revert HEAD'\n"
    "outcome: SUCCESS  # verified by curl\n"
    "notes: |\n"
    "  first line\n"
    "  second line\n"
    "# reviewed in retro\n"
    "\n"
)

APPENDED = (
    "---\n"
    "operation_id: OPS-2026-01-27-002\n"
    "operation_name: Tune Prometheus scrape interval\n"
    "requested_by: alice@example.com\n"
    "approved_by: bob@example.com\n"
    "approval_timestamp: 2026-01-27T09:00:00Z\n"
    "execution_timestamp: 2026-01-27T10:00:00Z\n"
    "risk_class: LOW_RISK_CONFIG\n"
    "blast_radius: Prometheus metrics freshness only\n"
    "changes_summary: scrape_interval 15s -> 30s\n"
    "rollback_ref: 'command: git revert HEAD'\n"
    "outcome: SUCCESS\n"
)

ROLLBACK = {"outcome": "ROLLBACK", "rollback_timestamp": "2026-01-27T11:00:00Z",
            "rollback_evidence": "systemctl is-active prometheus: active"}


def _backend(repo: Repo, config: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
    policy = policy_from_mapping(config, ".opsgov.yaml") if config else default_policy()
    return open_backend(Git(str(repo.path)), policy)


def test_yaml_append_only_adds_bytes_at_the_end(repo: Repo) -> None:
    path = repo.write("ops/ledger/2026-01.yaml", EXISTING_YAML)
    before = path.read_bytes()
    backend = _backend(repo)
    plan = backend.plan_append(FIELDS)
    assert plan.findings == [] and path.read_bytes() == before  # planning writes nothing
    backend.commit(plan)
    after = path.read_bytes()
    assert after == before + APPENDED.encode()
    entries, findings = parse_ledger_yaml("ops/ledger/2026-01.yaml", after)
    assert findings == []
    assert [e.fields for e in entries][1] == FIELDS
    assert plan.entry is not None and at_entry(plan.entry) == ("ops/ledger/2026-01.yaml", 20, 1)


def test_yaml_append_to_a_file_without_final_newline_and_to_a_new_file(repo: Repo) -> None:
    path = repo.write("ops/ledger/2026-01.yaml", EXISTING_YAML.rstrip("\n"))
    backend = _backend(repo)
    backend.commit(backend.plan_append(FIELDS))
    assert path.read_text() == EXISTING_YAML.rstrip("\n") + "\n" + APPENDED
    backend.commit(backend.plan_append({**FIELDS, "operation_id": "OPS-2026-02-01-001"}))
    assert repo.read("ops/ledger/2026-02.yaml") == APPENDED.replace("OPS-2026-01-27-002", "OPS-2026-02-01-001")


def test_yaml_rollback_changes_only_that_entrys_lines(repo: Repo) -> None:
    text = EXISTING_YAML + APPENDED
    path = repo.write("ops/ledger/2026-01.yaml", text)
    backend = _backend(repo)
    entries, _ = parse_ledger_yaml("x/2026-01.yaml", text.encode())
    target = entries[0]
    backend.commit(backend.plan_update(OP, ROLLBACK))
    after = path.read_text()
    assert after == text.replace(
        "outcome: SUCCESS  # verified by curl\n", "outcome: ROLLBACK  # verified by curl\n", 1).replace(
        "  second line\n", "  second line\nrollback_timestamp: 2026-01-27T11:00:00Z\n"
        "rollback_evidence: 'systemctl is-active prometheus: active'\n", 1)
    # Whatever span convention the loader uses, the lines outside the entry's span are untouched.
    old_lines, new_lines = text.splitlines(keepends=True), after.splitlines(keepends=True)
    inserted = len(new_lines) - len(old_lines)
    assert inserted == 2
    assert new_lines[:target.line - 1] == old_lines[:target.line - 1]
    assert new_lines[target.end_line - 1 + inserted:] == old_lines[target.end_line - 1:]
    entries_after, findings = parse_ledger_yaml("ops/ledger/2026-01.yaml", path.read_bytes())
    assert findings == []
    assert entries_after[0].fields == {**target.fields, **ROLLBACK}
    assert entries_after[1].fields == entries[1].fields


def test_update_of_a_value_written_as_a_block_scalar(repo: Repo) -> None:
    path = repo.write("ops/ledger/2026-01.yaml", EXISTING_YAML)
    backend = _backend(repo)
    backend.commit(backend.plan_update(OP, {"notes": "first line\nsecond line\nthird line\n"}))
    assert path.read_text() == EXISTING_YAML.replace(
        "notes: |\n  first line\n  second line\n", 'notes: "first line\\nsecond line\\nthird line\\n"\n')


def test_markdown_round_trip_keeps_prose_and_only_appends(repo: Repo) -> None:
    prose = ("# Ops changelog\n\nOur team's ledger. *Do not reorder.*\n\n---\n"
             + entry_text(OP).removeprefix("---\n") + "# checked by carol\n---\n\nTrailing prose.\n")
    path = repo.write("docs/OPS_CHANGELOG.md", prose)
    backend = _backend(repo, {"ledger": {"backend": "markdown"}})
    backend.commit(backend.plan_append(FIELDS))
    after = path.read_text()
    assert after == prose + "\n" + APPENDED + "---\n"
    entries, findings = parse_changelog("docs/OPS_CHANGELOG.md", after.encode())
    assert findings == [] and [e.operation_id for e in entries] == [OP, "OPS-2026-01-27-002"]
    backend.commit(backend.plan_update(OP, ROLLBACK))
    rolled = path.read_text()
    assert rolled == after.replace("outcome: SUCCESS\n# checked by carol\n",
                                   "outcome: ROLLBACK\nrollback_timestamp: 2026-01-27T11:00:00Z\n"
                                   "rollback_evidence: 'systemctl is-active prometheus: active'\n"
                                   "# checked by carol\n", 1)


def test_markdown_creates_the_changelog_with_a_header(repo: Repo) -> None:
    backend = _backend(repo, {"ledger": {"backend": "markdown"}})
    backend.commit(backend.plan_append(FIELDS))
    text = repo.read("docs/OPS_CHANGELOG.md")
    assert text.startswith("# Ops changelog\n\n") and text.endswith("\n---\n" + APPENDED.removeprefix("---\n")
                                                                       + "---\n")
    entries, findings = parse_changelog("docs/OPS_CHANGELOG.md", text.encode())
    assert findings == [] and entries[0].fields == FIELDS


def test_tags_backend_keeps_the_entry_pending_in_the_git_directory(repo: Repo) -> None:
    backend = _backend(repo, {"ledger": {"backend": "tags"}})
    plan = backend.plan_append(FIELDS)
    backend.commit(plan)
    pending = repo.path / ".git" / "opsgov" / "pending" / "OPS-2026-01-27-002.yaml"
    assert pending.read_text() == APPENDED.removeprefix("---\n")
    assert plan.path == ".git/opsgov/pending/OPS-2026-01-27-002.yaml"
    entries, findings = backend.pending()  # type: ignore[attr-defined]
    assert findings == [] and entries[0].fields == FIELDS
    backend.commit(backend.plan_update("OPS-2026-01-27-002", ROLLBACK))
    assert pending.read_text() == APPENDED.removeprefix("---\n").replace(
        "outcome: SUCCESS\n", "outcome: ROLLBACK\nrollback_timestamp: 2026-01-27T11:00:00Z\n"
        "rollback_evidence: 'systemctl is-active prometheus: active'\n")
    assert repo.git("status", "--porcelain") == ""  # nothing in the working tree


def test_crlf_and_bom_files_keep_their_form(repo: Repo) -> None:
    crlf = "\ufeff" + EXISTING_YAML.replace("\n", "\r\n")
    path = repo.write("ops/ledger/2026-01.yaml", crlf.encode("utf-8"))
    backend = _backend(repo)
    backend.commit(backend.plan_append(FIELDS))
    backend.commit(backend.plan_update(OP, {"outcome": "PARTIAL", "rollback_timestamp": "2026-01-27T11:00:00Z",
                                            "rollback_evidence": "half of it"}))
    raw = path.read_bytes()
    assert raw.startswith("\ufeff# Ledger".encode()) and b"\n" not in raw.replace(b"\r\n", b"")
    assert raw.endswith(APPENDED.replace("\n", "\r\n").encode())
    assert b"outcome: PARTIAL  # verified by curl\r\n" in raw
    assert b"rollback_evidence: half of it\r\n# reviewed in retro" in raw


def test_update_refuses_what_it_cannot_edit_safely(repo: Repo) -> None:
    backend = _backend(repo)
    with pytest.raises(UsageError, match="has no ledger entry to update"):
        backend.plan_update(OP, ROLLBACK)
    flow = "---\n{" + ", ".join(f"{k}: '{v}'" for k, v in {**FIELDS, "operation_id": OP}.items()) + "}\n"
    repo.write("ops/ledger/2026-01.yaml", flow)
    with pytest.raises(UsageError, match=r"flow style"):
        backend.plan_update(OP, ROLLBACK)
    repo.write("ops/ledger/2026-01.yaml", EXISTING_YAML + "---\nkey: [unclosed\n")
    with pytest.raises(UsageError, match=r"ops/ledger/2026-01.yaml:\d+:\d+: F005 YAML syntax error"):
        backend.plan_update(OP, ROLLBACK)
    with pytest.raises(UsageError, match="fix the ledger file before appending"):
        backend.plan_append(FIELDS)


def test_append_reports_a_duplicate_and_schema_problems_of_the_new_entry(repo: Repo) -> None:
    repo.write("ops/ledger/2026-01.yaml", EXISTING_YAML)
    backend = _backend(repo)
    plan = backend.plan_append({**FIELDS, "operation_id": OP, "approval_timestamp": "2026-13-01T00:00:00Z"})
    assert [(f.code, f.line) for f in plan.findings] == [("L005", 3), ("L004", 24)]


def test_atomic_write_keeps_the_file_mode_and_leaves_no_temporary_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "ledger.yaml"
    target.write_bytes(b"old\n")
    os.chmod(target, 0o640)
    write_atomic(str(target), b"new\n")
    assert target.read_bytes() == b"new\n"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert os.listdir(tmp_path) == ["ledger.yaml"]


def test_atomic_write_failure_leaves_the_old_file(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "ledger.yaml"
    target.write_bytes(b"old\n")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_atomic(str(target), b"new\n")
    assert target.read_bytes() == b"old\n" and os.listdir(tmp_path) == ["ledger.yaml"]


@pytest.mark.parametrize("value, written", [
    ("SELF", "SELF"), ("2026-01-27T10:00:00Z", "2026-01-27T10:00:00Z"),
    ("command: git revert abc1234", "'command: git revert abc1234'"), ("true", "'true'"), ("010", "'010'"),
    ("no", "'no'"), ("it's # not a comment", "'it''s # not a comment'"), ("a#b", "a#b"), ("1.5", "'1.5'"),
    ("*alias", "'*alias'"), (" padded ", "' padded '"), ("two\nlines", '"two\\nlines"'), ("", "''"),
    (True, "true"), (3, "3"),
])
def test_scalars_read_back_exactly(value: object, written: str) -> None:
    assert scalar(value) == written
    docs, findings = load_documents("x", f"k: {written}\n")
    assert findings == [] and docs[0].data == {"k": value}


def test_render_entry_orders_fields_as_p5_and_skips_empty_ones() -> None:
    text = render_entry({"notes": None, "outcome": "SUCCESS", "operation_id": OP, "emergency": True})
    assert text == f"operation_id: {OP}\noutcome: SUCCESS\nemergency: true\n"


def test_declared_fixture_is_usable(repo: Repo) -> None:
    assert declare(repo)  # a commit sha
