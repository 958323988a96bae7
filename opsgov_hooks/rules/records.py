"""Cross-record rules that need no git history (run by ``opsgov validate`` and ``opsgov check``)."""
from __future__ import annotations

from collections.abc import Iterator

from opsgov_hooks.policy.config import Policy
from opsgov_hooks.findings import Finding, error
from opsgov_hooks.records.store import RecordSet


def duplicate_declarations(records: RecordSet, policy: Policy) -> Iterator[Finding]:
    seen: dict[str, str] = {}
    for d in records.declarations:
        if d.operation_id in seen:
            yield error("D006", f"{d.operation_id} is already declared in {seen[d.operation_id]}", d.path,
                        *d.id_position,
                        hint="give this operation a new id with 'opsgov new'")
        else:
            seen[d.operation_id] = d.path


def duplicate_entries(records: RecordSet, policy: Policy) -> Iterator[Finding]:
    seen: dict[str, str] = {}
    for e in records.entries:
        where = f"{e.path}:{e.line}"
        if e.operation_id in seen:
            yield error("L005", f"{e.operation_id} already has a ledger entry at {seen[e.operation_id]}", e.path,
                        *e.position("operation_id"), hint="one entry per operation: update the existing entry instead")
        else:
            seen[e.operation_id] = where


def ledger_matches_declaration(records: RecordSet, policy: Policy) -> Iterator[Finding]:
    declarations = records.by_id()
    for e in records.entries:
        d = declarations.get(e.operation_id)
        if d is None:
            if e.operation_id not in records.invalid_ids:
                yield error("L008", f"no operation record declares {e.operation_id}", e.path,
                            *e.position("operation_id"),
                            hint=f"declare it in {policy.record_path(e.operation_id)} ('opsgov new')")
            continue
        for field, declared in (("risk_class", d.risk_class), ("operation_name", d.name)):
            if e.get(field) != declared:
                yield error("L006", f"{field} {e.get(field)!r} differs from the declaration's {declared!r} "
                            f"({d.path})", e.path, *e.position(field), hint=f"set {field}: {declared}")

