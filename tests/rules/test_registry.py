"""The rule registry and codes.py agree: every rule's codes are explained, every code has an owner."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from opsgov_hooks import codes
from opsgov_hooks.check import runner
from opsgov_hooks.findings import error
from opsgov_hooks.policy.config import Policy
from opsgov_hooks.records.store import RecordSet
from opsgov_hooks.rules import registry

ROOT = Path(__file__).resolve().parents[2]


def test_every_code_in_codes_py_has_an_owner() -> None:
    assert sorted(set(codes.CODES) - set(registry.owners())) == []


def test_every_declared_code_is_in_codes_py() -> None:
    assert registry._unknown_codes(list(registry.owners())) == []
    assert registry._unknown_codes(["G001", "Z999"]) == ["Z999"]


def test_schema_codes_are_owned_by_the_parsers() -> None:
    """The JSON schemas name the codes their violations become; those codes are the parsers'."""
    parsers = set().union(*registry.OTHER_OWNERS.values())
    for path in (ROOT / "schemas").glob("*.json"):
        text = path.read_text(encoding="utf-8")
        for code in {c for c in _schema_codes(json.loads(text))}:
            assert code in parsers, (path.name, code)


def _schema_codes(node: object) -> set[str]:
    if isinstance(node, dict):
        found = {node["x-opsgov-code"]} if "x-opsgov-code" in node else set()
        return found.union(*(_schema_codes(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_schema_codes(v) for v in node))
    return set()


def test_each_rule_is_declared_once_with_a_kind_it_can_run_in() -> None:
    names = [r.name for r in registry.RULES]
    assert len(names) == len(set(names))
    checks = [r.check for r in registry.RULES]
    assert len(checks) == len(set(checks))
    for rule in registry.RULES:
        assert rule.codes, rule.name
        assert rule.facts is None or rule.reads is registry.Reads.HISTORY, rule.name
        assert not rule.clock or rule.reads is registry.Reads.OPERATION, rule.name  # the memo's concern only


def test_every_kind_of_facts_has_its_preparer() -> None:
    from opsgov_hooks.check.preparers import PREPARERS

    assert set(PREPARERS) == set(registry.Facts)
    assert {r.facts for r in registry.RULES if r.facts is not None} == set(registry.Facts)


def _imported(tree: ast.AST) -> list[str]:
    """Every module and ``module.name`` a module's source imports."""
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names += [str(node.module)] + [f"{node.module}.{a.name}" for a in node.names]
    return names


def test_rules_run_no_process_and_open_no_file() -> None:
    """Rules are pure functions over prepared data: git, caches and temporary files are the preparers'."""
    forbidden = {"subprocess", "tempfile", "os", "shutil", "opsgov_hooks.git.process", "opsgov_hooks.speed"}
    found = []
    for path in sorted((ROOT / "opsgov_hooks" / "rules").glob("*.py")):
        for name in _imported(ast.parse(path.read_text(encoding="utf-8"))):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.name}: {name}")
            # The one Git a rule module names is the context's field, which the runner fills.
            if name == "opsgov_hooks.git.gitio.Git" and path.name != "context.py":
                found.append(f"{path.name}: {name}")
    assert found == []


def test_a_code_outside_codes_py_stops_opsgov_from_loading(tmp_path: Path) -> None:
    """Declaring an unexplained code is caught when the registry loads, before any test runs."""
    script = ("import opsgov_hooks.codes as c; c.CODES.pop('X012'); import opsgov_hooks.rules.registry")
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "rules/registry.py declares codes missing from codes.py: X012" in proc.stderr


def test_the_runner_refuses_a_code_its_rule_does_not_declare(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(registry._RESOLVED, "test:rogue", lambda records, policy: [error("L005", "not mine", "x.md")])
    rogue = registry.Rule("rogue", registry.Reads.RECORD_SET, frozenset({"D006"}), "test:rogue")
    monkeypatch.setattr(runner, "_SET_RULES", [rogue])
    with pytest.raises(AssertionError, match="rule rogue emitted L005, which it does not declare"):
        runner.run_record_rules(RecordSet(), Policy())
    monkeypatch.delenv(runner.STRICT_CODES_ENV)
    assert [f.code for f in runner.run_record_rules(RecordSet(), Policy())] == ["L005"]


def test_a_rule_family_is_imported_only_when_one_of_its_rules_runs() -> None:
    """A staged change the memo answers must not load the execution-log parsers (issue 17)."""
    import subprocess
    import sys

    code = ("import sys; from opsgov_hooks.rules import registry; "
            "assert 'opsgov_hooks.rules.execution' not in sys.modules; "
            "rule = next(r for r in registry.RULES if r.name == 'log_present'); rule.check; "
            "assert 'opsgov_hooks.rules.execution' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
    for rule in registry.RULES:
        module, function = rule.where.split(":")
        assert callable(rule.check) and rule.check.__name__ == function, rule.name


def test_clock_rules_are_never_remembered() -> None:
    clocked = [r.name for r in registry.RULES if r.clock]
    assert clocked == ["timestamps"]
