"""``opsgov tag OPS-ID [REV]``: close an operation with an annotated ``ops-yyyy-mm-dd-nnn`` tag.

The tag is made only when the records at REV are valid, the operation is declared
and recorded there, and every record and history rule passes. Its message is a
one-line title and the ledger entry in YAML (with the tags backend, the entry
itself). It never opens an editor, never moves or overwrites a tag, and with
``--remote`` refuses an id the remote already has and pushes without force.
"""
from __future__ import annotations

import dataclasses
from typing import TextIO

from opsgov_hooks.policy.config import Policy, load_policy
from opsgov_hooks.rules.context import CheckContext
from opsgov_hooks.rules.registry import Facts
from opsgov_hooks.rules.tags import tag_consistency
from opsgov_hooks.findings import Finding, error, has_errors
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.ledger_io import lock_path
from opsgov_hooks.ledger_io.render import render_entry
from opsgov_hooks.ledger_io.tags_backend import TagsBackend
from opsgov_hooks.lifecycle.closing import operation_to_close
from opsgov_hooks.lifecycle.workspace import check_operation_id, emit
from opsgov_hooks.records.ids import tag_name
from opsgov_hooks.records.store import RecordSet
from opsgov_hooks.speed.records_cache import load_records
from opsgov_hooks.check.preparers import prepare
from opsgov_hooks.check.runner import run_history_rules, run_record_rules
from opsgov_hooks.git.sources import CommitSource


@dataclasses.dataclass
class TagRequest:
    operation_id: str | None
    rev: str = "HEAD"
    sign: bool = False
    dry_run: bool = False
    remote: str | None = None


def close_operation(start: str, request: TagRequest, output_format: str, out: TextIO) -> int:
    git = Git.discover(start)
    sha = git.resolve_commit(request.rev)
    policy = load_policy(CommitSource(git, sha))
    if request.operation_id is None:
        request = dataclasses.replace(request, operation_id=operation_to_close(git, sha, request.rev, policy))
    op_id = check_operation_id(str(request.operation_id))
    request = dataclasses.replace(request, operation_id=op_id)
    records, pending = _records_at(git, policy, sha, op_id)
    findings = _existing_tag(git, tag_name(op_id), request.remote) + _readiness(records, op_id, policy, request)
    findings += list(records.findings) + run_record_rules(records, policy)
    ctx = CheckContext(policy, records, records, "all",
                       tags=git.ops_tags(), head_sha=sha, base_sha=sha, git=git)
    findings += run_history_rules(ctx)
    if has_errors(findings):
        emit(findings, output_format, out)
        if output_format == "text":
            out.write(f"opsgov: refusing to tag {op_id}: fix the above and run again\n")
        return 1
    entry = records.entry(op_id)
    assert entry is not None
    message = pending if pending is not None else f"{op_id}: {entry.get('operation_name')}\n\n" + render_entry(
        entry.fields)
    emit(findings, output_format, out)  # warnings
    if request.dry_run:
        out.write(f"would create tag {tag_name(op_id)} at {sha[:12]} with message:\n{message}")
        return 0
    return _create(git, ctx, request, message, output_format, out)


def _records_at(git: Git, policy: Policy, sha: str, op_id: str) -> tuple[RecordSet, str | None]:
    """Records in REV's tree; with the tags backend, plus the entry waiting for this tag."""
    tags = git.ops_tags() if policy.ledger_backend == "tags" else []
    records = load_records(CommitSource(git, sha), policy, tags=tags)
    if policy.ledger_backend != "tags":
        return records, None
    backend = TagsBackend(git, "")  # read-only here: no lock needed
    entries, findings = backend.pending()
    records.entries += [e for e in entries if e.operation_id == op_id]
    records.findings += [f for f in findings if op_id in f.path]
    return records, backend.pending_text(op_id)


def _existing_tag(git: Git, name: str, remote: str | None) -> list[Finding]:
    ref = f"refs/tags/{name}"
    local = git.local_tag(name)
    if local is not None:
        return [error("T009", f"tag {name} already exists (object {local[:12]}); opsgov never moves a tag", ref,
                      hint="the operation is already closed; 'opsgov ledger show' shows its entry")]
    if remote is not None:
        taken = git.remote_tags(remote, [name]).get(name)
        if taken is not None:
            return [error("T009", f"tag {name} already exists on {remote} (object {taken[:12]}): another branch "
                          "took this id first", ref,
                          hint="give this operation a new id ('opsgov new') and move its records")]
    return []


def _readiness(records: RecordSet, op_id: str, policy: Policy, request: TagRequest) -> list[Finding]:
    where = f"refs/tags/{tag_name(op_id)}"
    problems = []
    if records.declaration(op_id) is None:
        problems.append(error("T010", f"{op_id} is not declared (validly) at {request.rev}", where,
                              hint=f"commit {policy.record_path(op_id)} first"))
    if records.entry(op_id) is None:
        store = "with 'opsgov ledger record'" if policy.ledger_backend == "tags" else "and commit it"
        problems.append(error("T010", f"{op_id} has no ledger entry at {request.rev}", where,
                              hint=f"record it {store}, then tag"))
    if policy.require_signed_tags and not request.sign:
        problems.append(error("T007", "require_signed_tags is set: the tag must be signed", where,
                              hint="run again with --sign"))
    return problems


def _create(git: Git, ctx: CheckContext, request: TagRequest, message: str, output_format: str,
            out: TextIO) -> int:
    name = tag_name(str(request.operation_id))
    sha = ctx.head_sha or ""
    git.create_tag(name, sha, message, sign=request.sign)
    problems = _check_new_tag(git, ctx, name)
    if problems:
        git.delete_local_tag(name, next(t.object_sha for t in git.ops_tags(f"refs/tags/{name}")))
        emit(problems, output_format, out)
        if output_format == "text":
            out.write(f"opsgov: tag {name} did not verify and was removed again\n")
        return 1
    if ctx.policy.ledger_backend == "tags":
        TagsBackend(git, lock_path(git)).discard(str(request.operation_id))
    if output_format == "text":
        out.write(f"created tag {name} at {sha[:12]}{' (signed)' if request.sign else ''}\n")
    return 0 if request.remote is None else _push(git, request.remote, name, output_format, out)


def _check_new_tag(git: Git, ctx: CheckContext, name: str) -> list[Finding]:
    """The new tag must pass tag consistency itself (with require_signed_tags: a signature by the approver)."""
    check = dataclasses.replace(ctx, tags=git.ops_tags(f"refs/tags/{name}"), tag_facts={})
    prepare(check, git, [Facts.TAGS])
    return [f for f in tag_consistency(check) if f.severity.value == "error"]


def _push(git: Git, remote: str, name: str, output_format: str, out: TextIO) -> int:
    pushed, said = git.push_tag(remote, name)
    if not pushed:
        emit([error("T009", f"{remote} refused tag {name}: another branch took this id first "
                    f"({' '.join(said.split())[:160]})", f"refs/tags/{name}",
                    hint=f"the local tag remains: delete it with 'git tag -d {name}' and give the operation a "
                         "new id")], output_format, out)
        return 1
    if output_format == "text":
        out.write(f"pushed tag {name} to {remote}\n")
    return 0
