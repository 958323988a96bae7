"""The adoption as an operation: ``opsgov init`` declares, executes and records "Adopt Ops Governor".

The files ``init`` writes under governed paths are changes like any other, so the
adoption passes the gate the way every change does: by belonging to an operation.
``init`` writes that operation whole, as the lifecycle would:

* its record (``<operations_dir>/OPS-....md``): the declaration, whose
  ``ALLOWED_PATHS`` are exactly the files ``init`` created plus the governed files the
  repository already tracks (the adoption brings them under governance, so
  ``opsgov check --all`` finds each covered), no services; the runbook with one
  executed step (``opsgov init``, verified by a real ``opsgov validate .opsgov.yaml`` run), the
  five report sections and section 6;
* its ledger entry (``approved_by: SELF``: LOW_RISK_CONFIG needs no second person;
  ``rollback_ref`` the commit the adoption builds on, or, in a repository without a
  commit, the command that removes what ``init`` wrote).

``opsgov tag`` closes it after the adoption commit, as for any operation.
"""
from __future__ import annotations

import dataclasses
import datetime
import io
import os
import shlex
from collections.abc import Sequence

from opsgov_hooks.atomicfile import write_atomic
from opsgov_hooks.check.validate import run_validate
from opsgov_hooks.execution.execlog import parse_record_log
from opsgov_hooks.execution.signoff_block import fill_signoff
from opsgov_hooks.execution.steptext import FENCE_CLOSE, FENCE_OPEN, insert_block, step_lines
from opsgov_hooks.findings import UsageError, has_errors
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.ledger_io import open_backend
from opsgov_hooks.ledger_io.atomic import locked
from opsgov_hooks.ledger_io.render import render_entry
from opsgov_hooks.lifecycle.allocate import next_id, ops_tag_names, today_utc
from opsgov_hooks.lifecycle.declare import compose_record
from opsgov_hooks.lifecycle.templating import RUNBOOK_TEMPLATE, packaged_template, render
from opsgov_hooks.lifecycle.workspace import utc_stamp
from opsgov_hooks.policy.config import CONFIG_FILE, PYPROJECT_FILE, Policy
from opsgov_hooks.policy.globs import matches
from opsgov_hooks.records.store import record_kind

NAME = "Adopt Ops Governor"
COMMAND = "opsgov init"
VERIFY = "opsgov validate"
_GLOB_SPECIALS = "*?[]\\"

REPORT = {
    "<!-- One paragraph: what was done, and the outcome. -->":
        "Adopted Ops Governor v1.0: 'opsgov init' wrote the policy, the record folders, the templates and the "
        "pre-commit hooks, and declared and recorded this operation; 'opsgov validate' passed.",
    "<!-- The key outputs that prove the result. -->":
        "- '{verify}' exited 0 (step 1).",
    "<!-- The residual risk. -->":
        "Low: the adoption changes no running service. From the adoption commit on, governed changes need an "
        "operation.",
    "<!-- What to do next, bounded. -->":
        "- Commit the adoption, then close this operation: 'opsgov tag {op_id}'.\n"
        "- Install the hooks: 'pre-commit install'.",
}


@dataclasses.dataclass(frozen=True)
class Adoption:
    operation_id: str
    record: str
    ledger: str


def governed(path: str, policies: Sequence[Policy]) -> bool:
    return any(path == CONFIG_FILE or record_kind(path, p) is not None or matches(p.governed_paths, path)
               for p in policies)


def glob_literal(path: str) -> str:
    """A gitignore-style pattern that selects ``path``: a glob character in the name becomes ``?``.

    Declarations refuse backslashes, so ``*?[]`` cannot be escaped; ``?`` (any one character) in their
    place still selects the file, and at most its look-alikes. A leading ``!`` or ``#`` likewise.
    """
    pattern = "".join("?" if c in _GLOB_SPECIALS else c for c in path)
    if pattern[:1] in ("!", "#"):
        pattern = "?" + pattern[1:]
    if pattern.endswith(" "):
        pattern = pattern[:-1] + "?"
    return pattern


def tracked_governed(git: Git, policy: Policy) -> list[str]:
    """Governed files the repository already tracks at HEAD (not records): brought under governance."""
    head = git.head()
    if head is None:
        return []
    return sorted(p for p in git.ls_tree(head) if record_kind(p, policy) is None
                  and matches(policy.governed_paths, p))


def requester(git: Git) -> str:
    """git's author e-mail (user.email, or GIT_AUTHOR_EMAIL as git itself reads it)."""
    # Unset, git var fails ("Please tell me who you are"): the message below names the fix.
    ident = git.run("var", "GIT_AUTHOR_IDENT", check=False).decode("utf-8", "replace")
    start, end = ident.find("<"), ident.find(">")
    email = ident[start + 1:end].strip() if 0 <= start < end else ""
    if not email:
        raise UsageError("the adoption is recorded as requested by git's user.email, which is not set: run "
                         "'git config user.email you@example.com', then 'opsgov init' again")
    return email


