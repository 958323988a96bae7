"""One operation's record, read from the working tree for the commands that act on it.

A missing or invalid record is a usage problem here (exit 2, with the findings):
nothing can be filled or run for an operation that is not validly declared.
"""
from __future__ import annotations

import os
from typing import TextIO

from opsgov_hooks.policy.config import Policy, load_policy
from opsgov_hooks.findings import UsageError
from opsgov_hooks.records.declaration import Declaration, parse_operation_record
from opsgov_hooks.records.ids import ID_RE
from opsgov_hooks.git.sources import WorktreeSource
from opsgov_hooks.git.process import find_root


def check_id(operation_id: str) -> str:
    if not ID_RE.match(operation_id):
        raise UsageError(f"{operation_id!r} is not an operation id: write OPS-YYYY-MM-DD-NNN, "
                         "e.g. OPS-2026-01-27-001")
    return operation_id


def load_operation(root: str, policy: Policy, operation_id: str) -> tuple[Declaration, bytes]:
    """The declaration and the record's bytes; :class:`UsageError` when either is unusable."""
    rel = policy.record_path(check_id(operation_id))
    try:
        with open(os.path.join(root, rel), "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise UsageError(f"{operation_id} is not declared: {rel} does not exist "
                         "(declare it with 'opsgov new')") from None
    declaration, findings = parse_operation_record(rel, raw, policy)
    if declaration is None:
        from opsgov_hooks.output.text import format_line

        raise UsageError(f"the record of {operation_id} is not valid:\n"
                         + "\n".join(format_line(f) for f in findings) + "\nFix it, then run again.")
    return declaration, raw


def run_prompt(start: str, operation_id: str, out: TextIO) -> int:
    """``opsgov prompt``: the canonical ops prompt, filled for one operation."""
    from opsgov_hooks.lifecycle.templating import PROMPT_TEMPLATE, load_template, render, template_values

    root = find_root(start)
    policy = load_policy(WorktreeSource(root))
    declaration, _raw = load_operation(root, policy, operation_id)
    template = load_template(root, policy.prompt_template, PROMPT_TEMPLATE)
    text = render(template, template_values(declaration, policy))
    out.write(text if text.endswith("\n") else text + "\n")
    return 0
