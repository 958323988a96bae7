"""The scope of an operation: the declaration fields an approval covers.

Once an operation has a ledger entry (its approval), these fields are what was
approved; the gate judges every later change against them as they stood at the
trusted base, and refuses a change that edits them (G021). A signed approval binds
:func:`scope_digest` of the same fields, so the two never disagree about what
"the scope" is.

The canonical form is about meaning, not spelling: ALLOWED_PATHS and
ALLOWED_SERVICES are sets (order and repeats do not change what they permit), so
they are sorted and deduplicated; the text fields are kept exactly as written.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json

from opsgov_hooks.records.declaration import Declaration

# Declaration key -> Declaration attribute, in the order the standard lists them.
SCOPE_FIELDS: dict[str, str] = {
    "RISK_CLASS": "risk_class",
    "ALLOWED_PATHS": "allowed_paths",
    "ALLOWED_SERVICES": "allowed_services",
    "BLAST_RADIUS": "blast_radius",
    "ROLLBACK_STRATEGY": "rollback_strategy",
}

Scope = dict[str, "str | list[str]"]


def scope_of(declaration: Declaration) -> Scope:
    """The approved scope of ``declaration``, canonical: field name -> text, or sorted unique list."""
    scope: Scope = {}
    for key, attribute in SCOPE_FIELDS.items():
        value = getattr(declaration, attribute)
        scope[key] = sorted(set(value)) if isinstance(value, tuple) else str(value)
    return scope


def scope_digest(declaration: Declaration) -> str:
    """``sha256:<hex>`` of the canonical scope (compact JSON, sorted keys, UTF-8)."""
    text = json.dumps(scope_of(declaration), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def changed_fields(approved: Declaration, proposed: Declaration) -> list[str]:
    """The scope fields whose meaning differs between the approved and the proposed declaration."""
    before, after = scope_of(approved), scope_of(proposed)
    return [key for key in SCOPE_FIELDS if before[key] != after[key]]


def with_approved_scope(proposed: Declaration, approved: Declaration) -> Declaration:
    """``proposed`` with its scope fields as ``approved`` holds them: what a change is judged against."""
    return dataclasses.replace(proposed, **{attr: getattr(approved, attr) for attr in SCOPE_FIELDS.values()})
