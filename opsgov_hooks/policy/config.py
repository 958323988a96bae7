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

from opsgov_hooks.identities import problems as identity_problems
from opsgov_hooks.linear import compile_linear
from opsgov_hooks.policy import schemas
from opsgov_hooks.findings import Finding, UsageError, error, sort_findings
from opsgov_hooks.policy.globs import glob_problem, negation_problem
from opsgov_hooks.output.text import format_line
from opsgov_hooks.records.yamlstrict import MAX_BYTES, Document, PathKey, check_bytes, load_documents

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
# Redis commands (and redis-py method names) that write to, reshape or remove a stream.
_WRITES = ("XADD|XDEL|XTRIM|XSETID|XGROUP|XACK|XCLAIM|XAUTOCLAIM|DEL|DELETE|UNLINK|RENAME|RENAMENX|SET|"
           "EXPIRE|PEXPIRE|EXPIREAT|PEXPIREAT|PERSIST|RESTORE|COPY|MOVE")

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
            # redis-cli and raw protocol: XADD quantum:stream:trade.intent * ...
            rf"(?i)\b(?:{_WRITES})\b\s+[\"']?(?:{_STREAMS_RE})\b",
            # client libraries: r.xadd("quantum:stream:...", ...), execute_command("XADD", "quantum:..."),
            # redis.call('XADD', 'quantum:...') in a Lua script, r.delete(b"quantum:..."), xadd(name="...")
            rf"(?i)\b(?:{_WRITES})\b[\"']?\s{{0,8}}[(,]\s{{0,8}}(?:(?:name|key|keys|src|dst|stream)\s{{0,8}}=\s{{0,8}})?"
            rf"[bfru]{{0,2}}[\"'`]?(?:{_STREAMS_RE})\b",
            # a server-side script given a stream: redis-cli EVAL "redis.call('XADD', KEYS[1], ...)" 1 quantum:...
            rf"(?i)\b(?:EVAL|EVALSHA|EVAL_RO|FCALL)\b[^\n]{{0,400}}?(?:{_STREAMS_RE})\b",
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
# Evidence is a verification *program* in command position (the start of the command, or after a pipe,
# ';', '&&', '!', 'sudo' or an opening quote of 'sh -c'), never a word anywhere: 'echo health' proves nothing.
_RUNS = r"(?:^|[;&|(!'\"]|\bsudo)\s*"
DEFAULT_EVIDENCE = {
    "status": [_RUNS + r"systemctl\s+(?:--\S+\s+)*(?:is-active|status)\b"],
    "logs": [_RUNS + r"journalctl\b[^|]*\|\s*grep\b.*(?:error|fail|panic|fatal)",
             _RUNS + r"journalctl\b.*\s-p\s*(?:err|3)\b"],
    "functional": [_RUNS + r"curl\b[^;&|]*\s(?:-[a-zA-Z]*f[a-zA-Z]*|--fail(?:-with-body)?)\s[^;&|]*https?://",
                   _RUNS + r"wget\b[^;&|]*\s--spider\b", _RUNS + r"promtool\s+check\s",
                   _RUNS + r"amtool\s+check-config\b", _RUNS + r"nginx\s+-t\b",
                   _RUNS + r"opsgov\s+(?:validate|check)\b"],
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
    applies_to: str = "operations"   # "operations": the changes the gate judges; "all": every change


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
    # Signed approvals ('opsgov approve'): per risk class; a class not listed is required when it is
    # custom (P5 "required" sign-off), not for the standard's four. Operations with an id before
    # ``signed_approvals_from`` keep their text-only approvals (migration).
    require_signed_approvals: dict[str, bool] = dataclasses.field(default_factory=dict)
    signed_approvals_from: str | None = None
    verification_gates: dict[str, list[str]] = dataclasses.field(default_factory=lambda: dict(DEFAULT_GATES))
    evidence_patterns: dict[str, list[str]] = dataclasses.field(default_factory=lambda: dict(DEFAULT_EVIDENCE))
    service_commands: tuple[str, ...] = tuple(DEFAULT_SERVICE_COMMANDS)
    opaque_commands: str = "refuse"   # "allow": commands opsgov cannot read are not refused
    max_output_bytes: int = 65536
    runbook_template: str = "docs/OPS_RUNBOOK_TEMPLATE.md"
    prompt_template: str = "ops/ops_prompt_template_v1.txt"

    @property
    def risk_classes(self) -> tuple[str, ...]:
        return STANDARD_RISK_CLASSES + self.custom_risk_classes

    def signoff_level(self, risk_class: str) -> str:
        return self.signoff.get(risk_class, "required")

    def requires_signed_approval(self, risk_class: str) -> bool:
        return self.require_signed_approvals.get(risk_class, risk_class not in STANDARD_RISK_CLASSES)

    @property
    def approvals_dir(self) -> str:
        """Beside the operations directory: ``ops/operations`` -> ``ops/approvals``."""
        parent = self.operations_dir.rpartition("/")[0]
        return f"{parent}/approvals" if parent else "approvals"

    def approval_path(self, operation_id: str) -> str:
        return f"{self.approvals_dir}/{operation_id}.yaml"

    def record_path(self, operation_id: str) -> str:
        return f"{self.operations_dir}/{operation_id}.md"

    def ledger_file_for(self, operation_id: str) -> str:
        """Where the entry of ``operation_id`` belongs (file backends only)."""
        if self.ledger_backend == "markdown":
            return self.ledger_path
        return f"{self.ledger_path}/{operation_id[4:11]}.yaml"


def default_forbidden() -> tuple[ForbiddenRule, ...]:
    return tuple(_forbidden_rule(r) for r in DEFAULT_FORBIDDEN)


def _forbidden_rule(raw: dict[str, Any]) -> ForbiddenRule:
    return ForbiddenRule(
        id=raw["id"], message=raw["message"], paths=tuple(raw.get("paths", ())),
        patterns=tuple(raw.get("patterns", ())),
        commands=tuple(raw.get("commands", raw.get("patterns", ()))), secrets=bool(raw.get("secrets", False)),
        applies_to=str(raw.get("applies_to", "operations")),
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
        require_signed_approvals=dict(data.get("require_signed_approvals", {})),
        signed_approvals_from=data.get("signed_approvals_from"),
        verification_gates=gates,
        evidence_patterns=evidence,
        service_commands=tuple(data.get("service_commands", DEFAULT_SERVICE_COMMANDS)),
        opaque_commands=str(data.get("opaque_commands", "refuse")),
        max_output_bytes=data.get("max_output_bytes", 65536),
        runbook_template=templates.get("runbook", Policy.runbook_template),
        prompt_template=templates.get("prompt", Policy.prompt_template),
    )


def policy_to_plain(policy: Policy) -> dict[str, Any]:
    """The policy as plain data (dicts, tuples, text, numbers): what a cache can keep."""
    return dataclasses.asdict(policy)


def policy_from_plain(plain: Any) -> Policy:
    """The policy :func:`policy_to_plain` gave; ``TypeError``/``ValueError`` for anything it does not give."""
    if not isinstance(plain, dict) or not isinstance(plain.get("forbidden"), tuple):
        raise TypeError("not a policy")
    rules = tuple(_typed(ForbiddenRule, ForbiddenRule(id="", message=""), rule) for rule in plain["forbidden"])
    policy: Policy = _typed(Policy, Policy(), {**plain, "forbidden": rules})
    return policy


def _typed(kind: Any, default: Any, fields: Any) -> Any:
    """``kind(**fields)`` when every field has the type of its default (text where the default is None)."""
    if not isinstance(fields, dict):
        raise TypeError("not a mapping")
    for name, value in fields.items():
        expected = getattr(default, name, None)
        if not (isinstance(value, type(expected)) or expected is None and isinstance(value, str)):
            raise ValueError(f"{name}: not a {type(expected).__name__}")
    return kind(**fields)


def parse_config(path: str, raw: bytes) -> tuple[Policy | None, list[Finding]]:
    """Parse ``.opsgov.yaml`` bytes; findings instead of a policy when it is broken.

    An empty file, or one of only comments, sets nothing: the defaults apply.
    """
    if not raw.strip():
        return policy_from_mapping({}, path), []
    text, findings = check_bytes(path, raw)
    if text is None:
        return None, findings
    docs, findings = load_documents(path, text)
    if findings:
        return None, findings
    if not docs or (len(docs) == 1 and docs[0].data is None):
        return policy_from_mapping({}, path), []
    if len(docs) != 1 or not isinstance(docs[0].data, dict):
        line, col = docs[-1].position() if docs else (1, 1)
        return None, [error("C001", "the configuration must be one YAML mapping of settings", path, line, col,
                            hint="see docs/records.md#configuration")]
    return _policy_or_findings(docs[0].data, docs[0], path, path)


def _policy_or_findings(data: dict[str, Any], doc: Document, path: str,
                        source: str, where: str = "") -> tuple[Policy | None, list[Finding]]:
    findings = schemas.validate(schemas.CONFIG, doc, data=data, where=where)
    if not findings:
        findings = _check_patterns(path, data, doc) + _check_classes(path, data, doc) + _check_approvers(path, data, doc)
    if findings:
        return None, findings
    return policy_from_mapping(data, source), []


def pyproject_table(path: str, raw: bytes) -> tuple[dict[str, Any] | None, list[Finding]]:
    """``[tool.opsgov]`` of a pyproject.toml: None when absent; findings when unreadable."""
    import tomllib

    if len(raw) > MAX_BYTES:
        return None, [error("C001", "pyproject.toml is over 1 MiB; opsgov does not read it", path)]
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return None, [error("C001", "pyproject.toml is not UTF-8", path)]
    except tomllib.TOMLDecodeError as exc:
        where = re.search(r"\(at line (\d+), column (\d+)\)$", str(exc))
        line, col = (int(where[1]), int(where[2])) if where else (1, 1)
        message = str(exc)[:where.start()].rstrip() if where else str(exc)
        return None, [error("C001", f"cannot read pyproject.toml: {message}", path, line, col)]
    tool = data.get("tool")
    table = tool.get("opsgov") if isinstance(tool, dict) else None
    if table is not None and not isinstance(table, dict):
        return None, [error("C001", "tool.opsgov must be a table", path, _toml_line(raw, ()), 1)]
    return table, []


def parse_pyproject(path: str, raw: bytes) -> tuple[Policy | None, list[Finding]]:
    """``[tool.opsgov]`` in pyproject.toml; ``None`` and no findings when the table is absent."""
    table, findings = pyproject_table(path, raw)
    if table is None:
        return None, findings
    doc = _TomlDocument(table, path, raw)
    return _policy_or_findings(table, doc, path, f"{path} [tool.opsgov]", where="[tool.opsgov]")


class _TomlDocument(Document):
    """Positions in ``[tool.opsgov]``: the line of the setting's key (tomllib keeps no positions)."""

    def __init__(self, table: dict[str, Any], path: str, raw: bytes) -> None:
        import yaml

        mark = yaml.Mark("", 0, 0, 0, None, None)  # type: ignore[arg-type]
        super().__init__(table, yaml.ScalarNode("", "", mark, mark), path)
        self.raw = raw

    def position(self, where: tuple[PathKey, ...] = (), *, key: bool = False) -> tuple[int, int]:
        return _toml_line(self.raw, tuple(p for p in where[:1] if isinstance(p, str))), 1


def _toml_line(raw: bytes, where: tuple[str, ...]) -> int:
    """The line of ``[tool.opsgov]`` (or of its top-level key ``where[0]``, when written plainly)."""
    lines = raw.decode("utf-8", "replace").split("\n")
    header = next((i for i, text in enumerate(lines) if text.strip() == "[tool.opsgov]"), None)
    if where:
        key = re.compile(rf"\s*(?:{re.escape(where[0])}|\"{re.escape(where[0])}\")\s*=")
        section = re.compile(rf"\s*\[\[?\s*tool\.opsgov\.{re.escape(where[0])}\s*\]")
        start = header + 1 if header is not None else 0
        for i in range(start, len(lines)):
            if section.match(lines[i]) or (header is not None and key.match(lines[i])):
                return i + 1
            if header is not None and lines[i].lstrip().startswith("[") and not lines[i].strip().startswith(
                    "[tool.opsgov"):
                break
    return header + 1 if header is not None else 1


def _check_approvers(path: str, data: dict[str, Any], doc: Document) -> list[Finding]:
    """The approvers list names people a reader can tell apart (opsgov_hooks/identities.py)."""
    findings = []
    for i, who in enumerate(data.get("approvers", ()) or ()):
        for problem in identity_problems(str(who)):
            line, col = doc.position(("approvers", i))
            findings.append(error("C001", f"approvers.{i}: {who!r} {problem}", path, line, col))
    return findings


def _check_patterns(path: str, data: dict[str, Any], doc: Document) -> list[Finding]:
    """Regular expressions that do not compile and globs that select nothing (C002)."""
    findings = []

    def bad(where: tuple[PathKey, ...], message: str) -> None:
        line, col = doc.position(where)
        findings.append(error("C002", message, path, line, col))

    for i, pattern in enumerate(data.get("governed_paths", ())):
        problem = glob_problem(pattern) or negation_problem(data.get("governed_paths", ()), i)
        if problem:
            bad(("governed_paths", i), f"governed_paths.{i}: {pattern!r} {problem}")
    for i, rule in enumerate(data.get("forbidden", ()) or ()):
        for j, pattern in enumerate(rule.get("paths", ())):
            problem = glob_problem(pattern) or negation_problem(rule.get("paths", ()), j)
            if problem:
                bad(("forbidden", i, "paths", j), f"forbidden rule '{rule['id']}': {pattern!r} {problem}")
        for key in ("patterns", "commands"):
            for j, pattern in enumerate(rule.get(key, ())):
                problem = _regex_problem(pattern)
                if problem:
                    bad(("forbidden", i, key, j), f"forbidden rule '{rule['id']}': invalid regular expression: "
                                                 f"{problem}")
    for kind, patterns in (data.get("evidence_patterns") or {}).items():
        for j, pattern in enumerate(patterns):
            problem = _regex_problem(pattern)
            if problem:
                bad(("evidence_patterns", kind, j), f"evidence_patterns.{kind}: invalid regular expression: "
                                                   f"{problem}")
    return findings


def _regex_problem(pattern: str) -> str | None:
    try:
        compile_linear(pattern)
    except re.error as exc:
        return str(exc)
    return None


def _check_classes(path: str, data: dict[str, Any], doc: Document) -> list[Finding]:
    """Per-class settings must name a standard or declared class: a typo would silently do nothing."""
    known = STANDARD_RISK_CLASSES + tuple(data.get("custom_risk_classes", ()))
    findings = []
    for setting in ("signoff", "verification_gates", "require_signed_approvals"):
        for name in data.get(setting) or {}:
            if name not in known:
                line, col = doc.position((setting, name), key=True)
                close = [k for k in known if k.startswith(name[:4])]
                findings.append(error("C001", f"{setting}: unknown risk class {name}", path, line, col,
                                      hint=(f"did you mean {close[0]}? " if close else "")
                                      + "declare custom classes in custom_risk_classes"))
    return findings


def resolve_policy(config_raw: bytes | None, pyproject_raw: bytes | None) -> Policy:
    """The policy from the bytes of a trusted revision; :class:`UsageError` when it is broken.

    A broken policy is an environment problem (exit 2), never a reason to fall back
    to defaults: a gate that silently loses its configuration would pass by default.
    Both ``.opsgov.yaml`` and ``[tool.opsgov]`` present is refused, valid or not:
    which one wins would be a guess.
    """
    policy: Policy | None = None
    findings: list[Finding] = []
    if pyproject_raw is not None:
        table, findings = pyproject_table(PYPROJECT_FILE, pyproject_raw)
        if table is not None and config_raw is not None:
            raise UsageError(f"both {CONFIG_FILE} and [tool.opsgov] in {PYPROJECT_FILE} configure opsgov; "
                             "keep one of them")
        if table is not None:
            policy, findings = parse_pyproject(PYPROJECT_FILE, pyproject_raw)
    if config_raw is not None and not findings:
        policy, findings = parse_config(CONFIG_FILE, config_raw)
    if findings:
        lines = "\n".join(format_line(f) for f in sort_findings(findings))
        raise UsageError(f"the opsgov configuration is broken:\n{lines}\nFix the configuration "
                         f"(schema: schemas/config.schema.json), then run again.")
    return policy or default_policy()


def load_policy(source: Any) -> Policy:
    """The policy as a :class:`~opsgov_hooks.git.sources.Source` holds it (working tree, index or commit)."""
    contents = source.read_many([CONFIG_FILE, PYPROJECT_FILE])
    for name, kind in getattr(source, "special", {}).items():
        if name in (CONFIG_FILE, PYPROJECT_FILE):
            raise UsageError(f"{name} is {kind}, not a file: opsgov does not open it (and never falls back to the "
                             f"defaults); replace it with the configuration file, or remove it")
    return resolve_policy(contents.get(CONFIG_FILE), contents.get(PYPROJECT_FILE))
