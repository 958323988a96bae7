"""``opsgov new``: declare an operation and write its record from the runbook template.

The record is ``<operations_dir>/<OPERATION_ID>.md``: a front matter holding exactly
the eight declaration fields (written here, never by the template, so it always
matches ``schemas/declaration.schema.json``), then the filled runbook template.
The record is parsed back before it is written: opsgov never writes a record its
own ``validate`` would refuse.
"""
from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable
from typing import TextIO

from opsgov_hooks.lifecycle.allocate import next_id, ops_tag_names, parse_day, today_utc
from opsgov_hooks.atomicfile import write_atomic
from opsgov_hooks.policy.config import Policy, load_policy
from opsgov_hooks.findings import UsageError
from opsgov_hooks.output.text import format_line
from opsgov_hooks.records.declaration import Declaration, parse_operation_record
from opsgov_hooks.git.sources import WorktreeSource
from opsgov_hooks.lifecycle.templating import RUNBOOK_TEMPLATE, load_template, render, template_values, yaml_scalar
from opsgov_hooks.git.process import find_root

FIELDS = ("OPERATION_ID", "OPERATION_NAME", "OBJECTIVE", "RISK_CLASS", "BLAST_RADIUS", "ROLLBACK_STRATEGY",
          "ALLOWED_PATHS", "ALLOWED_SERVICES")
_TEXT_FLAGS = (("OPERATION_NAME", "--name"), ("OBJECTIVE", "--objective"), ("RISK_CLASS", "--risk"),
               ("BLAST_RADIUS", "--blast-radius"), ("ROLLBACK_STRATEGY", "--rollback"))
_ATTEMPTS = 5


@dataclasses.dataclass
class NewRequest:
    name: str | None = None
    objective: str | None = None
    risk: str | None = None
    blast_radius: str | None = None
    rollback: str | None = None
    paths: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    no_services: bool = False
    day: str | None = None

    def given(self) -> dict[str, object]:
        """The declaration fields the flags gave (empty text counts as missing)."""
        values: dict[str, object] = {
            "OPERATION_NAME": self.name, "OBJECTIVE": self.objective, "RISK_CLASS": self.risk,
            "BLAST_RADIUS": self.blast_radius, "ROLLBACK_STRATEGY": self.rollback,
            "ALLOWED_PATHS": list(self.paths) or None,
            "ALLOWED_SERVICES": [] if self.no_services else (list(self.services) or None),
        }
        return {k: v for k, v in values.items() if v is not None and v != ""}


Asker = Callable[[str, Policy], object]


def run_new(start: str, request: NewRequest, out: TextIO, ask: Asker | None = None) -> int:
    """Declare one operation; ``ask`` asks for a field the flags lack (None: nobody to ask, exit 2)."""
    root = find_root(start)
    policy = load_policy(WorktreeSource(root))
    day = parse_day(request.day) if request.day else today_utc()
    fields = complete_fields(request, policy, ask)
    if fields["RISK_CLASS"] not in policy.risk_classes:
        raise UsageError(f"--risk {fields['RISK_CLASS']} is not a risk class: use one of "
                         f"{', '.join(policy.risk_classes)} (or declare it in custom_risk_classes)")
    template = load_template(root, policy.runbook_template, RUNBOOK_TEMPLATE)
    tags = ops_tag_names(root)
    for _ in range(_ATTEMPTS):
        op_id = next_id(root, policy, day, tags)
        data = compose_record({**fields, "OPERATION_ID": op_id}, policy, lambda d: render(template, d))
        rel = policy.record_path(op_id)
        try:
            write_atomic(os.path.join(root, rel), data, exclusive=True)
        except FileExistsError:
            continue  # another 'opsgov new' took this id a moment ago: allocate again
        out.write(f"{op_id}\n{rel}\n")
        print(f"opsgov: declared {op_id}; record each step with: opsgov run {op_id} --verify CHECK -- COMMAND...",
              file=sys.stderr)
        return 0
    raise UsageError(f"{policy.record_path(op_id)} already exists and opsgov never overwrites a record; "
                     "run 'opsgov new' again")


def complete_fields(request: NewRequest, policy: Policy, ask: Asker | None) -> dict[str, object]:
    """The seven declared fields: from the flags, else asked in a terminal, else exit 2 naming the flags."""
    fields = request.given()
    missing = [name for name in FIELDS[1:] if name not in fields]
    if missing and ask is None:
        flags = [_flag(name) for name in missing]
        raise UsageError(f"missing {', '.join(flags)}: there is no terminal to ask for "
                         f"{'it' if len(flags) == 1 else 'them'}, so give every field as a flag")
    for name in missing:
        assert ask is not None
        fields[name] = ask(name, policy)
    return fields


def _flag(name: str) -> str:
    if name == "ALLOWED_PATHS":
        return "--path"
    if name == "ALLOWED_SERVICES":
        return "--service (or --no-services)"
    return dict(_TEXT_FLAGS)[name]


def front_matter(fields: dict[str, object]) -> str:
    lines = ["---"]
    for key in FIELDS:
        value = fields[key]
        if isinstance(value, list):
            lines.append(f"{key}:" + ("" if value else " []"))
            lines.extend(f"  - {yaml_scalar(str(item))}" for item in value)
        else:
            lines.append(f"{key}: {yaml_scalar(str(value))}")
    lines.append("---")
    return "\n".join(lines) + "\n"


def compose_record(fields: dict[str, object], policy: Policy,
                   fill: Callable[[dict[str, str]], str]) -> bytes:
    """The record's bytes, checked by parsing them back exactly as ``opsgov validate`` will."""
    head = front_matter(fields)
    rel = policy.record_path(str(fields["OPERATION_ID"]))
    declaration, findings = parse_operation_record(rel, head.encode("utf-8"), policy)
    if declaration is None:
        raise UsageError("the declaration is not valid:\n" + "\n".join(format_line(f) for f in findings)
                         + "\nFix the flags and run again.")
    text = head + "\n" + fill(template_values(declaration, policy))
    data = (text if text.endswith("\n") else text + "\n").encode("utf-8")
    again, findings = parse_operation_record(rel, data, policy)
    if again is None or _fields(again) != _fields(declaration):
        raise UsageError(f"the runbook template {policy.runbook_template} changes the declaration; "
                         "it must not contain a front matter of its own")
    return data


def _fields(d: Declaration) -> tuple[object, ...]:
    return dataclasses.astuple(dataclasses.replace(d, body="", body_line=0))
