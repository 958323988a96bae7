"""What git holds for the ``ops-*`` tags a run judges, read before the tag rule runs.

For each judged tag, in one batch: the operation's entry as the tag's commit holds it in
the ledger file (file backends; kept between runs by :mod:`opsgov_hooks.speed.sealed`),
and, with ``require_signed_tags``, what ``git verify-tag`` says against the allowed-signers
file of the trusted revision (never the judged tree's).
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator

from opsgov_hooks.git.gitio import Git
from opsgov_hooks.git.refs import Kept
from opsgov_hooks.git.signing import allowed_signers_file, parse_signature
from opsgov_hooks.policy.config import Policy
from opsgov_hooks.records.ids import ID_RE, id_from_tag
from opsgov_hooks.records.ledger import LedgerEntry, find_yaml_entry, parse_changelog
from opsgov_hooks.rules.context import CheckContext, TagFacts
from opsgov_hooks.rules.signoff import normalise_person
from opsgov_hooks.rules.context import judged_tags
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
    blobs = _sealed_files(git, ctx.head_sha or ctx.base_sha, [(t.target_sha, files[t.name]) for t in unknown])
    for tag, (kind, data) in zip(unknown, blobs):
        fact = facts[tag.name]
        if kind == "blob" and data is not None:
            fact.sealed_entry = _entry_in(ctx.policy, files[tag.name], data, id_from_tag(tag.name))
        kept.put(tag, files[tag.name], fact.sealed_entry)
    kept.save()


# Below this many tags to read, reading each version costs less than the extra git process.
PREFIX_MIN_TAGS = 16


def _sealed_files(git: Git, reference: str | None, wanted: list[tuple[str, str]]) -> Iterator[tuple[str, bytes | None]]:
    """(type, content) of each ``(commit, path)``, read without inflating the ledger file at every tag.

    An append-only month file at a tag's commit is most often the first bytes of the same file
    at ``reference`` (the revision judged). git names a blob by a hash of its size and bytes, so
    when the object id of that many first bytes of the reference's file is the tag's blob id,
    those are its bytes: only the object ids and sizes are asked of git (one ``--batch-check``)
    and the reference's files are read once. Any other version is read from git as before.

    Yielded in order, and a prefix is copied out only when its turn comes: 1,000 tags' month-file
    prefixes held at once were 65 MB, the peak of a cold ``--all``.
    """
    names = [f"{commit}:{path}" for commit, path in wanted]
    prefix: dict[str, tuple[bytes, int]] = {}   # name -> (the reference's file, the size of its prefix)
    if reference is not None and len(wanted) >= PREFIX_MIN_TAGS:
        sizes = git.object_sizes(names)
        paths = sorted({path for _commit, path in wanted})
        whole = dict(zip(paths, git.read_objects(f"{reference}:{path}" for path in paths)))
        for name, (_commit, path) in zip(names, wanted):
            kind, data = whole[path]
            if name not in sizes or kind != "blob" or data is None:
                continue
            sha, kind, size = sizes[name]
            if kind == "blob" and size <= len(data) and _blob_id(data, size, len(sha)) == sha:
                prefix[name] = (data, size)
    rest = [name for name in names if name not in prefix]
    found = dict(zip(rest, git.read_objects(rest)))
    for name in names:
        if name in prefix:
            data, size = prefix[name]
            yield "blob", data[:size]
        else:
            yield found[name]


def _blob_id(data: bytes, size: int, length: int) -> str | None:
    """git's object id of a blob holding the first ``size`` bytes of ``data`` (SHA-1, or SHA-256 in a
    repository of 64-digit ids)."""
    if length == 40:
        digest = hashlib.sha1(b"blob %d\0" % size, usedforsecurity=False)
    elif length == 64:
        digest = hashlib.sha256(b"blob %d\0" % size)
    else:
        return None
    digest.update(memoryview(data)[:size])
    return digest.hexdigest()


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
            fact.signature_valid, fact.signature_output = git.verify_tag(tag.name, signers, tag.object_sha)
            signer = parse_signature(fact.signature_valid, fact.signature_output).signer
            fact.signer = normalise_person(signer) if signer else None
