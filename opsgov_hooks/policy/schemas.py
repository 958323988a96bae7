"""The JSON Schemas in ``schemas/`` are the single source of truth for record shapes.

Valid records (the hot path) go through a compiled fastjsonschema validator; only
an invalid record is re-checked with ``jsonschema`` to list *every* error with
its JSON path, which :class:`~opsgov_hooks.records.yamlstrict.Document` turns into a line
and column.
"""
from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Callable
from typing import Any

from opsgov_hooks.findings import Finding, error
from opsgov_hooks.resources import schema_dir
from opsgov_hooks.records.yamlstrict import Document

__all__ = ["schema_dir"]  # re-exported: where the schemas are is asked of this module too


@dataclasses.dataclass(frozen=True)
class RecordKind:
    schema_file: str
    missing_code: str
    invalid_code: str
    unknown_code: str


DECLARATION = RecordKind("declaration.schema.json", "D001", "D002", "D003")
LEDGER_ENTRY = RecordKind("ledger-entry.schema.json", "L001", "L002", "L003")
CONFIG = RecordKind("config.schema.json", "C001", "C001", "C001")


@functools.lru_cache(maxsize=None)
def load_schema(schema_file: str) -> dict[str, Any]:
    """A schema as the validators use it: its patterns translated to Python's dialect."""
    with open(schema_dir() / schema_file, encoding="utf-8") as f:
        schema: dict[str, Any] = _python_patterns(json.load(f))
    return schema


def _python_patterns(node: Any) -> Any:
    r"""JSON Schema patterns are ECMA 262, where ``$`` matches only at the very end.

    Python's ``$`` also matches before a final newline, so ``OPS-2026-01-27-001\n``
    (a block scalar) would pass ``^OPS-...$`` in ``jsonschema`` while fastjsonschema
    refuses it. Translating ``$`` to ``\Z`` makes both validators agree with the spec.
    """
    if isinstance(node, dict):
        return {k: (_ecma_end(v) if k == "pattern" and isinstance(v, str) else _python_patterns(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_python_patterns(v) for v in node]
    return node


def _ecma_end(pattern: str) -> str:
    out, escaped, in_class = [], False, False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif ch == "$" and not in_class:
            out.append("\\Z")
            continue
        out.append(ch)
    return "".join(out)


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
    findings = []
    for err in _one_per_value(_validator(kind.schema_file).iter_errors(value)):
        findings.extend(_to_findings(kind, doc, err, where))
    if not findings:
        # The two validators disagree: never let that pass as valid.
        line, col = doc.position()
        findings.append(error(kind.invalid_code, f"{where + ': ' if where else ''}does not match "
                              f"schemas/{kind.schema_file}", doc.path, line, col))
    return findings


@functools.lru_cache(maxsize=None)
def _validator(schema_file: str) -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(load_schema(schema_file))


# When one value breaks several keywords, the first of these says it best.
_PRIORITY = {"type": 0, "minLength": 1, "minItems": 1, "enum": 2, "const": 2, "pattern": 3}


def _one_per_value(errors: Any) -> list[Any]:
    """Errors about fields (missing, unknown) all count; for a bad value, only its clearest error."""
    kept: list[Any] = []
    best: dict[tuple[Any, ...], Any] = {}
    for err in errors:
        if err.validator in ("required", "additionalProperties"):
            kept.append(err)
            continue
        where = tuple(err.absolute_path)
        current = best.get(where)
        if current is None or _PRIORITY.get(err.validator, 9) < _PRIORITY.get(current.validator, 9):
            best[where] = err
    return kept + list(best.values())


def _to_findings(kind: RecordKind, doc: Document, err: Any, where: str) -> list[Finding]:
    path = tuple(err.absolute_path)
    prefix = f"{where}: " if where else ""
    if err.validator == "required":
        return _missing(kind, doc, err, path, prefix)
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
    code = err.schema.get("x-opsgov-code", kind.invalid_code)
    return [error(code, f"{prefix}{field}: {_short(err)}", doc.path, line, col,
                  hint=err.schema.get("description") or _description(kind, path))]


def _missing(kind: RecordKind, doc: Document, err: Any, path: tuple[Any, ...], prefix: str) -> list[Finding]:
    """One finding per missing field; a conditional requirement says what triggered it."""
    missing = [name for name in err.validator_value if name not in (err.instance or {})]
    condition = _condition(kind, err)
    if condition:
        line, col = doc.position((*path, condition[0]))
        because = f" (needed when {condition[0]} is {condition[1]})"
    else:
        line, col = doc.position(path)
        because = ""
    return [error(kind.missing_code, f"{prefix}mandatory field '{name}' is missing{because}", doc.path,
                  line, col, hint=_description(kind, (*path, name)))
            for name in missing]


def _condition(kind: RecordKind, err: Any) -> tuple[str, Any] | None:
    """For a ``then: required`` error, the (field, value) of its ``if: {properties: {f: {const: v}}}``."""
    schema_path = list(err.absolute_schema_path)
    if schema_path[-2:] != ["then", "required"]:
        return None
    node: Any = load_schema(kind.schema_file)
    for part in schema_path[:-2]:   # ``then`` lives beside its ``if``
        node = node[part]
    for name, rule in node.get("if", {}).get("properties", {}).items():
        if isinstance(rule, dict) and "const" in rule:
            return str(name), rule["const"]
    return None


def _short(err: Any) -> str:
    """jsonschema's messages quote whole regexes; say what is wrong in words instead."""
    if err.validator == "pattern" and err.validator_value == "\\S":
        return "must not be blank"
    if err.validator == "pattern":
        return f"{err.instance!r} is not in the expected form"
    if err.validator in ("minLength", "minItems"):
        return "must not be empty"
    if err.validator == "enum":
        return f"{err.instance!r} is not one of {', '.join(map(str, err.validator_value))}"
    if err.validator == "anyOf" and all(set(sub) == {"required"} for sub in err.validator_value):
        return f"needs at least one of {', '.join(name for sub in err.validator_value for name in sub['required'])}"
    if err.validator == "not":
        return f"{err.instance!r} is not allowed here"
    if err.validator == "type":
        return f"{err.instance!r} is not of type {err.validator_value}"
    return str(err.message)


def _description(kind: RecordKind, path: tuple[Any, ...]) -> str | None:
    """The schema's description of the field at ``path`` (its own, else its ``$ref`` target's)."""
    root = load_schema(kind.schema_file)
    node: Any = root
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get("properties", {}).get(part, {}) if isinstance(part, str) else node.get("items", {})
    if not isinstance(node, dict):
        return None
    if "description" not in node and "$ref" in node:
        node = root.get("$defs", {}).get(node["$ref"].rsplit("/", 1)[1], {})
    description = node.get("description")
    return description if isinstance(description, str) else None


def _suggest(name: str, known: set[str]) -> str | None:
    import difflib

    by_case = {k.casefold(): k for k in known}
    close = difflib.get_close_matches(name.casefold(), sorted(by_case), n=1, cutoff=0.6)
    if close:
        return f"did you mean '{by_case[close[0]]}'?"
    return f"known fields: {', '.join(sorted(known))}"
