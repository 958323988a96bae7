"""The policy: what is governed, where records live, what is NOT ALLOWED.

With no configuration the policy is the standard as written (Ops Governor v1.0,
P4 scope contract and P5 sign-off levels). Everything specific to one
organisation (paths, stream names, approvers) is configuration. The gate reads
the configuration from a *trusted* revision, so callers pass the bytes in; this
module never decides where they come from.
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any

from opsgov_hooks import schemas
from opsgov_hooks.findings import Finding, UsageError, error
from opsgov_hooks.yamlstrict import check_bytes, load_documents

CONFIG_FILE = ".opsgov.yaml"
PYPROJECT_FILE = "pyproject.toml"

STANDARD_RISK_CLASSES = ("READ_ONLY", "LOW_RISK_CONFIG", "SERVICE_RESTART", "FILESYSTEM_WRITE")

# P5 "When to Use": LOW_RISK_CONFIG optional, SERVICE_RESTART / FILESYSTEM_WRITE
# recommended, custom high-risk operations required. READ_ONLY changes nothing.
DEFAULT_SIGNOFF = {
    "READ_ONLY": "optional",
    "LOW_RISK_CONFIG": "optional",
    "SERVICE_RESTART": "recommended",
    "FILESYSTEM_WRITE": "recommended",
}

TRADING_STREAMS = ("quantum:stream:apply.plan", "quantum:stream:trade.intent", "quantum:stream:ai.decision")
_STREAMS_RE = "|".join(re.escape(s) for s in TRADING_STREAMS)

# The standard's NOT ALLOWED list, one rule per bullet.
DEFAULT_FORBIDDEN: tuple[dict[str, Any], ...] = (
    {
        "id": "trading-logic",
        "message": "no trading logic modifications",
        "paths": ["trading/**", "**/trading/**", "**/strategies/**", "**/strategy/**"],
    },
    {
        "id": "trading-streams",
        "message": "no writes to trading Redis streams",
        "patterns": [
            rf"(?i)\b(?:XADD|XDEL|XTRIM|XSETID|DEL|UNLINK|RENAME|SET|EXPIRE)\b\s+[\"']?(?:{_STREAMS_RE})\b",
        ],
    },
    {
        "id": "secrets",
        "message": "no secrets, keys or exchange credential changes",
        "paths": ["**/*.pem", "**/*.key", "**/id_rsa*", "**/id_ed25519*", "**/.env", "**/.env.*",
                  "**/secrets/**", "**/*secret*.y*ml", "**/*credentials*", "**/exchange_keys*"],
        "secrets": True,
    },
    {
        "id": "grafana-db",
        "message": "no Grafana DB modifications",
        "paths": ["**/grafana.db", "**/grafana.db-*", "**/grafana/data/**"],
    },
    {
        "id": "firewall-network-permissions",
        "message": "no firewall, network or user permission changes",
        "paths": ["**/iptables/**", "**/iptables*.rules", "**/nftables.conf", "**/nftables/**", "**/ufw/**",
                  "**/sudoers", "**/sudoers.d/**", "**/sshd_config", "**/sshd_config.d/**", "**/netplan/**",
                  "**/network/interfaces", "**/network/interfaces.d/**", "**/etc/passwd", "**/etc/group",
                  "**/etc/shadow"],
        "patterns": [r"(?i)^\s*(?:sudo\s+)?(?:iptables|ip6tables|nft|ufw|firewall-cmd|useradd|usermod|userdel|"
                     r"groupadd|groupmod|passwd|visudo|chown|setfacl)\b"],
    },
)

DEFAULT_GATES = {
    "SERVICE_RESTART": ["status", "logs", "functional"],
    "LOW_RISK_CONFIG": ["functional"],
    "FILESYSTEM_WRITE": ["functional"],
}
DEFAULT_EVIDENCE = {
    "status": [r"\bsystemctl\s+(?:--\S+\s+)*is-active\b", r"\bsystemctl\s+(?:--\S+\s+)*status\b"],
    "logs": [r"\bjournalctl\b.*\|\s*grep\b.*(?:error|fail|panic|fatal)", r"\bjournalctl\b.*-p\s*(?:err|3)\b"],
    "functional": [r"\bcurl\b.*\s-\w*f\w*\b.*https?://", r"\bpromtool\s+check\b", r"\bwget\b.*--spider",
                   r"\bamtool\s+check-config\b", r"\bnginx\s+-t\b", r"\bhealth"],
}
DEFAULT_SERVICE_COMMANDS = ["systemctl", "service", "docker", "podman", "supervisorctl", "rc-service"]


@dataclasses.dataclass(frozen=True)
class ForbiddenRule:
    id: str
    message: str
    paths: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    commands: tuple[str, ...] = ()
    secrets: bool = False


@dataclasses.dataclass(frozen=True)
class Policy:
    source: str = "(defaults)"
    governed_paths: tuple[str, ...] = ("ops/**", "docs/governance/**")
    operations_dir: str = "ops/operations"
    ledger_backend: str = "yaml"
    ledger_path: str = "ops/ledger"
    allow_ledger_followup: bool = False
    forbidden: tuple[ForbiddenRule, ...] = ()
    signoff: dict[str, str] = dataclasses.field(default_factory=lambda: dict(DEFAULT_SIGNOFF))
    approvers: tuple[str, ...] = ()
    solo_mode: bool = False
    custom_risk_classes: tuple[str, ...] = ()
    clock_skew_seconds: int = 300
    emergency_approval_hours: int = 24
    require_signed_tags: bool = False
    allowed_signers_file: str | None = None
    verification_gates: dict[str, list[str]] = dataclasses.field(default_factory=lambda: dict(DEFAULT_GATES))
    evidence_patterns: dict[str, list[str]] = dataclasses.field(default_factory=lambda: dict(DEFAULT_EVIDENCE))
    service_commands: tuple[str, ...] = tuple(DEFAULT_SERVICE_COMMANDS)
    max_output_bytes: int = 65536
    runbook_template: str = "docs/OPS_RUNBOOK_TEMPLATE.md"
    prompt_template: str = "ops/ops_prompt_template_v1.txt"

    @property
    def risk_classes(self) -> tuple[str, ...]:
        return STANDARD_RISK_CLASSES + self.custom_risk_classes

    def signoff_level(self, risk_class: str) -> str:
        return self.signoff.get(risk_class, "required")

    def record_path(self, operation_id: str) -> str:
        return f"{self.operations_dir}/{operation_id}.md"

    def ledger_file_for(self, operation_id: str) -> str:
        """Where the entry of ``operation_id`` belongs (file backends only)."""
        if self.ledger_backend == "markdown":
            return self.ledger_path
        return f"{self.ledger_path}/{operation_id[4:11]}.yaml"

    def is_record_path(self, path: str) -> bool:
        """Operation records and ledger files: the records an operation itself writes."""
        if path.startswith(self.operations_dir + "/") and path.endswith(".md"):
            return True
        if self.ledger_backend == "markdown":
            return path == self.ledger_path
        if self.ledger_backend == "yaml":
            return path.startswith(self.ledger_path + "/") and path.endswith(".yaml")
        return False


def default_forbidden() -> tuple[ForbiddenRule, ...]:
    return tuple(_forbidden_rule(r) for r in DEFAULT_FORBIDDEN)


def _forbidden_rule(raw: dict[str, Any]) -> ForbiddenRule:
    return ForbiddenRule(
        id=raw["id"], message=raw["message"], paths=tuple(raw.get("paths", ())),
        patterns=tuple(raw.get("patterns", ())),
        commands=tuple(raw.get("commands", raw.get("patterns", ()))), secrets=bool(raw.get("secrets", False)),
    )


def default_policy() -> Policy:
    return Policy(forbidden=default_forbidden())


def policy_from_mapping(data: dict[str, Any], source: str) -> Policy:
    """Build a policy from configuration data already validated against the schema."""
    ledger = data.get("ledger", {})
    backend = ledger.get("backend", "yaml")
    default_ledger_path = {"yaml": "ops/ledger", "markdown": "docs/OPS_CHANGELOG.md", "tags": ""}[backend]
    templates = data.get("templates", {})
    custom = tuple(data.get("custom_risk_classes", ()))
    signoff = dict(DEFAULT_SIGNOFF)
    signoff.update({c: "required" for c in custom})
    signoff.update(data.get("signoff", {}))
    gates = dict(DEFAULT_GATES)
    gates.update(data.get("verification_gates", {}))
    evidence = dict(DEFAULT_EVIDENCE)
    evidence.update(data.get("evidence_patterns", {}))
    forbidden = data.get("forbidden")
    return Policy(
        source=source,
        governed_paths=tuple(data.get("governed_paths", Policy.governed_paths)),
        operations_dir=data.get("operations_dir", Policy.operations_dir).rstrip("/"),
        ledger_backend=backend,
        ledger_path=ledger.get("path", default_ledger_path).rstrip("/"),
        allow_ledger_followup=data.get("allow_ledger_followup", False),
        forbidden=default_forbidden() if forbidden is None else tuple(_forbidden_rule(r) for r in forbidden),
        signoff=signoff,
        approvers=tuple(data.get("approvers", ())),
        solo_mode=data.get("solo_mode", False),
        custom_risk_classes=custom,
        clock_skew_seconds=data.get("clock_skew_seconds", 300),
        emergency_approval_hours=data.get("emergency_approval_hours", 24),
        require_signed_tags=data.get("require_signed_tags", False),
        allowed_signers_file=data.get("allowed_signers_file"),
        verification_gates=gates,
        evidence_patterns=evidence,
        service_commands=tuple(data.get("service_commands", DEFAULT_SERVICE_COMMANDS)),
        max_output_bytes=data.get("max_output_bytes", 65536),
        runbook_template=templates.get("runbook", Policy.runbook_template),
        prompt_template=templates.get("prompt", Policy.prompt_template),
    )


def parse_config(path: str, raw: bytes) -> tuple[Policy | None, list[Finding]]:
    """Parse ``.opsgov.yaml`` bytes; findings instead of a policy when it is broken."""
    text, findings = check_bytes(path, raw)
    if text is None:
        return None, findings
    docs, findings = load_documents(path, text)
    if findings:
        return None, findings
    if len(docs) != 1 or not isinstance(docs[0].data, dict):
        return None, [error("C001", "the configuration must be one YAML mapping", path)]
    findings = schemas.validate(schemas.CONFIG, docs[0])
    findings += _check_patterns(path, docs[0].data, docs[0])
    if findings:
        return None, findings
    return policy_from_mapping(docs[0].data, path), []


def parse_pyproject(path: str, raw: bytes) -> tuple[Policy | None, list[Finding]]:
    """``[tool.opsgov]`` in pyproject.toml; ``None`` and no findings when the table is absent."""
    import tomllib

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return None, [error("C001", f"cannot read pyproject.toml: {exc}", path)]
    table = data.get("tool", {}).get("opsgov")
    if table is None:
        return None, []
    from opsgov_hooks.yamlstrict import Document
    import yaml

    line = next((i for i, text in enumerate(raw.decode("utf-8").splitlines(), 1)
                 if text.strip() == "[tool.opsgov]"), 1)
    mark = yaml.Mark("", 0, line - 1, 0, None, None)  # type: ignore[arg-type]
    doc = Document(table, yaml.ScalarNode("", "", mark), path)
    findings = schemas.validate(schemas.CONFIG, doc, where="[tool.opsgov]")
    findings += _check_patterns(path, table, doc)
    if findings:
        return None, findings
    return policy_from_mapping(table, f"{path} [tool.opsgov]"), []


def _check_patterns(path: str, data: dict[str, Any], doc: Any) -> list[Finding]:
    findings = []
    for i, rule in enumerate(data.get("forbidden", ()) or ()):
        for key in ("patterns", "commands"):
            for j, pattern in enumerate(rule.get(key, ())):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    line, col = doc.position(("forbidden", i, key, j))
                    findings.append(error("C002", f"forbidden rule '{rule.get('id')}': invalid regular "
                                          f"expression: {exc}", path, line, col))
    return findings


def resolve_policy(config_raw: bytes | None, pyproject_raw: bytes | None) -> Policy:
    """The policy from the bytes of a trusted revision; :class:`UsageError` when it is broken.

    A broken policy is an environment problem (exit 2), never a reason to fall back
    to defaults: a gate that silently loses its configuration would pass by default.
    """
    policy: Policy | None = None
    findings: list[Finding] = []
    from_pyproject: Policy | None = None
    if pyproject_raw is not None:
        from_pyproject, findings = parse_pyproject(PYPROJECT_FILE, pyproject_raw)
    if config_raw is not None:
        if from_pyproject is not None:
            raise UsageError(f"both {CONFIG_FILE} and [tool.opsgov] in {PYPROJECT_FILE} configure opsgov; "
                             "keep one of them")
        policy, findings = parse_config(CONFIG_FILE, config_raw)
    else:
        policy = from_pyproject
    if findings:
        from opsgov_hooks.reporters.text import format_line

        lines = "\n".join(format_line(f) for f in findings)
        raise UsageError(f"the opsgov configuration is broken:\n{lines}\nFix the configuration "
                         f"(schema: schemas/config.schema.json), then run again.")
    return policy or default_policy()



def load_policy(source: Any) -> Policy:
    """The policy as a :class:`~opsgov_hooks.sources.Source` holds it (working tree, index or commit)."""
    contents = source.read_many([CONFIG_FILE, PYPROJECT_FILE])
    return resolve_policy(contents.get(CONFIG_FILE), contents.get(PYPROJECT_FILE))
