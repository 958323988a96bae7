"""The JSON Schemas in ``schemas/`` are the single source of truth for record shapes.

Valid records (the hot path) go through a compiled fastjsonschema validator; only
an invalid record is re-checked with ``jsonschema`` to list *every* error with
its JSON path, which :class:`~opsgov_hooks.yamlstrict.Document` turns into a line
and column.
"""
from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from opsgov_hooks.findings import Finding, error
from opsgov_hooks.yamlstrict import Document


@dataclasses.dataclass(frozen=True)
class RecordKind:
    schema_file: str
    missing_code: str
    invalid_code: str
    unknown_code: str


DECLARATION = RecordKind("declaration.schema.json", "D001", "D002", "D003")
LEDGER_ENTRY = RecordKind("ledger-entry.schema.json", "L001", "L002", "L003")
CONFIG = RecordKind("config.schema.json", "C001", "C001", "C001")


def schema_dir() -> Path:
    """Inside a wheel the schemas sit in the package; in a source checkout, beside it."""
    here = Path(__file__).resolve().parent
    packaged = here / "_schemas"
    return packaged if packaged.is_dir() else here.parent / "schemas"


@functools.lru_cache(maxsize=None)
def load_schema(schema_file: str) -> dict[str, Any]:
    with open(schema_dir() / schema_file, encoding="utf-8") as f:
        schema: dict[str, Any] = json.load(f)
    return schema


@functools.lru_cache(maxsize=None)
def _fast_validator(schema_file: str) -> Callable[[Any], Any]:
    import fastjsonschema

    compiled: Callable[[Any], Any] = fastjsonschema.compile(load_schema(schema_file))
    return compiled


def is_valid(kind: RecordKind, data: Any) -> bool:
    import fastjsonschema

    try:
        _fast_validator(kind.schema_file)(data)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def validate(kind: RecordKind, doc: Document, *, data: Any = None, where: str = "") -> list[Finding]:
    """Findings for ``doc`` (or ``data`` located within ``doc``) against the kind's schema."""
    value = doc.data if data is None else data
    if is_valid(kind, value):
        return []
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema(kind.schema_file))
    findings = []
    for err in validator.iter_errors(value):
        findings.extend(_to_findings(kind, doc, err, where))
    return findings


def _to_findings(kind: RecordKind, doc: Document, err: Any, where: str) -> list[Finding]:
    path = tuple(err.absolute_path)
    prefix = f"{where}: " if where else ""
    if err.validator == "required":
        missing = [name for name in err.validator_value if name not in (err.instance or {})]
        line, col = doc.position(path)
        return [error(kind.missing_code, f"{prefix}mandatory field '{name}' is missing", doc.path, line, col,
                      hint=_description(kind, (name,)))
                for name in missing]
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        known = set(err.schema.get("properties", {}))
        findings = []
        for name in err.instance:
            if name not in known:
                line, col = doc.position((*path, name), key=True)
                findings.append(error(kind.unknown_code, f"{prefix}unknown field '{name}'", doc.path, line, col,
                                      hint=_suggest(name, known)))
        return findings
    line, col = doc.position(path)
    field = ".".join(str(p) for p in path) or "document"
    return [error(kind.invalid_code, f"{prefix}{field}: {_short(err)}", doc.path, line, col,
                  hint=err.schema.get("description") or _description(kind, path))]


def _short(err: Any) -> str:
    """jsonschema's messages quote whole regexes; say what is wrong in words instead."""
    if err.validator == "pattern":
        return f"{err.instance!r} is not in the expected form"
    if err.validator in ("minLength", "minItems"):
        return "must not be empty"
    if err.validator == "enum":
        return f"{err.instance!r} is not one of {', '.join(map(str, err.validator_value))}"
    if err.validator == "type":
        return f"{err.instance!r} is not of type {err.validator_value}"
    return str(err.message)


def _description(kind: RecordKind, path: tuple[Any, ...]) -> str | None:
    node: Any = load_schema(kind.schema_file)
    for part in path:
        if isinstance(part, str):
            node = node.get("properties", {}).get(part, {})
        else:
            node = node.get("items", {})
    if "$ref" in node:
        node = load_schema(kind.schema_file)["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node.get("description") if isinstance(node, dict) else None


def _suggest(name: str, known: set[str]) -> str | None:
    import difflib

    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    return f"known fields: {', '.join(sorted(known))}"
