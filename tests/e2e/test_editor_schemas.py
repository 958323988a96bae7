"""Schemas an editor really uses: what 'opsgov init' writes resolves, and the real yaml-language-server
(installed from npm by .ci/run) reports an unknown key, a missing field and a wrong enum value at
their lines; check-jsonschema reads what it can (docs/records.md, "Editors and other schema tools")."""
from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import Repo
from yaml_language_server import DEFAULT_SERVER, LanguageServer, server_command

ROOT = Path(__file__).resolve().parents[2]
MODELINE = "# yaml-language-server: $schema="

LEDGER = """\
# yaml-language-server: $schema=../../.opsgov/schemas/ledger-entry.schema.json
---
operation_id: OPS-2026-01-27-001
operation_name: Tune Prometheus scrape interval
requested_by: alice@example.com
approved_by: bob@example.com
approval_timestamp: 2026-01-27T09:30:00Z
execution_timestamp: 2026-01-27T10:00:00Z
risk_class: SERVICE_RESTART
changes_summary: scrape_interval 15s -> 30s
rollback_ref: 1a2b3c4
outcome: DONE
aprover: bob
"""


@pytest.fixture
def initialised(repo: Repo, run_cli: Any) -> Repo:
    code, _out, err = run_cli("init", "-C", str(repo.path))
    assert (code, err) == (0, "")
    return repo


def test_init_points_the_config_at_a_schema_copy_that_exists(initialised: Repo) -> None:
    first = initialised.read(".opsgov.yaml").splitlines()[0]
    assert first == f"{MODELINE}.opsgov/schemas/config.schema.json"
    target = initialised.path / first.removeprefix(MODELINE)   # relative to the file, which is at the root
    assert target.read_bytes() == (ROOT / "schemas" / "config.schema.json").read_bytes()
    for name in ("declaration.schema.json", "ledger-entry.schema.json"):
        assert (initialised.path / ".opsgov/schemas" / name).read_bytes() == (ROOT / "schemas" / name).read_bytes()


@pytest.fixture(scope="module")
def language_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LanguageServer]:
    command = server_command()
    if command is None:
        # .ci/run installs it whenever npm is present, and says so when npm is absent.
        pytest.skip(f"yaml-language-server is not installed at {DEFAULT_SERVER}: npm is absent "
                    "(.ci/run installs it with 'npm install --prefix .ci/node yaml-language-server')")
    server = LanguageServer(command, tmp_path_factory.mktemp("editor"))
    yield server
    server.close()


def _by_line(diagnostics: list[dict[str, Any]]) -> dict[int, str]:
    return {d["range"]["start"]["line"] + 1: d["message"] for d in diagnostics}


def test_yaml_language_server_reports_the_three_mistakes_at_their_lines(initialised: Repo,
                                                                       language_server: LanguageServer) -> None:
    path = initialised.write("ops/ledger/2026-01.yaml", LEDGER)
    found = _by_line(language_server.diagnostics(path))
    assert found == {
        3: 'Missing property "blast_radius".',                                          # the entry starts here
        12: 'Value is not accepted. Valid values: "SUCCESS", "ROLLBACK", "PARTIAL".',   # outcome: DONE
        13: "Property aprover is not allowed.",                                          # a typo of approved_by
    }


def test_yaml_language_server_reads_the_schema_init_points_at(initialised: Repo,
                                                             language_server: LanguageServer) -> None:
    text = initialised.read(".opsgov.yaml")
    assert language_server.diagnostics(initialised.path / ".opsgov.yaml") == []   # the file init writes is valid
    broken = text.replace("\nsolo_mode: false\n", "\nsolo_mode: false\nsolo_mod: true\n", 1)
    assert broken != text
    path = initialised.write("copy/.opsgov.yaml", broken.replace(MODELINE + ".opsgov/", MODELINE + "../.opsgov/", 1))
    line = broken.splitlines().index("solo_mod: true") + 1
    assert _by_line(language_server.diagnostics(path)) == {line: "Property solo_mod is not allowed."}


def test_yaml_language_server_accepts_a_valid_ledger(initialised: Repo, language_server: LanguageServer) -> None:
    valid = LEDGER.replace("outcome: DONE\naprover: bob\n", "outcome: SUCCESS\nblast_radius: metrics freshness\n")
    path = initialised.write("ops/ledger/2026-02.yaml", valid + valid.split("\n", 1)[1])   # two entries
    assert language_server.diagnostics(path) == []


# -- check-jsonschema: what it can read, and where it stops -------------------------------------------

def _check_jsonschema(repo: Repo, *args: str) -> subprocess.CompletedProcess[str]:
    tool = Path(sys.executable).with_name("check-jsonschema")
    return subprocess.run([str(tool) if tool.exists() else shutil.which("check-jsonschema") or "check-jsonschema",
                           *args], cwd=repo.path, capture_output=True, text=True)


def test_check_jsonschema_recipe_for_the_configuration(initialised: Repo) -> None:
    ok = _check_jsonschema(initialised, "--schemafile", ".opsgov/schemas/config.schema.json", ".opsgov.yaml")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    initialised.write(".opsgov.yaml", initialised.read(".opsgov.yaml") + "solo_mod: true\n")
    bad = _check_jsonschema(initialised, "--schemafile", ".opsgov/schemas/config.schema.json", ".opsgov.yaml")
    assert bad.returncode == 1 and "solo_mod" in bad.stdout


def test_check_jsonschema_reads_one_entry_but_not_a_month_of_them(initialised: Repo) -> None:
    entry = LEDGER.replace("outcome: DONE\naprover: bob\n", "outcome: SUCCESS\nblast_radius: metrics\n")
    initialised.write("ops/ledger/2026-01.yaml", entry)
    one = _check_jsonschema(initialised, "--schemafile", ".opsgov/schemas/ledger-entry.schema.json",
                            "ops/ledger/2026-01.yaml")
    assert one.returncode == 0, one.stdout + one.stderr
    initialised.write("ops/ledger/2026-01.yaml", entry + entry.split("\n", 1)[1])
    two = _check_jsonschema(initialised, "--schemafile", ".opsgov/schemas/ledger-entry.schema.json",
                            "ops/ledger/2026-01.yaml")
    assert two.returncode == 1 and "expected a single document" in two.stdout
