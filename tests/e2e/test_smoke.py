from __future__ import annotations

from conftest import Repo, declaration_text, entry_text


def test_valid_records_validate_clean(repo: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo.write("ops/operations/OPS-2026-01-27-001.md", declaration_text())
    repo.write("ops/ledger/2026-01.yaml", entry_text())
    repo.chdir(monkeypatch)
    code, out, err = run_cli("validate")
    assert (code, out, err) == (0, "", "")


def test_missing_field_is_reported_with_position(repo: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo.write("ops/operations/OPS-2026-01-27-001.md", declaration_text(BLAST_RADIUS=None))
    repo.chdir(monkeypatch)
    code, out, _ = run_cli("validate")
    assert code == 1
    assert out.splitlines()[0].startswith(
        "ops/operations/OPS-2026-01-27-001.md:2:1: D001 mandatory field 'BLAST_RADIUS' is missing")
