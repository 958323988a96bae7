"""One failing and one passing example per finding code: ``tests/examples/<CODE>/{pass,fail}/``.

Each side is a folder of records as a repository holds them (``ops/operations/``,
``ops/ledger/``, a ``.opsgov.yaml`` when the rule reads the configuration), judged by
``opsgov validate``: the failing side reports the code and nothing else (so the example
shows that rule, not an accident); the passing side, the failing side with its one fault
fixed, reports nothing and passes. The failing side's exit status is what the code's
severity makes it: 1 for an error, 0 for a warning alone, 2 for a configuration code
(a broken configuration stops every command).

What git cannot hold, or what is too big to keep, a side declares in ``special.yaml``
(removed from the judged copy), and this module builds it before the run: ``fifos:``
(a FIFO at each path) and ``grow:`` (path: the file grown to that many bytes with comment
and blank lines). A side may hold symbolic links; they are copied as links.

Add a code's examples here when its rule can be shown on records alone; the gate's,
history's and the report's codes are shown by history examples (a side holding
``example.yaml``, tests/test_history_examples.py).
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
import yaml

from opsgov_hooks import codes

EXAMPLES = Path(__file__).resolve().parent / "examples"
# A side holding ``example.yaml`` is a history example (git steps, then a gate command),
# driven by tests/test_history_examples.py; every other side is a folder of records.
CODES = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir() and not p.name.startswith("_"))
RECORD_CODES = [c for c in CODES if not (EXAMPLES / c / "fail" / "example.yaml").exists()]
SPECIAL = "special.yaml"
# ``path:line:col: CODE [warning: ]message``: findings on stdout, a broken configuration's on stderr.
FINDING = re.compile(r"^.*?:\d+:\d+: (?P<code>[A-Z]\d{3}) (?P<warning>warning: )?")


# The families judged on records and configuration alone: each of their codes has a record
# example, except those whose records git alone holds (shown by a history example).
RECORD_FAMILIES = "FDLCRX"
NEEDS_HISTORY = {"L009": "a ledger entry read from an ops-* tag's message (ledger: tags): validate reads it from git"}


# The failing side reports its code and nothing else, but for a fault that by its nature brings
# another: D005's declaration is invalid, so the ledger entry of its OPERATION_ID is undeclared.
COMPANIONS = {"D005": {"L008"}}


def _side(code: str, name: str, tmp_path: Path) -> Path:
    """A copy of one side of ``code``'s example, with what its ``special.yaml`` declares built."""
    folder = Path(shutil.copytree(EXAMPLES / code / name, tmp_path / "repo", symlinks=True))
    special = folder / SPECIAL
    if special.exists():
        spec = yaml.safe_load(special.read_text(encoding="utf-8"))
        special.unlink()
        assert set(spec) <= {"fifos", "grow"}, f"{code}/{name}/{SPECIAL}: unknown keys {sorted(spec)}"
        for path in spec.get("fifos", []):
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            os.mkfifo(folder / path)
        for path, size in spec.get("grow", {}).items():
            _grow(folder / path, size)
    return folder


def _grow(path: Path, size: int) -> None:
    raw = path.read_bytes()
    missing = size - len(raw)
    assert missing > 0, f"{path} is already {len(raw)} bytes"
    line = b"# " + b"-" * 77 + b"\n"
    path.write_bytes(raw + line * (missing // len(line)) + b"\n" * (missing % len(line)))
    assert path.stat().st_size == size


def _codes_reported(run_cli, folder: Path) -> tuple[int, dict[str, set[str]]]:  # type: ignore[no-untyped-def]
    """The exit status, and each reported code with its severities ('error', 'warning')."""
    status, out, err = run_cli("validate", "-C", str(folder), "--format", "text")
    assert "Traceback" not in err
    reported: dict[str, set[str]] = {}
    for line in (out + err).splitlines():
        found = FINDING.match(line)
        if found:
            reported.setdefault(found["code"], set()).add("warning" if found["warning"] else "error")
    return status, reported


def _failing_status(code: str, severities: set[str]) -> int:
    if code.startswith("C"):
        return 2
    return 1 if "error" in severities else 0


def test_every_example_names_a_known_code() -> None:
    assert CODES and sorted(set(CODES) - set(codes.CODES)) == []
    for code in CODES:
        assert sorted(p.name for p in (EXAMPLES / code).iterdir() if p.is_dir()) == ["fail", "pass"]
    for code in RECORD_CODES:
        readme = (EXAMPLES / code / "README.md").read_text(encoding="utf-8")
        assert readme.startswith(f"{code}: ") and readme.count("\n") == 1, readme


def test_every_code_judged_on_records_has_an_example() -> None:
    missing = [c for c in codes.CODES if c[0] in RECORD_FAMILIES and c not in CODES and c not in NEEDS_HISTORY]
    assert missing == [], f"add tests/examples/<CODE>/{{fail,pass}}/ for {missing}"


@pytest.mark.parametrize("code", RECORD_CODES)
def test_the_failing_example_reports_the_code(code: str, tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    status, reported = _codes_reported(run_cli, _side(code, "fail", tmp_path))
    assert set(reported) == {code} | COMPANIONS.get(code, set()), reported
    assert status == _failing_status(code, reported[code]), (status, reported)


@pytest.mark.parametrize("code", RECORD_CODES)
def test_the_passing_example_is_clean(code: str, tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert _codes_reported(run_cli, _side(code, "pass", tmp_path)) == (0, {})
