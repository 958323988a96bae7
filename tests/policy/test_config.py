"""The policy: defaults = the standard, `.opsgov.yaml`, `[tool.opsgov]`, and broken configurations (exit 2)."""
from __future__ import annotations

import pytest

from conftest import Repo, declaration_text
from opsgov_hooks.policy import config
from opsgov_hooks.policy.config import Policy, default_policy, load_policy, resolve_policy
from opsgov_hooks.findings import UsageError
from opsgov_hooks.git.gitio import Git
from opsgov_hooks.git.sources import CommitSource, WorktreeSource

BROKEN = "opsgov: error: the opsgov configuration is broken:\n"
FIX = "Fix the configuration (schema: schemas/config.schema.json), then run again.\n"

FULL_CONFIG = """\
# yaml-language-server: $schema=https://opsgov.dev/schemas/config.schema.json
version: 1
governed_paths: [ops/**, docs/governance/**, deploy/**]
operations_dir: ops/ops-records
ledger:
  backend: markdown
  path: docs/CHANGES.md
allow_ledger_followup: true
forbidden:
  - id: no-prod-db
    message: no production database changes
    paths: [db/prod/**]
    patterns: ['(?i)drop\\s+table']
signoff:
  SERVICE_RESTART: required
  DB_MIGRATION: recommended
approvers: [alice@example.com, bob]
solo_mode: false
custom_risk_classes: [DB_MIGRATION]
clock_skew_seconds: 60
emergency_approval_hours: 4
require_signed_tags: true
allowed_signers_file: .github/allowed_signers
verification_gates:
  DB_MIGRATION: [status, functional]
evidence_patterns:
  status: ['\\bpg_isready\\b']
service_commands: [systemctl]
max_output_bytes: 4096
templates:
  runbook: docs/RUNBOOK.md
  prompt: ops/prompt.txt
"""


def _run(repo: Repo, run_cli, monkeypatch, files: dict[str, str]) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    for path, content in files.items():
        repo.write(path, content)
    repo.chdir(monkeypatch)
    code, out, err = run_cli("validate")
    assert "Traceback" not in out + err
    return code, out, err


# -- defaults: the standard as written ---------------------------------------------------

def test_no_configuration_is_the_standard() -> None:
    policy = resolve_policy(None, None)
    assert policy == default_policy()
    assert policy.source == "(defaults)"
    assert policy.governed_paths == ("ops/**", "docs/governance/**")
    assert (policy.operations_dir, policy.ledger_backend, policy.ledger_path) == ("ops/operations", "yaml", "ops/ledger")
    assert [r.id for r in policy.forbidden] == ["trading-logic", "trading-streams", "secrets", "grafana-db",
                                                "firewall-network-permissions"]
    assert policy.risk_classes == ("READ_ONLY", "LOW_RISK_CONFIG", "SERVICE_RESTART", "FILESYSTEM_WRITE")
    assert [policy.signoff_level(c) for c in policy.risk_classes] == ["optional", "optional", "recommended",
                                                                        "recommended"]
    assert policy.signoff_level("ANYTHING_CUSTOM") == "required"


def test_default_forbidden_patterns_name_the_trading_streams() -> None:
    import re

    streams = next(r for r in default_policy().forbidden if r.id == "trading-streams")
    pattern = re.compile(streams.patterns[0])
    for stream in config.TRADING_STREAMS:
        assert pattern.search(f"redis-cli XADD {stream} * k v")
    assert not pattern.search("redis-cli XADD quantum:stream:metrics * k v")


def test_pyproject_without_a_table_is_the_defaults() -> None:
    assert resolve_policy(None, b"[project]\nname = 'x'\n") == default_policy()


@pytest.mark.parametrize("content", [b"", b"\n\n", b"# all defaults\n", b"---\n"])
def test_an_empty_configuration_sets_nothing(content: bytes) -> None:
    policy = resolve_policy(content, None)
    assert policy == Policy(source=".opsgov.yaml", forbidden=config.default_forbidden())


# -- .opsgov.yaml ---------------------------------------------------------------------------

