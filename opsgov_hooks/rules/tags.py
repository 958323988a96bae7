"""``ops-*`` tags are seals: annotated, honestly named, carrying the ledger's entry as it was at closing.

For every tag: it is annotated (T001); the name inside the tag object is its ref's
name (T003); it carries one entry (L009, from the loader) whose operation_id is the name's (T004);
with a file ledger, the ledger's entry is the sealed one or moved on from it only
as the append-only rule allows, i.e. a rollback (T005; another operation under
the same id is H005); and the tagged commit's tree holds the entry exactly as
sealed (T006). With ``require_signed_tags``, ``git verify-tag`` must accept the
signature (T007; SSH keys checked against the allowed-signers file read from the
trusted revision) and the signer must be the entry's approver (T008).

What git holds beyond the refs (the entry at each tag's commit, the signatures) is read
before the rule runs, by :mod:`opsgov_hooks.check.tag_facts`, into ``ctx.tag_facts``.
"""
from __future__ import annotations

from collections.abc import Iterator

from opsgov_hooks.rules.context import CheckContext, TagFacts, judged_tags
from opsgov_hooks.findings import Finding, error
from opsgov_hooks.git.tags import TagRef
from opsgov_hooks.records.ids import id_date, id_from_tag
from opsgov_hooks.records.ledger import LedgerEntry, parse_tag_entry
from opsgov_hooks.rules.history import entry_changes, same_operation
from opsgov_hooks.records.located import at_entry, at_field
from opsgov_hooks.rules.signoff import effective_approver


# -- the rule --------------------------------------------------------------------------------
def tag_consistency(ctx: CheckContext) -> Iterator[Finding]:
    ledger: dict[str, list[LedgerEntry]] = {}
    for e in ctx.head_records.entries:
        ledger.setdefault(e.operation_id, []).append(e)
    for tag in judged_tags(ctx):
        yield from _one_tag(ctx, tag, ledger)


def _one_tag(ctx: CheckContext, tag: TagRef, ledger: dict[str, list[LedgerEntry]]) -> Iterator[Finding]:
    op_id = id_from_tag(tag.name)
    if id_date(op_id) is None or tag.name != tag.name.lower():
        yield error("T004", f"tag {tag.name} is not named ops-<operation id in lower case>", tag.ref,
                    hint="ops-* tags are reserved for operations: rename or delete this tag")
        return
    if tag.object_type != "tag":
        yield error("T001", f"tag {tag.name} is lightweight; an ops tag must be annotated and carry the entry",
                    tag.ref, hint=f"git tag -d {tag.name}, then close the operation with 'opsgov tag {op_id}'")
        return
    if tag.tag_name != tag.name:
        yield error("T003", f"tag {tag.name} is a tag object named {tag.tag_name!r}: renamed or copied", tag.ref,
                    hint=f"delete it and re-create it with 'opsgov tag {op_id}'")
    entry, findings = parse_tag_entry(tag.ref, tag.message)
    yield from findings
    if entry is None:
        return
    if entry.operation_id != op_id:
        yield error("T004", f"tag {tag.name} carries the entry of {entry.operation_id}", *at_entry(entry))
        return
    if ctx.policy.ledger_backend != "tags":
        yield from _against_ledger(ctx, tag, entry, ledger.get(op_id, []))
    yield from _signature(ctx, tag, entry)


def _against_ledger(ctx: CheckContext, tag: TagRef, sealed: LedgerEntry,
                    current: list[LedgerEntry]) -> Iterator[Finding]:
    op_id = sealed.operation_id
    if not current:
        yield error("T005", f"tag {tag.name} seals {op_id}, but the ledger has no entry for it", tag.ref,
                    hint="the ledger is append-only: restore the entry")
    for entry in current:
        if not same_operation(sealed.fields, entry.fields):
            yield error("H005", f"two different operations share the id {op_id}: tag {tag.name} seals "
                        f"{sealed.get('operation_name')!r}, the ledger records {entry.get('operation_name')!r}",
                        *at_entry(entry),
                        hint="ids allocated on two branches collided: give this operation a new id ('opsgov new')")
            continue
        for _code, key, message in entry_changes(sealed.fields, entry.fields):
            yield error("T005", f"{op_id}: the ledger differs from the entry sealed in tag {tag.name}: {message}",
                        *at_field(entry, key),
                        hint="a sealed entry may only move on by 'opsgov ledger rollback'")
    fact = ctx.tag_facts.get(tag.name)
    if fact is not None and fact.sealed_file is not None:
        yield from _sealed_tree(tag, sealed, fact)


def _sealed_tree(tag: TagRef, sealed: LedgerEntry, fact: TagFacts) -> Iterator[Finding]:
    short = tag.target_sha[:12]
    if fact.sealed_entry is None:
        yield error("T006", f"tag {tag.name} points at commit {short}, whose {fact.sealed_file} holds no entry for "
                    f"{sealed.operation_id}", tag.ref, hint="tag the commit that records the ledger entry")
    elif fact.sealed_entry.fields != sealed.fields:
        changed = sorted(k for k in set(sealed.fields) | set(fact.sealed_entry.fields)
                         if sealed.fields.get(k) != fact.sealed_entry.fields.get(k))
        yield error("T006", f"tag {tag.name} seals an entry that differs from the one in {fact.sealed_file} at "
                    f"commit {short} (fields: {', '.join(changed)})", tag.ref,
                    hint="tag the commit that records the entry exactly as sealed")


def _signature(ctx: CheckContext, tag: TagRef, entry: LedgerEntry) -> Iterator[Finding]:
    if not ctx.policy.require_signed_tags:
        return
    fact = ctx.tag_facts.get(tag.name)
    if fact is None or not fact.signature_checked:
        yield error("T007", f"tag {tag.name}: its signature could not be checked", tag.ref)
        return
    if not fact.signature_valid:
        said = " ".join(fact.signature_output.split())[:200] or "no signature"
        yield error("T007", f"tag {tag.name} has no valid signature: {said}", tag.ref,
                    hint="close operations with 'opsgov tag OPS-ID --sign' and list signing keys in "
                         "allowed_signers_file")
        return
    approver = effective_approver(entry)
    if fact.signer != approver:
        yield error("T008", f"tag {tag.name} is signed by {fact.signer!r}, not by the approver {approver!r}",
                    tag.ref, hint="the approver closes (and signs) the operation")
