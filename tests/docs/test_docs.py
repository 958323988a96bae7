"""docs/records.md examples are real; docs/rules.md is in sync with codes.py; `opsgov explain`."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Repo, init_repo
from opsgov_hooks import codes
from tools import docgen
from opsgov_hooks.policy.config import resolve_policy

ROOT = Path(__file__).resolve().parents[2]
RECORDS_MD = ROOT / "docs" / "records.md"
RULES_MD = ROOT / "docs" / "rules.md"

_EXAMPLE = re.compile(r"<!-- example: (\S+) (\S+)( same-as-yaml)? -->\n(?:(`{3,})[^\n]*\n(.*?)\n\4\n)?", re.S)
_OUTPUT = re.compile(r"<!-- output: (\S+) -->\n```text\n(.*?)```\n", re.S)


def _examples() -> dict[str, dict[str, str]]:
    """scenario -> {path: content} from the ``<!-- example: scenario path -->`` blocks of records.md."""
    scenarios: dict[str, dict[str, str]] = {}
    for m in _EXAMPLE.finditer(RECORDS_MD.read_text(encoding="utf-8")):
        scenario, path, same, _fence, body = m.groups()
        content = scenarios["yaml"][path] if same else body + "\n"
        assert body is not None or same, f"example {scenario} {path} has no code block"
        scenarios.setdefault(scenario, {})[path] = content
    return scenarios


def _outputs() -> dict[str, str]:
    return {m[1]: m[2] for m in _OUTPUT.finditer(RECORDS_MD.read_text(encoding="utf-8"))}


def _materialise(repo: Repo, files: dict[str, str]) -> None:
    """Write the files; ``tag:NAME`` becomes an annotated tag whose message is the content."""
    tags = {path: text for path, text in files.items() if path.startswith("tag:")}
    for path, text in files.items():
        if not path.startswith("tag:"):
            repo.write(path, text)
    repo.commit("records")
    for path, message in tags.items():
        repo.write("../message.txt", message)
        repo.git("tag", "-a", path.removeprefix("tag:"), "-F", str(repo.path.parent / "message.txt"))


def test_records_md_has_every_scenario() -> None:
    scenarios = _examples()
    assert set(scenarios) == {"yaml", "markdown", "tags", "config", "broken", "broken-config"}
    assert set(scenarios["yaml"]) == {"ops/operations/OPS-2026-01-27-001.md", "ops/operations/OPS-2026-01-28-001.md",
                                      "ops/ledger/2026-01.yaml"}
    assert set(_outputs()) == {"broken", "broken-config"}


@pytest.mark.parametrize("scenario", ["yaml", "markdown", "tags"])
def test_records_md_examples_validate(scenario: str, tmp_path: Path, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo = init_repo(tmp_path / scenario)
    _materialise(repo, _examples()[scenario])
    repo.chdir(monkeypatch)
    assert run_cli("validate") == (0, "", "")
    code, out, _ = run_cli("validate", "--format", "json")
    assert (code, json.loads(out)) == (0, {"ok": True, "findings": []})


def test_records_md_ledger_examples_are_read_as_entries(tmp_path: Path) -> None:
    from opsgov_hooks.records.ledger import parse_changelog, parse_ledger_yaml

    examples = _examples()
    entries, findings = parse_ledger_yaml("ops/ledger/2026-01.yaml", examples["yaml"]["ops/ledger/2026-01.yaml"].encode())
    assert findings == [] and [e.get("outcome") for e in entries] == ["SUCCESS", "ROLLBACK"]
    entries, findings = parse_changelog("docs/OPS_CHANGELOG.md",
                                        examples["markdown"]["docs/OPS_CHANGELOG.md"].encode())
    assert findings == [] and [e.operation_id for e in entries] == ["OPS-2026-01-27-001"]


def test_records_md_config_examples(tmp_path: Path, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    files = _examples()["config"]
    from_yaml = resolve_policy(files[".opsgov.yaml"].encode(), None)
    from_toml = resolve_policy(None, files["pyproject.toml"].encode())
    for field in ("governed_paths", "ledger_backend", "ledger_path", "custom_risk_classes", "approvers", "signoff"):
        assert getattr(from_yaml, field) == getattr(from_toml, field), field
    for name, content in files.items():
        repo = init_repo(tmp_path / name)
        repo.write(name, content)
        repo.chdir(monkeypatch)
        assert run_cli("validate") == (0, "", "")


def test_records_md_outputs_are_real(tmp_path: Path, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    examples, outputs = _examples(), _outputs()
    repo = init_repo(tmp_path / "broken")
    _materialise(repo, examples["broken"])
    repo.chdir(monkeypatch)
    assert run_cli("validate") == (1, outputs["broken"], "")
    repo = init_repo(tmp_path / "broken-config")
    _materialise(repo, examples["broken-config"])
    repo.chdir(monkeypatch)
    assert run_cli("validate") == (2, "", outputs["broken-config"])


def _schema_properties(node: object, prefix: str = "") -> set[str]:
    names: set[str] = set()
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            names.add(name)
            names |= _schema_properties(sub)
        for key in ("items", "additionalProperties"):
            names |= _schema_properties(node.get(key))
    return names


@pytest.mark.parametrize("schema", ["declaration.schema.json", "ledger-entry.schema.json", "config.schema.json"])
def test_records_md_mentions_every_schema_property(schema: str) -> None:
    text = RECORDS_MD.read_text(encoding="utf-8")
    names = _schema_properties(json.loads((ROOT / "schemas" / schema).read_text(encoding="utf-8")))
    assert names and sorted(n for n in names if f"`{n}`" not in text) == []


def test_records_md_mentions_every_foundation_code() -> None:
    text = RECORDS_MD.read_text(encoding="utf-8")
    mentioned = set(re.findall(r"`([FDLC]\d{3})`", text)) | {
        f"{m[1]}{n:03d}" for m in re.finditer(r"`([FDLC])(\d{3})`-`[FDLC](\d{3})`", text)
        for n in range(int(m[2]), int(m[3]) + 1)}
    wanted = {c for c in codes.CODES if c[0] in "FDLC" and c != "F012"}
    assert sorted(wanted - mentioned) == []


# -- docs/rules.md ---------------------------------------------------------------------

def test_rules_md_is_in_sync() -> None:
    proc = subprocess.run([sys.executable, "-m", "tools.docgen", "--check"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert RULES_MD.read_text(encoding="utf-8") == docgen.render()


def test_docgen_check_detects_a_stale_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "rules.md"
    assert docgen.main(["--check", "--output", str(target)]) == 1
    assert "out of date" in capsys.readouterr().err
    assert docgen.main(["--output", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == docgen.render()
    assert docgen.main(["--check", "--output", str(target)]) == 0
    target.write_text(docgen.render().replace("file is binary", "file is binry"), encoding="utf-8")
    assert docgen.main(["--check", "--output", str(target)]) == 1


def test_rules_md_lists_every_code_grouped_by_range() -> None:
    text = docgen.render()
    headings = re.findall(r"^## ([A-Z]): ", text, re.M)
    assert headings == [letter for letter in codes.RANGES if any(c.startswith(letter) for c in codes.CODES)]
    for code in codes.CODES.values():
        assert f"\n### {code.code}\n\n**{code.title}.** {code.explanation}\n" in text
        assert f"| [{code.code}](#{code.code.lower()}) | {code.title} |" in text


def test_code_table_is_well_formed() -> None:
    for key, code in codes.CODES.items():
        assert key == code.code and re.fullmatch(r"[A-Z][0-9]{3}", key)
        assert key[0] in codes.RANGES
        assert code.title and code.explanation.endswith((".", ")"))


# -- opsgov explain --------------------------------------------------------------------

def test_explain_a_code(run_cli) -> None:  # type: ignore[no-untyped-def]
    code = codes.CODES["F007"]
    expected = (f"F007: {code.title}\n\n{code.explanation}\n\n"
                "Area: files and YAML syntax (the strict loader). See docs/rules.md.\n")
    assert run_cli("explain", "F007") == (0, expected, "")
    assert run_cli("explain", " f007 ") == (0, expected, "")


def test_explain_lists_every_code(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("explain")
    assert (code, err) == (0, "")
    assert out.splitlines() == [f"{c.code}  {c.title}" for c in sorted(codes.CODES.values(), key=lambda c: c.code)]


def test_explain_an_unknown_code_is_exit_2(run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("explain", "Z999") == (2, "", "opsgov: error: unknown finding code 'Z999'; 'opsgov explain' "
                                                 "lists every code (also in docs/rules.md)\n")


def test_help_lists_explain_and_validate(run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run_cli("--help")
    assert code == 0 and "explain   Explain a finding code." in out and "validate  Validate operation records" in out
