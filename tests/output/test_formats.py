"""--format sarif, gitlab and junit (and the findings JSON): each checked against its schema
on a corpus of gate scenarios, run twice, with fingerprints that stay the same from run to run.

Every other test's reports are checked against the same schemas by tests/conftest_formats.py;
this module adds what needs two runs, the commit field, and what each format must say.
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.register_assert_rewrite("conftest_gate")

import conftest_formats  # noqa: E402
from conftest import Repo, entry_text  # noqa: E402
from conftest_gate import LEDGER, OPS1, OPS2, PROM, Check, add_entry, close, declare, operation  # noqa: E402
from format_schemas import VALIDATORS, fingerprints  # noqa: E402

from opsgov_hooks.codes import CODES  # noqa: E402

pytest_plugins = ["conftest_gate"]

ROOT = Path(__file__).resolve().parents[2]
FORMATS = ("json", "sarif", "gitlab", "junit")
Scenario = Callable[[Repo], list[str]]


# -- the corpus: one scenario per kind of finding the gate makes, and the modes ------------------

def clean_range(repo: Repo) -> list[str]:
    base = repo.head()
    operation(repo)
    repo.write(PROM, "x: 1\n")
    repo.commit("operation and its change")
    return ["check", "--range", f"{base}..HEAD"]


def unassociated_and_late(repo: Repo) -> list[str]:
    base = repo.head()
    repo.write(PROM, "x: 1\n")
    repo.commit("change before any declaration")                              # G001
    declare(repo, RISK_CLASS="RISKY")
    repo.commit("declared invalid")                                          # G002, D004
    return ["check", "--range", f"{base}..HEAD"]


def scope_and_not_allowed(repo: Repo) -> list[str]:
    base = repo.head()
    operation(repo, allowed=["ops/monitoring/**"])
    repo.write("ops/other/x.conf", "a\n")                                    # G004
    repo.write("ops/iptables/rules.v4", "*filter\n")                         # G006
    repo.write("ops/monitoring/flush.sh", "#!/bin/sh\nredis-cli XADD quantum:stream:trade.intent '*' a 1\n"
               "redis-cli XADD quantum:stream:trade.intent '*' b 2\n")       # G007 twice, same message
    repo.write("ops/monitoring/exporter.env.yml", "aws_access_key_id: AKIAIOSFODNN7EXAMPLE\n")  # G008
    repo.commit("everything wrong at once", )
    repo.git("commit", "-q", "--allow-empty", "-m", "trailer\n\nOps-Id: OPS-2026-01-27-999")  # G009
    return ["check", "--range", f"{base}..HEAD"]


def closed_operation(repo: Repo) -> list[str]:
    operation(repo)
    repo.write(PROM, "x: 1\n")
    repo.commit("operation")
    close(repo)
    base = repo.head()
    repo.write(PROM, "x: 2\n")
    repo.commit("after the tag")                                             # G005
    return ["check", "--range", f"{base}..HEAD"]


def staged_change(repo: Repo) -> list[str]:
    repo.write(PROM, "x: 1\n")
    repo.stage()
    return ["check", "--staged"]


def whole_repository(repo: Repo) -> list[str]:
    operation(repo)
    repo.commit("operation")
    repo.write("ops/unowned/file.conf", "a\n")
    repo.write(LEDGER, repo.read(LEDGER) + entry_text(OPS2, outcome="DONE"))
    repo.commit("an uncovered file and a broken entry")
    return ["check", "--all"]


def broken_records(repo: Repo) -> list[str]:
    declare(repo, OPS1, RISK_CLASS="RISKY", UNKNOWN_KEY="x")
    repo.write(LEDGER, entry_text(OPS1, outcome="DONE"))
    return ["validate"]


def audit_report(repo: Repo) -> list[str]:
    operation(repo)
    repo.commit("operation, never tagged")                                   # A003
    repo.write("ops/other/x.conf", "a\n")
    repo.commit("untraced governed commit")                                  # A001
    return ["report", "--until", "2026-12-31"]


SCENARIOS: dict[str, Scenario] = {f.__name__: f for f in (
    clean_range, unassociated_and_late, scope_and_not_allowed, closed_operation, staged_change, whole_repository,
    broken_records, audit_report)}


def _run(run_cli: Callable[..., tuple[int, str, str]], repo: Repo, args: list[str], fmt: str) -> tuple[int, str]:
    command, *rest = args
    code, out, err = run_cli(command, "-C", str(repo.path), *rest, "--format", fmt)
    assert code in (0, 1), err
    return code, out


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_format_is_valid_and_stable_across_two_runs(name: str, gate_repo: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    args = SCENARIOS[name](gate_repo)
    formats = FORMATS if args[0] != "report" else ("sarif", "gitlab", "junit")
    first = {fmt: _run(run_cli, gate_repo, args, fmt) for fmt in formats}
    second = {fmt: _run(run_cli, gate_repo, args, fmt) for fmt in formats}
    codes = {code for code, _out in first.values()}
    assert len(codes) == 1, f"the formats disagree on the exit code: {first}"
    for fmt in formats:
        VALIDATORS[fmt](first[fmt][1])
        VALIDATORS[fmt](second[fmt][1])
    for fmt in ("sarif", "gitlab"):
        prints = fingerprints(fmt, first[fmt][1])
        assert prints == fingerprints(fmt, second[fmt][1])
        assert len(set(prints)) == len(prints)
    if name != "clean_range":
        assert codes == {1} and fingerprints("sarif", first["sarif"][1]), "the scenario should find something"
    else:
        assert codes == {0} and fingerprints("gitlab", first["gitlab"][1]) == []


def test_the_whole_suite_is_checked_in_every_format(gate_repo: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    before = conftest_formats.RENDERED[0]
    unassociated_and_late(gate_repo)
    run_cli("check", "-C", str(gate_repo.path), "--range", "HEAD~2..HEAD")
    assert conftest_formats.RENDERED[0] == before + 1


# -- the commit field ------------------------------------------------------------------------------

def test_range_findings_carry_their_commit_and_the_text_is_unchanged(gate_repo: Repo, check: Check) -> None:
    base = gate_repo.head()
    gate_repo.write(PROM, "x: 1\n")
    first = gate_repo.commit("change before any declaration")
    declare(gate_repo, RISK_CLASS="RISKY")
    second = gate_repo.commit("declared (invalid), never recorded")
    code, out, _ = check(gate_repo, "--range", f"{base}..HEAD", "--format", "json")
    findings = {f["code"]: f for f in json.loads(out)["findings"]}
    assert code == 1
    assert findings["G001"]["commit"] == first
    assert findings["G001"]["message"] == f"{PROM} is governed but the change belongs to no operation (commit {first[:12]})"
    assert findings["G002"]["commit"] == second
    assert "G003" not in findings  # a declaration alone needs no ledger entry yet
    assert findings["D004"]["commit"] is None  # about the records the range leaves behind, not one commit
    _code, text, _ = check(gate_repo, "--range", f"{base}..HEAD")
    assert text.splitlines()[0] == (
        f"{PROM}:1:1: G001 {PROM} is governed but the change belongs to no operation (commit {first[:12]}) "
        "(fix: declare an operation whose ALLOWED_PATHS cover it ('opsgov new'), or name an open one in "
        "an 'Ops-Id: OPS-...' commit trailer)")


def test_content_findings_of_a_range_carry_their_commit(gate_repo: Repo, check: Check) -> None:
    base = gate_repo.head()
    operation(gate_repo)
    gate_repo.write("ops/monitoring/flush.sh", "redis-cli XADD quantum:stream:trade.intent '*' a 1\n")
    sha = gate_repo.commit("a forbidden write")
    _code, out, _ = check(gate_repo, "--range", f"{base}..HEAD", "--format", "json")
    [finding] = json.loads(out)["findings"]
    assert (finding["code"], finding["commit"]) == ("G007", sha)


def test_staged_findings_have_no_commit(gate_repo: Repo, check: Check) -> None:
    staged_change(gate_repo)
    _code, out, _ = check(gate_repo, "--format", "json")
    assert [f["commit"] for f in json.loads(out)["findings"]] == [None]


def test_report_untraced_commit_carries_it(gate_repo: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    gate_repo.write(PROM, "x: 1\n")
    sha = gate_repo.commit("untraced")
    code, out, _ = run_cli("report", "-C", str(gate_repo.path), "--format", "json")
    assert code == 1
    assert [(f["code"], f["commit"]) for f in json.loads(out)["findings"]] == [("A001", sha)]


# -- what each format says -------------------------------------------------------------------------

def test_sarif_rules_results_and_help(gate_repo: Repo, check: Check, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSGOV_DOCS_URL", "https://example.org/opsgov/blob/v0.1.0/docs/")
    args = scope_and_not_allowed(gate_repo)
    _code, out, _ = check(gate_repo, *args[1:], "--format", "sarif")
    run = VALIDATORS["sarif"](out)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(CODES)
    anchors = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    for rule in rules:
        code = rule["id"]
        assert rule["shortDescription"]["text"] == CODES[code].title
        assert CODES[code].explanation in rule["help"]["text"]
        assert rule["helpUri"] == f"https://example.org/opsgov/blob/v0.1.0/docs/rules.md#{code.lower()}"
        assert f"\n### {code}\n" in anchors  # GitHub's anchor of that heading is the lower-case code
    by_code = {r["ruleId"]: r for r in run["results"]}
    assert set(by_code) == {"G004", "G006", "G007", "G008", "G009"}
    g007 = [r for r in run["results"] if r["ruleId"] == "G007"]
    assert [r["locations"][0]["physicalLocation"]["region"] for r in g007] == [
        {"startLine": 2, "startColumn": 11}, {"startLine": 3, "startColumn": 11}]
    assert g007[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "ops/monitoring/flush.sh"
    assert rules[g007[0]["ruleIndex"]]["id"] == "G007"
    assert g007[0]["level"] == "error" and g007[0]["properties"]["commit"] == gate_repo.git(
        "rev-parse", "HEAD~1").strip()


def test_sarif_without_a_docs_url_has_no_help_uri(gate_repo: Repo, check: Check,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPSGOV_DOCS_URL", raising=False)
    staged_change(gate_repo)
    _code, out, _ = check(gate_repo, "--format", "sarif")
    rules = VALIDATORS["sarif"](out)["runs"][0]["tool"]["driver"]["rules"]
    assert all("helpUri" not in r and r["help"]["text"] for r in rules)


def test_sarif_paths_are_uri_references(gate_repo: Repo, check: Check) -> None:
    gate_repo.write("ops/monitoring/a b:c#d.yml", "x: 1\n")
    gate_repo.stage()
    _code, out, _ = check(gate_repo, "--format", "sarif")
    [result] = VALIDATORS["sarif"](out)["runs"][0]["results"]
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "ops/monitoring/a%20b%3Ac%23d.yml"


def test_fingerprints_survive_a_rebase(gate_repo: Repo, check: Check) -> None:
    """Code scanning and GitLab track a finding by its fingerprint: a reworded (rebased) commit keeps it."""
    base = gate_repo.head()
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.commit("first wording")
    _code, before, _ = check(gate_repo, "--range", f"{base}..HEAD", "--format", "gitlab")
    gate_repo.git("commit", "-q", "--amend", "-m", "second wording")
    _code, after, _ = check(gate_repo, "--range", f"{base}..HEAD", "--format", "gitlab")
    assert json.loads(before)[0]["description"] != json.loads(after)[0]["description"]  # the commit id changed
    assert fingerprints("gitlab", before) == fingerprints("gitlab", after)


def test_gitlab_issue_fields(gate_repo: Repo, check: Check) -> None:
    gate_repo.write(LEDGER, entry_text(OPS1, outcome="DONE"))
    gate_repo.commit("broken entry")
    code, out, _ = check(gate_repo, "--all", "--format", "gitlab")
    issues = VALIDATORS["gitlab"](out)
    l002 = next(i for i in issues if i["check_name"] == "L002")
    assert code == 1
    assert l002["severity"] == "major"
    assert l002["location"] == {"path": LEDGER, "lines": {"begin": 12}}
    assert l002["description"].startswith("L002 outcome: 'DONE' is not one of SUCCESS, ROLLBACK, PARTIAL")


def test_gitlab_warning_is_minor(gate_repo: Repo, check: Check) -> None:
    gate_repo.write(".opsgov.yaml", "allow_ledger_followup: true\n")
    gate_repo.commit("policy")
    declare(gate_repo)
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.stage()
    code, out, _ = check(gate_repo, "--format", "gitlab")
    assert code == 0
    assert [(i["check_name"], i["severity"]) for i in VALIDATORS["gitlab"](out)] == [("G003", "minor")]


def test_junit_one_case_per_judged_commit(gate_repo: Repo, check: Check) -> None:
    base = gate_repo.head()
    gate_repo.write(PROM, "x: 1\n")
    bad = gate_repo.commit("unassociated")
    gate_repo.write("README.md", "# not governed\n")
    gate_repo.commit("not the gate's business")
    operation(gate_repo)
    gate_repo.write(PROM, "x: 2\n")
    good = gate_repo.commit("a valid operation")
    code, out, _ = check(gate_repo, "--range", f"{base}..HEAD", "--format", "junit")
    root = VALIDATORS["junit"](out)
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert code == 1
    assert set(cases) == {f"commit {bad[:12]}", f"commit {good[:12]}"}
    [failure] = cases[f"commit {bad[:12]}"].findall("failure")
    assert failure.get("type") == "G001" and f"{PROM}:1:1: G001 " in (failure.text or "")
    assert cases[f"commit {good[:12]}"].findall("failure") == []
    suite = root.find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("2", "1")


def test_junit_validate_one_case_per_record(gate_repo: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    declare(gate_repo, OPS1)
    declare(gate_repo, OPS2, RISK_CLASS="RISKY")
    add_entry(gate_repo, OPS1)
    code, out, _ = run_cli("validate", "-C", str(gate_repo.path), "--format", "junit")
    root = VALIDATORS["junit"](out)
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert code == 1
    assert set(cases) == {f"ops/operations/{OPS1}.md", f"ops/operations/{OPS2}.md", LEDGER}
    assert [c for c, case in cases.items() if case.findall("failure")] == [f"ops/operations/{OPS2}.md"]


def test_junit_warnings_do_not_fail_and_control_characters_stay_xml(gate_repo: Repo) -> None:
    from opsgov_hooks.findings import error, warning
    from opsgov_hooks.output import get_reporter

    findings = [warning("L101", "self-approval", LEDGER, 3), error("F005", "bad \x01 byte\x1b[31m", "ops/x.yaml", 2)]
    out = get_reporter("junit", command="opsgov validate")(findings, [LEDGER])
    root = VALIDATORS["junit"](out)
    cases = {c.get("name"): c for c in root.iter("testcase")}
    assert cases[LEDGER].findall("failure") == [] and "L101" in (cases[LEDGER].findtext("system-out") or "")
    assert "bad \\x01 byte\\x1b[31m" in (cases["ops/x.yaml"].findtext("failure") or "")
    assert ET.fromstring(out).get("failures") == "1"


@pytest.mark.parametrize("fmt", ["sarif", "gitlab", "junit"])
def test_quiet_keeps_errors_only(gate_repo: Repo, fmt: str) -> None:
    from opsgov_hooks.findings import error, warning
    from opsgov_hooks.output import get_reporter

    findings = [warning("L101", "self-approval", LEDGER, 3), error("F005", "bad", "ops/x.yaml", 2)]
    out = get_reporter(fmt, quiet=True)(findings)
    VALIDATORS[fmt](out)
    if fmt == "sarif":  # the rules list every code; the results are what was found
        out = json.dumps(json.loads(out)["runs"][0]["results"])
    assert "F005" in out and "L101" not in out