def test_every_key_of_the_configuration_reaches_the_policy() -> None:
    p = resolve_policy(FULL_CONFIG.encode(), None)
    assert p.source == ".opsgov.yaml"
    assert p.governed_paths == ("ops/**", "docs/governance/**", "deploy/**")
    assert (p.operations_dir, p.ledger_backend, p.ledger_path) == ("ops/ops-records", "markdown", "docs/CHANGES.md")
    assert p.allow_ledger_followup is True
    assert p.forbidden == (config.ForbiddenRule("no-prod-db", "no production database changes", ("db/prod/**",),
                                                (r"(?i)drop\s+table",), (r"(?i)drop\s+table",), False),)
    assert p.signoff == {"READ_ONLY": "optional", "LOW_RISK_CONFIG": "optional", "SERVICE_RESTART": "required",
                         "FILESYSTEM_WRITE": "recommended", "DB_MIGRATION": "recommended"}
    assert p.approvers == ("alice@example.com", "bob")
    assert (p.solo_mode, p.custom_risk_classes) == (False, ("DB_MIGRATION",))
    assert p.risk_classes[-1] == "DB_MIGRATION"
    assert (p.clock_skew_seconds, p.emergency_approval_hours) == (60, 4)
    assert (p.require_signed_tags, p.allowed_signers_file) == (True, ".github/allowed_signers")
    assert p.verification_gates["DB_MIGRATION"] == ["status", "functional"]
    assert p.verification_gates["SERVICE_RESTART"] == ["status", "logs", "functional"]
    assert p.evidence_patterns["status"] == [r"\bpg_isready\b"]
    assert p.evidence_patterns["logs"] == config.DEFAULT_EVIDENCE["logs"]
    assert (p.service_commands, p.max_output_bytes) == (("systemctl",), 4096)
    assert (p.runbook_template, p.prompt_template) == ("docs/RUNBOOK.md", "ops/prompt.txt")


def test_custom_classes_need_a_named_approver_by_default() -> None:
    p = resolve_policy(b"custom_risk_classes: [DB_MIGRATION, KERNEL_UPGRADE]\n", None)
    assert p.signoff_level("DB_MIGRATION") == "required" and p.signoff_level("KERNEL_UPGRADE") == "required"


def test_ledger_path_defaults_per_backend() -> None:
    assert resolve_policy(b"ledger: {backend: markdown}\n", None).ledger_path == "docs/OPS_CHANGELOG.md"
    assert resolve_policy(b"ledger: {backend: tags}\n", None).ledger_path == ""
    assert resolve_policy(b"ledger: {path: records/ledger/}\n", None).ledger_path == "records/ledger"


