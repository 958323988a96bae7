"""Fill the runbook and prompt templates from a declaration and the policy.

The syntax is one strict form, ``{{ NAME }}``: NAME in capitals (``[A-Z][A-Z0-9_]*``),
spaces inside the braces optional, on one line. Everything else is literal text.
It is plain substitution: no expressions, no filters, no loops, nothing of the
template is ever evaluated, and a filled-in value is never scanned again (a value
that contains ``{{ X }}`` stays as written).

Strictness, because a template is policy text and a guess would be silent:

* a name that is not in :data:`PLACEHOLDERS` is an error naming it, ``path:line:col``;
* a ``{{`` that does not open a well-formed placeholder is an error (write
  ``{{ OPEN_BRACES }}`` for a literal ``{{``, e.g. in a ``docker --format`` example);
* the standard's own notation, ``<ALLOWED_PATHS>``, is an error too: left in a
  template it would reach the operator unfilled. Lower-case hints such as
  ``<exact command>`` are text for a person and stay as they are.

``{{ ... }}`` was chosen over the standard's ``<NAME>`` because angle brackets are
Markdown/HTML syntax and the standard itself uses them for hints a person fills in.
"""
from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Mapping

from opsgov_hooks.policy.config import TRADING_STREAMS, Policy
from opsgov_hooks.findings import UsageError
from opsgov_hooks.records.declaration import Declaration

PLACEHOLDERS: dict[str, str] = {
    "OPERATION_ID": "the operation id, OPS-YYYY-MM-DD-NNN",
    "OPERATION_NAME": "the declaration's OPERATION_NAME",
    "OBJECTIVE": "the declaration's OBJECTIVE",
    "RISK_CLASS": "the declaration's RISK_CLASS",
    "BLAST_RADIUS": "the declaration's BLAST_RADIUS",
    "ROLLBACK_STRATEGY": "the declaration's ROLLBACK_STRATEGY",
    "ALLOWED_PATHS": "the declaration's ALLOWED_PATHS, comma-separated",
    "ALLOWED_SERVICES": "the declaration's ALLOWED_SERVICES, comma-separated, or (none)",
    "NOT_ALLOWED": "the NOT ALLOWED list, one '- ' bullet per forbidden rule of the config",
    "VERIFICATION_GATES": "the evidence the risk class needs (verification_gates), or 'none required'",
    "RECORD_PATH": "the operation record's repository path",
    "LEDGER_ENTRY_DRAFT": "a P5 ledger entry in YAML, pre-filled from the declaration",
    "OPEN_BRACES": "a literal '{{'",
}

RUNBOOK_TEMPLATE = "OPS_RUNBOOK_TEMPLATE.md"
PROMPT_TEMPLATE = "ops_prompt_template_v1.txt"

_OPEN = re.compile(r"\{\{")
_NAME = re.compile(r"[ \t]*([A-Z][A-Z0-9_]*)[ \t]*\Z")
_STANDARD = re.compile(r"<([A-Z][A-Z0-9_]*)>")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029]")
_EVIDENCE_HINTS = {
    "status": "status (e.g. systemctl is-active <service>)",
    "logs": "logs (e.g. a journalctl error scan)",
    "functional": "functional (e.g. curl -fsS http://localhost:<port>/<health>, promtool check config)",
}


class TemplateError(UsageError):
    """A template names an unknown placeholder or is malformed (exit 2, each problem at path:line:col)."""


@dataclasses.dataclass(frozen=True)
class Template:
    path: str           # the repository path, or "(packaged) <name>"
    text: str


def problems(template: Template, known: Mapping[str, object] = PLACEHOLDERS) -> list[str]:
    """Every problem of a template, as ``path:line:col: message`` lines."""
    found = []
    for start, end, name in _scan(template.text):
        where = _where(template, start)
        raw = template.text[start:end]
        if name is None:
            found.append(f"{where}: malformed placeholder {raw!r}: write {{{{ NAME }}}} with NAME in capitals "
                         "on one line ({{ OPEN_BRACES }} for a literal '{{')")
        elif name not in known:
            found.append(f"{where}: unknown placeholder {{{{ {name} }}}} (known: {', '.join(sorted(known))})")
    for m in _STANDARD.finditer(template.text):
        hint = (f"write {{{{ {m[1]} }}}}" if m[1] in known
                else "write a hint for a person in lower case, e.g. <exact command>")
        found.append(f"{_where(template, m.start())}: placeholder <{m[1]}> in the standard's notation would "
                     f"be left unfilled: {hint}")
    return sorted(found, key=_position_key)


def render(template: Template, values: Mapping[str, str]) -> str:
    """The filled template; :class:`TemplateError` listing every problem when it cannot be filled."""
    found = problems(template, values)
    if found:
        raise TemplateError(f"the template {template.path} cannot be filled:\n" + "\n".join(found))
    out, last = [], 0
    for start, end, name in _scan(template.text):
        assert name is not None
        out.append(template.text[last:start])
        out.append(values[name])
        last = end
    out.append(template.text[last:])
    return "".join(out)


def _scan(text: str) -> list[tuple[int, int, str | None]]:
    """(start, end, name or None when malformed) of every ``{{``...``}}`` on one line."""
    found: list[tuple[int, int, str | None]] = []
    pos = 0
    while (m := _OPEN.search(text, pos)) is not None:
        line_end = text.find("\n", m.start())
        close = text.find("}}", m.end(), len(text) if line_end < 0 else line_end)
        if close < 0:
            found.append((m.start(), m.end(), None))
            pos = m.end()
            continue
        name = _NAME.match(text, m.end(), close)
        found.append((m.start(), close + 2, name[1] if name else None))
        pos = close + 2
    return found