def validate_now(root: str, config: str) -> tuple[int, list[str]]:
    """Run ``opsgov validate CONFIG`` (the policy being adopted), as step 1's verification: exit code, output.

    Only the policy: records that were broken before the adoption are the business of a later
    operation, and must not make the adoption itself unverifiable.
    """
    out = io.StringIO()
    try:
        code = run_validate(root, [os.path.join(root, config)], "text", out)
    except UsageError as exc:
        return 2, [f"opsgov: {exc}"]
    return code, out.getvalue().splitlines() or ["(no output)"]


def adopt(git: Git, policy: Policy, created: Sequence[str], now: datetime.datetime | None = None) -> Adoption:
    """Declare, execute, record and sign off the adoption operation; its record and ledger paths."""
    email = requester(git)   # before anything is written
    moment = now or datetime.datetime.now(datetime.timezone.utc)
    stamp = utc_stamp(moment)
    config = PYPROJECT_FILE if policy.source.startswith(PYPROJECT_FILE) else CONFIG_FILE
    verify = f"{VERIFY} {shlex.quote(config)}"
    code, output = validate_now(git.root, config)
    if code != 0:
        raise UsageError(f"'{verify}' fails, so the adoption cannot be verified; fix what it reports, then run "
                         "'opsgov init' again:\n" + "\n".join(output))
    covered = list(dict.fromkeys([*created, *tracked_governed(git, policy)]))
    op_id = next_id(git.root, policy, today_utc(), ops_tag_names(git.root))
    record = policy.record_path(op_id)
    backend = open_backend(git, policy)
    head = git.head()
    fields: dict[str, object] = {
        "OPERATION_ID": op_id, "OPERATION_NAME": NAME,
        "OBJECTIVE": "Put this repository's operational changes under the Ops Governor v1.0 gate",
        "RISK_CLASS": "LOW_RISK_CONFIG",
        "BLAST_RADIUS": "this repository's commits and pushes; no running service",
        "ROLLBACK_STRATEGY": "git revert the adoption commit",
        "ALLOWED_PATHS": [glob_literal(p) for p in covered] or [glob_literal(CONFIG_FILE)],
        "ALLOWED_SERVICES": [],
    }
    text = compose_record(fields, policy, lambda v: render(packaged_template(RUNBOOK_TEMPLATE), v)).decode()
    text = _with_step(text, record, stamp, created, verify, output)
    text = _with_report(text, op_id, created, verify)
    rollback = (f"{head[:12]}" if head else
                "command: " + shlex.join(["git", "rm", "-r", "-q", "--", *sorted({*created, record})]))
    entry_fields = {
        "operation_id": op_id, "operation_name": NAME, "requested_by": email, "approved_by": "SELF",
        "approval_timestamp": stamp, "execution_timestamp": stamp, "risk_class": "LOW_RISK_CONFIG",
        "blast_radius": fields["BLAST_RADIUS"],
        "changes_summary": f"opsgov init: {len(created)} file(s) written (policy, records, templates, hooks)",
        "rollback_ref": rollback, "outcome": "SUCCESS",
    }
    text = fill_signoff(text, render_entry(entry_fields), record)
    write_atomic(os.path.join(git.root, record), text.encode("utf-8"), exclusive=True)
    with locked(backend.lock_path):
        plan = backend.plan_append(entry_fields)
        if has_errors(plan.findings) or plan.entry is None:
            raise UsageError(f"the adoption's ledger entry cannot be written to {plan.path}: "
                             + "; ".join(f.message for f in plan.findings))
        backend.commit(plan)
    return Adoption(op_id, record, plan.path)


def _with_step(text: str, rel: str, stamp: str, created: Sequence[str], verify: str,
               output: Sequence[str]) -> str:
    """Step 1 in the Execution log: what ``init`` did, and the ``opsgov validate`` that verified it."""
    log = parse_record_log(text, rel)
    result = ["exit 0", *(f"wrote {p}" for p in created)]
    lines = step_lines(1, stamp, False, COMMAND, result, "PASS", [f"$ {verify}", "exit 0", *output])
    return insert_block(text, log.insert_line, [FENCE_OPEN, *lines, FENCE_CLOSE])


def _with_report(text: str, op_id: str, created: Sequence[str], verify: str) -> str:
    filled = {placeholder: value.format(op_id=op_id, verify=verify) for placeholder, value in REPORT.items()}
    filled["<!-- Files and services changed. -->"] = "\n".join(f"- {p}" for p in created) + "\n- services: none"
    for placeholder, value in filled.items():
        if placeholder not in text:
            raise UsageError(f"the packaged runbook template lacks {placeholder!r}; reinstall opsgov")
        text = text.replace(placeholder, value, 1)
    return text