def test_a_valid_configuration_validates_clean(repo: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    files = {".opsgov.yaml": "custom_risk_classes: [DB_MIGRATION]\noperations_dir: records\n",
             "records/OPS-2026-01-27-001.md": declaration_text(RISK_CLASS="DB_MIGRATION")}
    assert _run(repo, run_cli, monkeypatch, files) == (0, "", "")


@pytest.mark.parametrize(("content", "line"), [
    ("governed_paths: ops/**\n", ".opsgov.yaml:1:17: C001 governed_paths: 'ops/**' is not of type array (fix: Globs "
     "(gitignore syntax) of the paths whose changes need a declared, recorded operation.)"),
    ("ledger: {backend: sql}\n", ".opsgov.yaml:1:19: C001 ledger.backend: 'sql' is not one of yaml, markdown, tags "
     "(fix: yaml: <path>/YYYY-MM.yaml (option B, the default); markdown: YAML blocks in <path> (option A); tags: "
     "annotated ops-* tags (option C).)"),
    ("gouverned_paths: [x]\n", ".opsgov.yaml:1:1: C001 unknown field 'gouverned_paths' "
     "(fix: did you mean 'governed_paths'?)"),
    ("operations_dir: /etc\n", ".opsgov.yaml:1:17: C001 operations_dir: '/etc' is not in the expected form "
     "(fix: A repository-relative path: no leading '/', no '..'.)"),
    ("ledger: {path: ../elsewhere}\n", ".opsgov.yaml:1:16: C001 ledger.path: '../elsewhere' is not in the expected "
     "form (fix: A repository-relative path: no leading '/', no '..'.)"),
    ("custom_risk_classes: [READ_ONLY]\n", ".opsgov.yaml:1:23: C001 custom_risk_classes.0: 'READ_ONLY' is not "
     "allowed here (fix: An upper-case class name, other than the standard four (READ_ONLY, LOW_RISK_CONFIG, "
     "SERVICE_RESTART, FILESYSTEM_WRITE).)"),
    ("signoff:\n  SERVICE_RESTRAT: required\n", ".opsgov.yaml:2:3: C001 signoff: unknown risk class SERVICE_RESTRAT "
     "(fix: did you mean SERVICE_RESTART? declare custom classes in custom_risk_classes)"),
    ("signoff: {SERVICE_RESTART: mandatory}\n", ".opsgov.yaml:1:28: C001 signoff.SERVICE_RESTART: 'mandatory' is not "
     "one of optional, recommended, required"),
    ("verification_gates: {DB_MIGRATION: [status]}\n", ".opsgov.yaml:1:22: C001 verification_gates: unknown risk "
     "class DB_MIGRATION (fix: declare custom classes in custom_risk_classes)"),
    ("- governed_paths\n", ".opsgov.yaml:1:1: C001 the configuration must be one YAML mapping of settings "
     "(fix: see docs/records.md#configuration)"),
    ("solo_mode: yes\n", ".opsgov.yaml:1:12: C001 solo_mode: 'yes' is not of type boolean (fix: A one-person team: "
     "SELF approval is accepted for every class. Must be named explicitly.)"),
    ("forbidden:\n  - id: x\n    message: y\n    patterns: ['(unclosed']\n", ".opsgov.yaml:4:16: C002 forbidden "
     "rule 'x': invalid regular expression: missing ): (unclosed (opsgov runs regular expressions with RE2, which has no backreferences or lookaround, so that no input can make one slow)"),
    ("forbidden:\n  - id: x\n    message: y\n    paths: ['#secrets']\n", ".opsgov.yaml:4:13: C002 forbidden rule "
     "'x': '#secrets' starts with '#', which gitignore syntax reads as a comment"),
    ("governed_paths: [ops/**, 'deploy/[']\n", ".opsgov.yaml:1:26: C002 governed_paths.1: 'deploy/[' matches no "
     "path (blank, or an unclosed '[')"),
    ("evidence_patterns: {status: ['[a-']}\n", ".opsgov.yaml:1:30: C002 evidence_patterns.status: invalid regular "
     "expression: missing ]: [a- (opsgov runs regular expressions with RE2, which has no backreferences or lookaround, so that no input can make one slow)"),
    ("approvers: &a [bob]\n", ".opsgov.yaml:1:12: F007 YAML anchor '&a' is not allowed in records (fix: write the "
     "value out in full)"),
    ("a: 1\na: 2\n", ".opsgov.yaml:2:1: F006 duplicate key 'a' (fix: keep one of the two; YAML would silently "
     "drop the first)"),
])
def test_broken_configuration_is_exit_2_with_the_finding(repo: Repo, run_cli, monkeypatch, content: str,  # type: ignore[no-untyped-def]
                                                         line: str) -> None:
    code, out, err = _run(repo, run_cli, monkeypatch, {".opsgov.yaml": content})
    assert (code, out, err) == (2, "", BROKEN + line + "\n" + FIX)


def test_forbidden_rule_needs_something_to_match(repo: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    code, out, err = _run(repo, run_cli, monkeypatch,
                          {".opsgov.yaml": "forbidden:\n  - id: x\n    message: nothing to match\n"})
    assert (code, out) == (2, "")
    assert err == BROKEN + ".opsgov.yaml:2:5: C001 forbidden.0: needs at least one of paths, patterns, secrets\n" + FIX


def test_an_empty_forbidden_list_replaces_the_defaults() -> None:
    assert resolve_policy(b"forbidden: []\n", None).forbidden == ()


# -- [tool.opsgov] in pyproject.toml ------------------------------------------------------

PYPROJECT = """\
[project]
name = "infra"

[tool.opsgov]
governed_paths = ["ops/**", "deploy/**"]
custom_risk_classes = ["DB_MIGRATION"]

[tool.opsgov.ledger]
backend = "markdown"

[tool.other]
x = 1
"""


def test_pyproject_table_is_the_configuration() -> None:
    policy = resolve_policy(None, PYPROJECT.encode())
    assert policy.source == "pyproject.toml [tool.opsgov]"
    assert policy.governed_paths == ("ops/**", "deploy/**")
    assert (policy.ledger_backend, policy.ledger_path) == ("markdown", "docs/OPS_CHANGELOG.md")
    assert policy.custom_risk_classes == ("DB_MIGRATION",)


def test_pyproject_errors_point_at_their_keys(repo: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    broken = PYPROJECT.replace('"markdown"', '"sql"').replace('["DB_MIGRATION"]', '"DB_MIGRATION"')
    code, out, err = _run(repo, run_cli, monkeypatch, {"pyproject.toml": broken})
    assert (code, out) == (2, "")
    assert err == (BROKEN
                   + "pyproject.toml:6:1: C001 [tool.opsgov]: custom_risk_classes: 'DB_MIGRATION' is not of type array "
                     "(fix: Extra high-risk classes beyond the standard's four (P5 'custom high-risk ops'); their "
                     "sign-off defaults to required.)\n"
                   + "pyproject.toml:8:1: C001 [tool.opsgov]: ledger.backend: 'sql' is not one of yaml, markdown, "
                     "tags (fix: yaml: <path>/YYYY-MM.yaml (option B, the default); markdown: YAML blocks in <path> "
                     "(option A); tags: annotated ops-* tags (option C).)\n" + FIX)


def test_pyproject_bad_regex_and_unknown_key(repo: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    content = ('[tool.opsgov]\nsolo = true\n\n[[tool.opsgov.forbidden]]\nid = "x"\nmessage = "y"\n'
               'patterns = ["(?P<"]\n')
    code, out, err = _run(repo, run_cli, monkeypatch, {"pyproject.toml": content})
    assert (code, out) == (2, "")
    assert err == (BROKEN + "pyproject.toml:2:1: C001 [tool.opsgov]: unknown field 'solo' "
                            "(fix: did you mean 'solo_mode'?)\n" + FIX)
    code, out, err = _run(repo, run_cli, monkeypatch, {"pyproject.toml": content.replace("solo =", "solo_mode =")})
    assert (code, out) == (2, "")
    assert err == (BROKEN + "pyproject.toml:4:1: C002 forbidden rule 'x': invalid regular expression: invalid perl "
                            "operator: (?P (opsgov runs regular expressions with RE2, which has no backreferences or lookaround, so that no input can make one slow)\n" + FIX)


def test_unreadable_pyproject_is_exit_2(repo: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    code, out, err = _run(repo, run_cli, monkeypatch, {"pyproject.toml": "[project\nname = 1\n"})
    assert (code, out, err) == (2, "", BROKEN + "pyproject.toml:1:9: C001 cannot read pyproject.toml: Expected ']' "
                                            "at the end of a table declaration\n" + FIX)


def test_both_configurations_present_is_exit_2(repo: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    files = {".opsgov.yaml": "solo_mode: true\n", "pyproject.toml": PYPROJECT}
    code, out, err = _run(repo, run_cli, monkeypatch, files)
    assert (code, out, err) == (2, "", "opsgov: error: both .opsgov.yaml and [tool.opsgov] in pyproject.toml "
                                       "configure opsgov; keep one of them\n")


def test_both_present_is_refused_even_when_one_is_broken() -> None:
    with pytest.raises(UsageError, match="both .opsgov.yaml and"):
        resolve_policy(b"solo_mode: true\n", b"[tool.opsgov]\nsolo_mode = 'maybe'\n")
    with pytest.raises(UsageError, match="both .opsgov.yaml and"):
        resolve_policy(b"- not a mapping\n", PYPROJECT.encode())


def test_opsgov_yaml_with_an_unrelated_pyproject() -> None:
    policy = resolve_policy(b"solo_mode: true\n", b"[project]\nname = 'x'\n[tool.ruff]\nline-length = 100\n")
    assert policy.solo_mode is True and policy.source == ".opsgov.yaml"


# -- where the configuration is read from -------------------------------------------------

def test_policy_from_a_commit_ignores_the_working_tree(repo: Repo) -> None:
    repo.write(".opsgov.yaml", "governed_paths: [ops/**]\n")
    base = repo.commit("config")
    repo.write(".opsgov.yaml", "governed_paths: [nothing/**]\n")
    with Git(str(repo.path)) as git:
        assert load_policy(CommitSource(git, base)).governed_paths == ("ops/**",)
    assert load_policy(WorktreeSource(str(repo.path))).governed_paths == ("nothing/**",)


def test_the_trusted_configuration_is_read_without_listing_the_tree(repo: Repo) -> None:
    """read_few names each file exactly: a directory or a missing file is 'no configuration'."""
    repo.write(".opsgov.yaml", "governed_paths: [deploy/**]\n")
    repo.write("pyproject.toml/nested.txt", "a directory, not a file\n")
    head = repo.commit("config")
    with Git(str(repo.path)) as git:
        source = CommitSource(git, head)
        contents = source.read_few([".opsgov.yaml", "pyproject.toml", "missing.yaml", "./.opsgov.yaml"])
        assert contents == {".opsgov.yaml": b"governed_paths: [deploy/**]\n", "pyproject.toml": None,
                            "missing.yaml": None, "./.opsgov.yaml": None}
        assert source.read_few([".opsgov.yaml"]) == source.read_many([".opsgov.yaml"])
        assert CommitSource(git, None).read_few([".opsgov.yaml"]) == {".opsgov.yaml": None}
