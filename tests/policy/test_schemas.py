"""The JSON Schemas: well-formed, described, and the two validators always agree on them."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema
import pytest

from opsgov_hooks.policy import schemas
from opsgov_hooks.records.yamlstrict import load_documents

SCHEMA_FILES = ["declaration.schema.json", "ledger-entry.schema.json", "config.schema.json", "findings.schema.json"]
ROOT = Path(__file__).resolve().parents[2]


def _raw(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "schemas" / name).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _properties(node: Any, where: str = "") -> list[tuple[str, Any]]:
    """Every (dotted name, subschema) under ``properties`` anywhere in a schema."""
    found = []
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            found.append((f"{where}{name}", sub))
            found += _properties(sub, f"{where}{name}.")
        for key in ("items", "additionalProperties"):
            if isinstance(node.get(key), dict):
                found += _properties(node[key], where)
    return found


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_schema_is_valid_draft_2020_12_with_id_and_descriptions(name: str) -> None:
    schema = _raw(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"https://opsgov.dev/schemas/{name}"
    assert schema["title"] and schema["description"]
    for field, sub in _properties(schema):
        target = sub
        if "$ref" in sub and "description" not in sub:
            target = schema["$defs"][sub["$ref"].rsplit("/", 1)[1]]
        assert target.get("description"), f"{name}: {field} has no description"


def test_schema_dir_in_a_source_checkout() -> None:
    assert schemas.schema_dir() == ROOT / "schemas"
    assert schemas.load_schema("declaration.schema.json")["$id"].endswith("declaration.schema.json")


def test_declaration_lists_the_seven_mandatory_fields_of_the_standard() -> None:
    assert _raw("declaration.schema.json")["required"] == [
        "OPERATION_ID", "OPERATION_NAME", "OBJECTIVE", "RISK_CLASS", "BLAST_RADIUS", "ROLLBACK_STRATEGY",
        "ALLOWED_PATHS", "ALLOWED_SERVICES"]


def test_ledger_entry_lists_the_p5_fields() -> None:
    schema = _raw("ledger-entry.schema.json")
    assert schema["required"] == ["operation_id", "operation_name", "requested_by", "approved_by",
                                  "approval_timestamp", "execution_timestamp", "risk_class", "blast_radius",
                                  "changes_summary", "rollback_ref", "outcome"]
    assert {"notes", "rollback_timestamp", "rollback_evidence", "emergency"} <= set(schema["properties"])
    assert schema["properties"]["outcome"]["enum"] == ["SUCCESS", "ROLLBACK", "PARTIAL"]


@pytest.mark.parametrize(("pattern", "python"), [
    ("^a$", "^a\\Z"),
    ("^(?:x|$)", "^(?:x|\\Z)"),
    ("^[$]$", "^[$]\\Z"),
    ("^a\\$$", "^a\\$\\Z"),
    ("\\S", "\\S"),
])
def test_ecma_end_anchor_translation(pattern: str, python: str) -> None:
    assert schemas._ecma_end(pattern) == python


# -- the fast path and the error listing agree -------------------------------------------------

VALID_DECLARATION = {
    "OPERATION_ID": "OPS-2026-01-27-001", "OPERATION_NAME": "n", "OBJECTIVE": "o", "RISK_CLASS": "READ_ONLY",
    "BLAST_RADIUS": "b", "ROLLBACK_STRATEGY": "r", "ALLOWED_PATHS": ["ops/**"], "ALLOWED_SERVICES": [],
}
VALID_ENTRY = {
    "operation_id": "OPS-2026-01-27-001", "operation_name": "n", "requested_by": "a", "approved_by": "SELF",
    "approval_timestamp": "2026-01-27T09:00:00Z", "execution_timestamp": "2026-01-27T10:00:00Z",
    "risk_class": "READ_ONLY", "blast_radius": "b", "changes_summary": "c", "rollback_ref": "abc1234",
    "outcome": "SUCCESS",
}
ODD_VALUES: list[Any] = ["", " ", "x\n", "OPS-2026-01-27-001\n", "abc1234\n", "/etc", "../x", "C:\\x", "ops/**",
                         "2026-01-27T10:00:00Z\n", "READ_ONLY", "read_only", 0, 1, True, None, [], ["x"], [""],
                         ["/abs"], ["ok", "a\nb"], {}, {"a": 1}, "ROLLBACK", "commit: -x", "procedure: x"]


def _mutations(valid: dict[str, Any]) -> list[dict[str, Any]]:
    cases = [valid]
    for key in valid:
        dropped = dict(valid)
        del dropped[key]
        cases.append(dropped)
        for value in ODD_VALUES:
            changed = copy.deepcopy(valid)
            changed[key] = value
            cases.append(changed)
    cases.append({**valid, "unknown": 1})
    cases.append({**valid, "outcome": "ROLLBACK"})
    cases.append({**valid, "outcome": "ROLLBACK", "rollback_timestamp": "2026-01-27T11:00:00Z",
                  "rollback_evidence": "ok"})
    return cases


@pytest.mark.parametrize(("kind", "valid"), [(schemas.DECLARATION, VALID_DECLARATION),
                                             (schemas.LEDGER_ENTRY, VALID_ENTRY)])
def test_fast_and_full_validators_agree(kind: schemas.RecordKind, valid: dict[str, Any]) -> None:
    full = jsonschema.Draft202012Validator(schemas.load_schema(kind.schema_file))
    fast = fastjsonschema.compile(schemas.load_schema(kind.schema_file))
    disagreements = []
    for case in _mutations(valid):
        try:
            fast(case)
            fast_ok = True
        except fastjsonschema.JsonSchemaException:
            fast_ok = False
        if fast_ok != full.is_valid(case):
            disagreements.append(case)
    assert disagreements == []


@pytest.mark.parametrize("config", [
    {}, {"governed_paths": []}, {"governed_paths": ["x\n"]}, {"operations_dir": "ops\n"}, {"ledger": {"path": "/x"}},
    {"signoff": {"lower": "required"}}, {"signoff": {"X": "never"}}, {"custom_risk_classes": ["A", "A"]},
    {"forbidden": [{"id": "Bad Id", "message": "m", "paths": ["x"]}]},
    {"forbidden": [{"id": "ok", "message": "m"}]}, {"version": 2}, {"max_output_bytes": 1},
    {"verification_gates": {"X": ["smoke"]}}, {"evidence_patterns": {"other": []}}, {"templates": {"x": "y"}},
])
def test_fast_and_full_validators_agree_on_configs(config: dict[str, Any]) -> None:
    full = jsonschema.Draft202012Validator(schemas.load_schema("config.schema.json"))
    assert schemas.is_valid(schemas.CONFIG, config) == full.is_valid(config)


def test_a_trailing_newline_never_passes_an_anchored_pattern() -> None:
    docs, _ = load_documents("x.yaml", "operation_id: |\n  OPS-2026-01-27-001\n")
    assert docs[0].data["operation_id"] == "OPS-2026-01-27-001\n"
    findings = schemas.validate(schemas.LEDGER_ENTRY, docs[0])
    assert ("L002", "operation_id: 'OPS-2026-01-27-001\\n' is not in the expected form") in [
        (f.code, f.message) for f in findings]


def test_disagreeing_validators_never_pass_silently(monkeypatch: pytest.MonkeyPatch) -> None:
    docs, _ = load_documents("x.yaml", "solo_mode: true\n")
    monkeypatch.setattr(schemas, "is_valid", lambda kind, data: False)
    findings = schemas.validate(schemas.CONFIG, docs[0])
    assert [(f.code, f.message) for f in findings] == [("C001", "does not match schemas/config.schema.json")]


def test_timestamp_form_errors_use_the_timestamp_code() -> None:
    docs, _ = load_documents("x.yaml", json.dumps({**VALID_ENTRY, "approval_timestamp": "yesterday"}))
    assert [(f.code, f.message) for f in schemas.validate(schemas.LEDGER_ENTRY, docs[0])] == [
        ("L004", "approval_timestamp: 'yesterday' is not in the expected form")]
