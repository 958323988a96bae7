"""What git holds for the ``ops-*`` tags a run judges, read before the tag rule runs.

For each judged tag, in one batch: the operation's entry as the tag's commit holds it in
the ledger file (file backends; kept between runs by :mod:`opsgov_hooks.speed.sealed`),
and, with ``require_signed_tags``, what ``git verify-tag`` says against the allowed-signers
file of the trusted revision (never the judged tree's).
"""
from __future__ import annotations

from collections.abc import Callable

from opsgov_hooks.git.gitio import Git
from opsgov_hooks.git.refs import Kept
from opsgov_hooks.git.signing import allowed_signers_file, parse_signature
from opsgov_hooks.policy.config import Policy
from opsgov_hooks.records.ids import ID_RE, id_from_tag
from opsgov_hooks.records.ledger import LedgerEntry, find_yaml_entry, parse_changelog
from opsgov_hooks.rules.context import CheckContext, TagFacts
from opsgov_hooks.rules.signoff import normalise_person
from opsgov_hooks.rules.tags import judged_tags
from opsgov_hooks.speed.sealed import SealedEntries


def prepare_tags(ctx: CheckContext, git: Git, stores: Callable[[str], Kept | None]) -> None:
    facts = {tag.name: TagFacts() for tag in judged_tags(ctx)}
    if ctx.policy.ledger_backend != "tags":
        _read_sealed(ctx, git, facts, SealedEntries(stores("sealed")))
    if ctx.policy.require_signed_tags:
        _verify_signatures(ctx, git, facts)
    ctx.tag_facts = {**ctx.tag_facts, **facts}


def _read_sealed(ctx: CheckContext, git: Git, facts: dict[str, TagFacts], kept: SealedEntries) -> None:
    """Each annotated tag's operation entry as its commit's ledger file holds it (one batch read)."""
    annotated = [t for t in ctx.tags
                 if t.name in facts and t.object_type == "tag" and ID_RE.match(id_from_tag(t.name))]
    files = {t.name: ctx.policy.ledger_file_for(id_from_tag(t.name)) for t in annotated}
    unknown = []
    for tag in annotated:
        fact = facts[tag.name]
        fact.sealed_file = files[tag.name]
        known, fact.sealed_entry = kept.get(tag, files[tag.name])
        if not known:
            unknown.append(tag)
    blobs = git.read_objects(f"{t.target_sha}:{files[t.name]}" for t in unknown)
    for tag, (kind, data) in zip(unknown, blobs):
        fact = facts[tag.name]
        if kind == "blob" and data is not None:
            fact.sealed_entry = _entry_in(ctx.policy, files[tag.name], data, id_from_tag(tag.name))
        kept.put(tag, files[tag.name], fact.sealed_entry)
    kept.save()


def _entry_in(policy: Policy, path: str, data: bytes, operation_id: str) -> LedgerEntry | None:
    if policy.ledger_backend == "markdown":
        entries, _findings = parse_changelog(path, data)
        return next((e for e in entries if e.operation_id == operation_id), None)
    return find_yaml_entry(path, data, operation_id)  # one document, not the whole month, per tag


def _verify_signatures(ctx: CheckContext, git: Git, facts: dict[str, TagFacts]) -> None:
    trusted = ctx.base_sha or ctx.head_sha
    with allowed_signers_file(git, trusted, ctx.policy.allowed_signers_file) as (signers, problem):
        for tag in judged_tags(ctx):
            fact = facts[tag.name]
            fact.signature_checked = True
            if problem:
                fact.signature_output = problem
                continue
            fact.signature_valid, fact.signature_output = git.verify_tag(tag.name, signers)
            signer = parse_signature(fact.signature_valid, fact.signature_output).signer
            fact.signer = normalise_person(signer) if signer else None
