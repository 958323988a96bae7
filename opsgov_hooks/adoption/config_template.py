"""The commented ``.opsgov.yaml`` that ``opsgov init`` writes, rendered from the schema and the defaults.

Every key of ``schemas/config.schema.json`` appears with its description as a
comment and the value of :func:`~opsgov_hooks.policy.config.default_policy`, so the
file a team starts from *is* the standard, and a new key in the schema shows up
here without anyone remembering to add it (a test loads the file back and
compares the policy field by field).
"""
from __future__ import annotations

import textwrap
from typing import Any

import yaml

from opsgov_hooks.policy import schemas
from opsgov_hooks.policy.config import ForbiddenRule, Policy, default_policy

# Where 'opsgov init' puts the schemas' copies for editors, relative to the repository root
# (where .opsgov.yaml is): the modeline below is resolved relative to the file.
SCHEMA_FOLDER = ".opsgov/schemas"

HEADER = """\
# yaml-language-server: $schema={schema_path}
#
# opsgov configuration: Ops Governor v1.0 (P4) with the P5 sign-off ledger.
# Every value below is the standard's default, written out so you can see and
# change it; deleting a key gives the same default. Reference: docs/configuration.md.
# In CI and pre-receive mode opsgov reads this file from the BASE revision, so a
# change to it takes effect only once it is merged (and is itself a governed change).
"""

# Keys with no default value: shown commented out, with an example.
EXAMPLES = {"allowed_signers_file": "allowed_signers_file: .github/allowed_signers"}


class _Dumper(yaml.SafeDumper):
    """Plain YAML the strict loader accepts: never an anchor or alias, keys in schema order."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # lists indented under their key, as people write them


def default_values(policy: Policy) -> dict[str, Any]:
    """The configuration mapping that yields ``policy``."""
    return {
        "version": 1,
        "governed_paths": list(policy.governed_paths),
        "operations_dir": policy.operations_dir,
        "ledger": {"backend": policy.ledger_backend, "path": policy.ledger_path},
        "allow_ledger_followup": policy.allow_ledger_followup,
        "forbidden": [_rule(r) for r in policy.forbidden],
        "signoff": dict(policy.signoff),
        "approvers": list(policy.approvers),
        "solo_mode": policy.solo_mode,
        "custom_risk_classes": list(policy.custom_risk_classes),
        "clock_skew_seconds": policy.clock_skew_seconds,
        "emergency_approval_hours": policy.emergency_approval_hours,
        "require_signed_tags": policy.require_signed_tags,
        "verification_gates": {k: list(v) for k, v in policy.verification_gates.items()},
        "evidence_patterns": {k: list(v) for k, v in policy.evidence_patterns.items()},
        "service_commands": list(policy.service_commands),
        "opaque_commands": policy.opaque_commands,
        "max_output_bytes": policy.max_output_bytes,
        "templates": {"runbook": policy.runbook_template, "prompt": policy.prompt_template},
    }


def _rule(rule: ForbiddenRule) -> dict[str, Any]:
    raw: dict[str, Any] = {"id": rule.id, "message": rule.message}
    if rule.paths:
        raw["paths"] = list(rule.paths)
    if rule.patterns:
        raw["patterns"] = list(rule.patterns)
    if rule.commands != rule.patterns:
        raw["commands"] = list(rule.commands)
    if rule.secrets:
        raw["secrets"] = True
    if rule.applies_to != "operations":
        raw["applies_to"] = rule.applies_to
    return raw


def _comment(text: str, hang: str = "") -> list[str]:
    return ["# " + line for line in textwrap.wrap(text, 98, subsequent_indent=hang)]


def dump_yaml(key: str, value: Any) -> list[str]:
    text = yaml.dump({key: value}, Dumper=_Dumper, default_flow_style=False, sort_keys=False, width=4096,
                     allow_unicode=True)
    return text.rstrip("\n").split("\n")


def _item_help(prop: dict[str, Any]) -> list[str]:
    """For a list of objects (forbidden rules): what each field of an item means."""
    items = prop.get("items", {})
    lines = []
    for name, sub in items.get("properties", {}).items():
        if "description" in sub:
            lines += _comment(f"  {name}: {sub['description']}", hang="    ")
    return (["# Each item:"] + lines) if lines else []


def render_config(policy: Policy | None = None) -> str:
    schema = schemas.load_schema("config.schema.json")
    values = default_values(policy or default_policy())
    lines = [HEADER.format(schema_path=f"{SCHEMA_FOLDER}/config.schema.json").rstrip("\n")]
    for key, prop in schema["properties"].items():
        lines.append("")
        lines += _comment(prop.get("description", key)) + _item_help(prop)
        for name, sub in prop.get("properties", {}).items():
            if "description" in sub:
                lines += _comment(f"{key}.{name}: {sub['description']}", hang="  ")
        if key in values:
            lines += dump_yaml(key, values[key])
        else:
            lines.append("# " + EXAMPLES.get(key, f"{key}: ..."))
    return "\n".join(lines) + "\n"
