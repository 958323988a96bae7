from __future__ import annotations

from pathlib import Path

import pytest

from tools import docs_config

ROOT = Path(__file__).resolve().parents[2]


def test_configuration_reference_is_in_sync_with_the_schema() -> None:
    assert docs_config.main(["--check", str(ROOT / "docs" / "configuration.md")]) == 0, \
        "docs/configuration.md is stale: run python -m tools.docs_config"


def test_check_fails_on_a_stale_file_and_writing_fixes_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "configuration.md"
    target.write_text("old\n", encoding="utf-8")
    assert docs_config.main(["--check", str(target)]) == 1
    assert capsys.readouterr().err == f"{target} is out of date; run: python -m tools.docs_config\n"
    assert docs_config.main([str(target)]) == 0
    assert capsys.readouterr().out == f"wrote {target}\n"
    assert docs_config.main(["--check", str(target)]) == 0
    assert docs_config.main([str(target)]) == 0          # already current: nothing written
    assert capsys.readouterr().out == ""


def test_every_schema_key_is_documented_with_its_default() -> None:
    from opsgov_hooks.policy.schemas import load_schema

    text = docs_config.render()
    for key, prop in load_schema("config.schema.json")["properties"].items():
        assert f"\n### {key}\n" in text
        assert f"| [`{key}`](#{key}) |" in text
    assert "Default: `ops/operations`" in text and "Default: `24`" in text
    assert "| `ledger.backend` | `yaml` \\| `markdown` \\| `tags` |" in text
    assert "| `forbidden[].secrets` | boolean | Scan added lines for secrets with detect-secrets. |" in text


def test_descriptions_cannot_open_html_tags() -> None:
    assert docs_config.text("<operations_dir>/<ID>.md | x") == "\\<operations_dir\\>/\\<ID\\>.md \\| x"
