"""One failing and one passing example per finding code: ``tests/examples/<CODE>/{pass,fail}/``.

Each side is a folder of records as a repository holds them (``ops/operations/``,
``ops/ledger/``), judged by ``opsgov validate``: the failing side reports the code, the
passing side does not report it (and passes). Add a code's examples here when its rule
can be shown on records alone; the gate's, history's and the report's codes are shown
by their rule family's tests under tests/rules/ and tests/e2e/.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from opsgov_hooks import codes

EXAMPLES = Path(__file__).resolve().parent / "examples"
# A side holding ``example.yaml`` is a history example (git steps, then a gate command),
# driven by tests/test_history_examples.py; every other side is a folder of records.
CODES = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir() and not p.name.startswith("_"))
RECORD_CODES = [c for c in CODES if not (EXAMPLES / c / "fail" / "example.yaml").exists()]


def _codes_reported(run_cli, folder: Path) -> tuple[int, set[str]]:  # type: ignore[no-untyped-def]
    status, out, err = run_cli("validate", "-C", str(folder), "--format", "text")
    assert "Traceback" not in err
    return status, {line.split(": ")[1].split()[0] for line in out.splitlines() if ": " in line}


def test_every_example_names_a_known_code() -> None:
    assert CODES and sorted(set(CODES) - set(codes.CODES)) == []
    for code in CODES:
        assert sorted(p.name for p in (EXAMPLES / code).iterdir() if p.is_dir()) == ["fail", "pass"]


@pytest.mark.parametrize("code", RECORD_CODES)
def test_the_failing_example_reports_the_code(code: str, tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    folder = shutil.copytree(EXAMPLES / code / "fail", tmp_path / "repo")
    status, reported = _codes_reported(run_cli, folder)
    assert status == 1 and code in reported, reported


@pytest.mark.parametrize("code", RECORD_CODES)
def test_the_passing_example_is_clean(code: str, tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    folder = shutil.copytree(EXAMPLES / code / "pass", tmp_path / "repo")
    assert _codes_reported(run_cli, folder) == (0, set())
