"""Validate each output format against its published schema (tests/official_schemas/, copied
verbatim), and the findings JSON against schemas/findings.schema.json."""
from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema

ROOT = Path(__file__).resolve().parent.parent
OFFICIAL = Path(__file__).resolve().parent / "official_schemas"

# GitLab's documented report format beyond what its parser's schema types
# (doc/ci/testing/code_quality.md, "Code Quality report format"): a single JSON array,
# each object with description, check_name, fingerprint, severity (info, minor, major,
# critical or blocker), location.path and location.lines.begin (or positions.begin.line).
GITLAB_DOCUMENTED = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string"},
            "check_name": {"type": "string"},
            "fingerprint": {"type": "string"},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {"type": "object", "required": ["path", "lines"],
                         "properties": {"path": {"type": "string"},
                                        "lines": {"type": "object", "required": ["begin"],
                                                  "properties": {"begin": {"type": "integer"}}}}},
        },
    },
}


@functools.cache
def _json_validator(path: Path) -> Any:
    schema = json.loads(path.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@functools.cache
def _junit_schema() -> Any:
    import xmlschema

    return xmlschema.XMLSchema(str(OFFICIAL / "junit-10.xsd"))


def validate_json(text: str) -> dict[str, Any]:
    data = json.loads(text)
    _json_validator(ROOT / "schemas" / "findings.schema.json").validate(data)
    return data  # type: ignore[no-any-return]


def validate_sarif(text: str) -> dict[str, Any]:
    data = json.loads(text)
    _json_validator(OFFICIAL / "sarif-schema-2.1.0.json").validate(data)
    return data  # type: ignore[no-any-return]


def validate_gitlab(text: str) -> list[dict[str, Any]]:
    assert not text.startswith("\ufeff"), "GitLab's parser refuses a byte order mark"
    data = json.loads(text)
    jsonschema.validate(data, GITLAB_DOCUMENTED)
    for issue in data:
        _json_validator(OFFICIAL / "codeclimate.json").validate(issue)
    return data  # type: ignore[no-any-return]


def validate_junit(text: str) -> Any:
    import xml.etree.ElementTree as ET

    _junit_schema().validate(text.encode("utf-8"))
    return ET.fromstring(text.encode("utf-8"))


VALIDATORS: dict[str, Callable[[str], Any]] = {
    "json": validate_json, "sarif": validate_sarif, "gitlab": validate_gitlab, "junit": validate_junit,
}


def fingerprints(fmt: str, text: str) -> list[str]:
    """The fingerprints a format carries, in order (SARIF's partialFingerprints, GitLab's fingerprint)."""
    if fmt == "sarif":
        return [r["partialFingerprints"]["opsgovFinding/v1"] for r in json.loads(text)["runs"][0]["results"]]
    return [issue["fingerprint"] for issue in json.loads(text)]