def _where(template: Template, offset: int) -> str:
    line = template.text.count("\n", 0, offset) + 1
    column = offset - (template.text.rfind("\n", 0, offset) + 1) + 1
    return f"{template.path}:{line}:{column}"


def _position_key(problem: str) -> tuple[int, int]:
    parts = problem.split(": ", 1)[0].rsplit(":", 2)
    return int(parts[1]), int(parts[2])


# -- loading -----------------------------------------------------------------------

def load_template(root: str, repo_path: str, packaged: str) -> Template:
    """The repository's own template when it has one, else the one shipped with opsgov."""
    full = os.path.realpath(os.path.join(root, repo_path))
    if not full.startswith(os.path.realpath(root) + os.sep):
        raise UsageError(f"the template path {repo_path!r} (config 'templates') leads outside the repository; "
                         "use a path inside it")
    if os.path.isfile(full):
        with open(full, "rb") as f:
            raw = f.read()
        try:
            return Template(repo_path, raw.decode("utf-8").removeprefix("\ufeff"))
        except UnicodeDecodeError:
            raise TemplateError(f"{repo_path}: the template is not UTF-8; re-save it as UTF-8") from None
    return packaged_template(packaged)


def packaged_template(name: str) -> Template:
    from importlib import resources

    text = (resources.files("opsgov_hooks") / "data" / name).read_text(encoding="utf-8")
    return Template(f"(packaged) {name}", text)


# -- values ------------------------------------------------------------------------

def template_values(declaration: Declaration, policy: Policy) -> dict[str, str]:
    """A value for every name in :data:`PLACEHOLDERS`."""
    d = declaration
    services = ", ".join(d.allowed_services) or "(none)"
    values = {
        "OPERATION_ID": d.operation_id, "OPERATION_NAME": d.name, "OBJECTIVE": d.objective,
        "RISK_CLASS": d.risk_class, "BLAST_RADIUS": d.blast_radius, "ROLLBACK_STRATEGY": d.rollback_strategy,
        "ALLOWED_PATHS": ", ".join(d.allowed_paths), "ALLOWED_SERVICES": services,
        "RECORD_PATH": policy.record_path(d.operation_id),
    }
    values = {key: inline(value) for key, value in values.items()}
    values["NOT_ALLOWED"] = not_allowed(policy)
    values["VERIFICATION_GATES"] = verification_gates(policy, d.risk_class)
    values["LEDGER_ENTRY_DRAFT"] = ledger_entry_draft(d)
    values["OPEN_BRACES"] = "{{"
    return values


def inline(value: str) -> str:
    """A declaration value made safe to place in running text.

    Control characters become spaces; continuation lines are indented by four
    spaces, so a value can never start a heading, a step or a label in column 0.
    """
    text = _CONTROL.sub(" ", value.replace("\r\n", "\n").replace("\r", "\n")).strip("\n")
    return "\n    ".join(text.split("\n"))


def not_allowed(policy: Policy) -> str:
    """The NOT ALLOWED bullets: each forbidden rule's message (the standard's list by default)."""
    lines = []
    for rule in policy.forbidden:
        message = inline(rule.message)
        lines.append(f"- {message[:1].upper()}{message[1:]}")
        text = " ".join(rule.commands + rule.patterns)
        lines.extend(f"  - {stream}" for stream in TRADING_STREAMS if re.escape(stream) in text)
    return "\n".join(lines) or "- (no forbidden rules configured)"


def verification_gates(policy: Policy, risk_class: str) -> str:
    kinds = policy.verification_gates.get(risk_class, [])
    return ", ".join(_EVIDENCE_HINTS.get(k, k) for k in kinds) or "none required"


def ledger_entry_draft(d: Declaration) -> str:
    """The P5 entry with what the declaration already says; the rest are the standard's hints."""
    known = {"operation_id": d.operation_id, "operation_name": d.name, "risk_class": d.risk_class,
             "blast_radius": d.blast_radius}
    hints = {
        "requested_by": "<username/email>", "approved_by": "<username/email | SELF if solo>",
        "approval_timestamp": "<ISO8601 UTC>", "execution_timestamp": "<ISO8601 UTC>",
        "changes_summary": "<1-line summary>", "rollback_ref": "<git commit | command | procedure>",
        "outcome": "<SUCCESS | ROLLBACK | PARTIAL>", "notes": "<optional>",
    }
    order = ("operation_id", "operation_name", "requested_by", "approved_by", "approval_timestamp",
             "execution_timestamp", "risk_class", "blast_radius", "changes_summary", "rollback_ref",
             "outcome", "notes")
    return "\n".join(f"{key}: {yaml_scalar(known[key]) if key in known else hints[key]}" for key in order)


_PLAIN = re.compile(r"[A-Za-z_./][A-Za-z0-9 _./@()+,*-]*\Z")
_RESERVED = frozenset({"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"})


def yaml_scalar(value: str) -> str:
    """``value`` as a YAML scalar that every YAML reader (strict or not) reads back as that string."""
    if _PLAIN.match(value) and value == value.strip() and value.casefold() not in _RESERVED:
        return value
    quoted = json.dumps(value, ensure_ascii=False)
    return re.sub(r"[\x85\u2028\u2029]", lambda m: f"\\u{ord(m[0]):04x}", quoted)
