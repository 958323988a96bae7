from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from conftest import Repo, declaration_text
from conftest_report import HOSTILE_NAME, ODD_PATH, AuditRepo, audit_history, audit_repo, commit_at  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.timezone.utc)


def report(path: Path, *args: str, fmt: str = "json") -> tuple[int, str, str]:
    """Run the report in-process at a fixed 'now' (returns exit code, stdout, stderr)."""
    import io

    from opsgov_hooks.commands.guard import run_guarded
    from opsgov_hooks.audit.run import run_report

    options = dict(zip(args[::2], args[1::2]))
    out, err = io.StringIO(), io.StringIO()
    code = run_guarded(lambda: run_report(str(path), options.get("--since"), options.get("--until"), fmt, None,
                                          quiet=False, out=out, err=err, now=NOW))
    return code, out.getvalue(), err.getvalue()


def as_json(path: Path, *args: str) -> dict[str, Any]:
    code, out, err = report(path, *args)
    data: dict[str, Any] = json.loads(out)
    assert code == (0 if data["ok"] else 1)
    assert err == ""
    return data


def entry_line(path: Path, operation_id: str) -> int:
    """Where the records say an entry starts (the loader's notion, not a number copied here)."""
    from opsgov_hooks.policy.config import default_policy
    from opsgov_hooks.speed.records_cache import load_records
    from opsgov_hooks.git.sources import WorktreeSource

    return load_records(WorktreeSource(str(path)), default_policy()).entries_by_id()[operation_id].line


def schema() -> dict[str, Any]:
    with open(ROOT / "schemas" / "report.schema.json", encoding="utf-8") as f:
        loaded: dict[str, Any] = json.load(f)
    return loaded


# -- JSON: the documented shape, and what it says -------------------------------------

def test_json_report_matches_its_schema(audit_repo: AuditRepo) -> None:
    jsonschema.Draft202012Validator.check_schema(schema())
    data = as_json(audit_repo.path)
    errors = [e.message for e in jsonschema.Draft202012Validator(schema()).iter_errors(data)]
    assert errors == []


def test_every_governed_commit_is_traced_or_reported(audit_repo: AuditRepo) -> None:
    data = as_json(audit_repo.path)
    s = audit_repo.shas
    traced = [(c["sha"], c["operation_ids"], c["method"]) for c in data["commits"]]
    assert traced == [
        (s["declare-10"], ["OPS-2026-01-10-001"], "record"),
        (s["change-10"], ["OPS-2026-01-10-001"], "scope"),
        (s["ledger-10"], ["OPS-2026-01-10-001"], "record"),
        (s["declare-12"], ["OPS-2026-01-12-001"], "record"),
        (s["trailer-12"], ["OPS-2026-01-12-001"], "trailer"),
        (s["ledger-12"], ["OPS-2026-01-12-001"], "record"),
        (s["declare-15"], ["OPS-2026-01-15-001"], "record"),
        (s["ledger-15"], ["OPS-2026-01-15-001"], "record"),
        (s["untraced"], [], None),          # its operation was closed by its tag the day before
        (s["declare-02"], ["OPS-2026-02-01-001"], "record"),
    ]
    assert data["commits"][1]["governed_paths"] == [ODD_PATH, "ops/monitoring/prometheus.yml"]
    assert (data["summary"]["governed_commits"], data["summary"]["traced_commits"],
            data["summary"]["untraced_commits"]) == (10, 9, 1)
    untraced = [f for f in data["findings"] if f["code"] == "A001"]
    assert [(f["path"], f["severity"], f["requirements"]) for f in untraced] == [
        ("ops/monitoring/prometheus.yml", "error", ["SOC2-CC8.1", "ISO27001-A.8.32", "NIST-CM-3"])]
    assert untraced[0]["message"] == (
        f"commit {s['untraced'][:12]} of 2026-01-20T09:00:00Z by Test Operator <operator@example.com> changes "
        "governed paths (ops/monitoring/prometheus.yml) with no operation")


def test_operations_carry_approval_outcome_tag_and_rollback_evidence(audit_repo: AuditRepo) -> None:
    ops = {o["operation_id"]: o for o in as_json(audit_repo.path)["operations"]}
    assert list(ops) == ["OPS-2026-01-10-001", "OPS-2026-01-12-001", "OPS-2026-01-15-001", "OPS-2026-02-01-001"]
    first = ops["OPS-2026-01-10-001"]
    assert {k: first[k] for k in ("risk_class", "requested_by", "approved_by", "declared_at", "approval_timestamp",
                                  "execution_timestamp", "outcome", "emergency", "ledger_entry")} == {
        "risk_class": "LOW_RISK_CONFIG", "requested_by": "alice@example.com", "approved_by": "bob@example.com",
        "declared_at": "2026-01-10T08:00:00Z", "approval_timestamp": "2026-01-10T08:30:00Z",
        "execution_timestamp": "2026-01-10T09:00:00Z", "outcome": "SUCCESS", "emergency": False,
        "ledger_entry": f"ops/ledger/2026-01.yaml:{entry_line(audit_repo.path, 'OPS-2026-01-10-001')}"}
    assert first["tag"] == {"name": "ops-2026-01-10-001", "status": "unsigned", "created": "2026-01-10T11:00:00Z",
                            "target": audit_repo.shas["ledger-10"]}
    rolled = ops["OPS-2026-01-12-001"]
    assert (rolled["outcome"], rolled["tag"]["status"], rolled["rollback"]) == (
        "ROLLBACK", "lightweight", {"ref": "command: git revert HEAD", "timestamp": "2026-01-12T11:30:00Z",
                                    "evidence": "systemctl is-active node-exporter: active"})
    assert rolled["commits"] == [audit_repo.shas[k] for k in ("declare-12", "trailer-12", "ledger-12")]
    assert (ops["OPS-2026-01-15-001"]["emergency"], ops["OPS-2026-01-15-001"]["tag"]["status"]) == (True, "missing")
    assert (ops["OPS-2026-02-01-001"]["outcome"], ops["OPS-2026-02-01-001"]["operation_name"]) == ("OPEN", HOSTILE_NAME)


def test_overdue_emergency_approval_and_tag_gaps_are_findings(audit_repo: AuditRepo) -> None:
    data = as_json(audit_repo.path)
    line = entry_line(audit_repo.path, "OPS-2026-01-15-001")
    assert data["overdue_emergency_approvals"] == [{
        "operation_id": "OPS-2026-01-15-001", "execution_timestamp": "2026-01-15T02:00:00Z",
        "approval_timestamp": "2026-01-17T02:00:00Z", "deadline": "2026-01-16T02:00:00Z", "hours_late": 24.0,
        "approved_by": "dave@example.com", "ledger_entry": f"ops/ledger/2026-01.yaml:{line}"}]
    ours = [(f["code"], f["severity"], f["path"], f["line"]) for f in data["findings"]
            if f["code"].startswith("A") or f["area"] == "emergency"]
    # The overdue approval is one finding: A002, or the ledger's own emergency-window rule when it has one.
    emergency = [o for o in ours if o[0] != "A002" and o[0][0] != "A"]
    assert sorted(ours) == sorted([
        ("A001", "error", "ops/monitoring/prometheus.yml", 1),
        *(emergency or [("A002", "error", "ops/ledger/2026-01.yaml", line)]),
        ("A003", "warning", "ops/ledger/2026-01.yaml", line),
        ("A004", "error", "refs/tags/ops-2026-01-12-001", 1),
    ])
    assert [(code, severity) for code, severity, *_ in emergency] in ([], [("L107", "error")])
    assert data["ok"] is False


def test_findings_are_grouped_by_requirement(audit_repo: AuditRepo) -> None:
    data = as_json(audit_repo.path)
    codes = [f["code"] for f in data["findings"]]
    for requirement in data["requirements"]:
        indexes = {i for area in requirement["areas"] for i in area["findings"]}
        assert requirement["finding_count"] == len(indexes)
        for area in requirement["areas"]:
            assert all(data["findings"][i]["area"] == area["area"] for i in area["findings"])
    nist = next(r for r in data["requirements"] if r["id"] == "NIST-CM-3")
    trace_area = next(a for a in nist["areas"] if a["area"] == "traceability")
    assert [codes[i] for i in trace_area["findings"]] == ["A001"]
    assert trace_area["aspect"] == "d. implement approved changes; f. monitor and review"
    assert [r["control"] for r in data["requirements"]] == ["CC8.1", "A.8.32", "CM-3"]


def test_period_selects_operations_and_commits(audit_repo: AuditRepo) -> None:
    data = as_json(audit_repo.path, "--since", "2026-01-14", "--until", "2026-01-31")
    assert data["period"] == {"since": "2026-01-14T00:00:00Z", "until": "2026-01-31T23:59:59Z"}
    assert [o["operation_id"] for o in data["operations"]] == ["OPS-2026-01-15-001"]
    assert [c["sha"] for c in data["commits"]] == [audit_repo.shas[k] for k in ("declare-15", "ledger-15",
                                                                                 "untraced")]
    # Findings about operations outside the period stay out of it.
    assert sorted(f["code"] for f in data["findings"] if f["code"] in ("A001", "A003", "A004")) == ["A001", "A003"]
    assert [f["code"] for f in data["findings"] if f["area"] == "emergency"] in (["A002"], ["L107"])


def test_a_period_with_nothing_in_it_is_clean(audit_repo: AuditRepo) -> None:
    code, out, err = report(audit_repo.path, "--since", "2025-01-01", "--until", "2025-12-31")
    data = json.loads(out)
    assert (code, err, data["operations"], data["commits"], data["ok"]) == (0, "", [], [], True)


@pytest.mark.parametrize(("args", "message"), [
    (("--since", "yesterday"), "opsgov: error: --since 'yesterday' is not a date or a UTC instant; give e.g. "
                               "2026-01-27 or 2026-01-27T10:00:00Z\n"),
    (("--until", "2026-01-27T10:00:00"), "opsgov: error: --until '2026-01-27T10:00:00' is not a date or a UTC "
                                         "instant; give e.g. 2026-01-27 or 2026-01-27T10:00:00Z\n"),
    (("--since", "2026-02-01", "--until", "2026-01-01"), "opsgov: error: --since 2026-02-01 is after --until "
                                                         "2026-01-01; swap them\n"),
])
def test_bad_periods_are_usage_errors(repo: Repo, run_cli: Any, args: tuple[str, ...], message: str) -> None:
    assert run_cli("report", "-C", str(repo.path), *args) == (2, "", message)


def test_outside_a_repository_is_a_usage_error(tmp_path: Path, run_cli: Any) -> None:
    code, out, err = run_cli("report", "-C", str(tmp_path))
    assert (code, out) == (2, "")
    assert err == (f"opsgov: error: {tmp_path} is not inside a git repository; run opsgov from a clone of the "
                   "repository (or 'git init' first)\n")


def test_repository_without_commits(repo: Repo) -> None:
    data = as_json(repo.path)
    assert (data["repository"]["head"], data["operations"], data["commits"], data["ok"]) == (None, [], [], True)


def test_records_are_read_from_head_not_the_working_tree(audit_repo: AuditRepo) -> None:
    audit_repo.repo.write("ops/operations/OPS-2026-02-20-001.md", declaration_text("OPS-2026-02-20-001"))
    ids = [o["operation_id"] for o in as_json(audit_repo.path)["operations"]]
    assert "OPS-2026-02-20-001" not in ids


def test_broken_record_is_a_finding_not_a_crash(audit_repo: AuditRepo) -> None:
    audit_repo.repo.write("ops/operations/OPS-2026-02-10-001.md", "---\nOPERATION_ID: [unclosed\n---\n")
    audit_repo.repo.commit("broken record")
    data = as_json(audit_repo.path)
    broken = [f for f in data["findings"] if f["path"] == "ops/operations/OPS-2026-02-10-001.md"]
    assert [f["code"] for f in broken] == ["F005"]
    assert broken[0]["area"] == "files"


# -- Markdown --------------------------------------------------------------------------

def test_markdown_report_tables(audit_repo: AuditRepo) -> None:
    code, out, err = report(audit_repo.path, "--until", "2026-01-31", fmt="md")
    s = audit_repo.shas
    assert (code, err) == (1, "")
    lines = out.splitlines()
    assert lines[:5] == ["# Audit report: repo", "",
                         "- Period: beginning of history to 2026-01-31T23:59:59Z (UTC)",
                         f"- Generated: 2026-03-01T12:00:00Z at HEAD {s['readme'][:12]}",
                         "- Policy: (defaults); governed paths: `ops/**`, `docs/governance/**`"]
    assert ("| OPS-2026-01-12-001 | Restart node exporter | SERVICE_RESTART | alice@example.com | bob@example.com | "
            "2026-01-12T07:30:00Z | 2026-01-12T08:00:00Z | ROLLBACK | ops-2026-01-12-001 | lightweight | "
            "2026-01-12T11:30:00Z: systemctl is-active node-exporter: active |") in lines
    assert ("| OPS-2026-01-15-001 | Emergency disk cleanup | FILESYSTEM_WRITE | carol@example.com | dave@example.com | "
            "2026-01-17T02:00:00Z | 2026-01-15T02:00:00Z | SUCCESS (emergency) | none | missing | "
            "ref command: git revert HEAD |") in lines
    assert (f"| {s['change-10'][:12]} | 2026-01-10T09:00:00Z | Test Operator &lt;operator@example.com&gt; | Raise the scrape "
            "interval | OPS-2026-01-10-001 | scope | ops/monitoring/odd name .yml, ops/monitoring/prometheus.yml |"
            ) in lines
    assert (f"| {s['untraced'][:12]} | 2026-01-20T09:00:00Z | Test Operator &lt;operator@example.com&gt; | Tweak the scrape "
            "interval again | NOT TRACED | - | ops/monitoring/prometheus.yml |") in lines
    assert "| OPS-2026-01-15-001 | 2026-01-15T02:00:00Z | 2026-01-16T02:00:00Z | 2026-01-17T02:00:00Z | 24.0 | " \
           "dave@example.com |" in lines
    assert "### NIST SP 800-53 Rev. 5 CM-3: Configuration change control" in lines


def test_markdown_cells_cannot_break_the_table() -> None:
    from opsgov_hooks.audit.markdown import cell

    assert cell("a|b\nc") == "a\\|b c"
    assert cell(None) == "-"


# -- HTML: self-contained and escaped (the browser test draws it) ------------------------

def test_html_is_one_self_contained_file(audit_repo: AuditRepo) -> None:
    code, page, _ = report(audit_repo.path, fmt="html")
    assert code == 1
    assert page.startswith("<!DOCTYPE html>")
    assert "Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\"" in page
    for forbidden in ("<script", "<link", "<img", "<iframe", "@import", "url(", " src=", "href=\"http"):
        assert forbidden not in page
    # Outside the text of recorded commands (the verification evidence, e.g. curl -fsS http://...),
    # the only URL is the SVG namespace: nothing names a resource to fetch.
    outside_code = re.sub(r"<code>[^<]*</code>", "", page)
    assert re.findall(r"https?://[^\s\"'<>]+", outside_code) == ["http://www.w3.org/2000/svg"]
    assert page.count('<circle class="op ') == 4
    assert 'class="op outcome-rollback" data-operation="OPS-2026-01-12-001"' in page
    assert 'class="rollback"' in page


def test_html_escapes_what_the_records_say(audit_repo: AuditRepo) -> None:
    _code, page, _ = report(audit_repo.path, fmt="html")
    assert "<b>docs</b>" not in page
    assert "Review &lt;b&gt;docs&lt;/b&gt; &amp; &quot;notes&quot;" in page


# -- the command line ---------------------------------------------------------------------

def test_output_file_and_quiet(audit_repo: AuditRepo, run_cli: Any, tmp_path: Path) -> None:
    target = tmp_path / "audit.json"
    code, out, err = run_cli("report", "-C", str(audit_repo.path), "--format", "json", "-o", str(target))
    assert (code, err) == (1, "")
    assert out == f"wrote {target}: 4 operation(s), 10 governed commit(s), with error findings\n"
    assert json.loads(target.read_text(encoding="utf-8"))["summary"]["operations"] == 4
    code, out, err = run_cli("report", "-C", str(audit_repo.path), "--format", "html", "-o", str(target), "-q")
    assert (code, out, err) == (1, "", "")
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_no_progress_when_not_on_a_terminal(audit_repo: AuditRepo) -> None:
    proc = subprocess.run((sys.executable, "-m", "opsgov_hooks", "report", "--format", "md"), cwd=audit_repo.path,
                          capture_output=True, text=True)
    assert (proc.returncode, proc.stderr) == (1, "")
    assert "\r" not in proc.stdout


# -- pieces ------------------------------------------------------------------------------

@pytest.mark.parametrize(("message", "ids"), [
    ("fix\n\nOps-Id: OPS-2026-01-12-001\n", ["OPS-2026-01-12-001"]),
    ("fix\n\nSigned-off-by: a\nops-id:  OPS-2026-01-12-001, OPS-2026-01-13-002\n",
     ["OPS-2026-01-12-001", "OPS-2026-01-13-002"]),
    ("Ops-Id: OPS-2026-01-12-001\n", []),                         # a subject is not a trailer
    ("fix\n\nOps-Id: OPS-2026-01-12-001\n\nmore prose\n", []),    # only the last paragraph holds trailers
    ("fix\n\nOps-Id: OPS-26-1-1\n", []),
])
def test_trailer_ids(message: str, ids: list[str]) -> None:
    from opsgov_hooks.audit.trace import trailer_ids

    assert trailer_ids(message) == ids


def test_git_log_parse_survives_hostile_paths(repo: Repo) -> None:
    from opsgov_hooks.git.gitio import Git

    sha_like = "ops/" + "a" * 40
    repo.write(sha_like, "x")
    repo.write("ops/:colon\n\nname", "y")
    repo.write("ops/ünïcode path.txt", "z")
    first = repo.commit("one\n\nbody")
    repo.git("rm", "-q", "--", sha_like)
    second = repo.commit("two")
    with Git(str(repo.path)) as git:
        log = list(git.iter_log_with_changes())
    assert [(c.sha, c.subject) for c in log] == [(second, "two"), (first, "one")]
    assert [(ch.status, ch.path) for ch in log[0].changes] == [("D", sha_like)]
    assert sorted(ch.path for ch in log[1].changes) == ["ops/:colon\n\nname", sha_like, "ops/ünïcode path.txt"]


def test_every_code_bears_on_a_requirement() -> None:
    from opsgov_hooks.codes import CODES
    from opsgov_hooks.audit.requirements import REQUIREMENTS, area_of

    ids = {r.id for r in REQUIREMENTS}
    for code in CODES:
        assert area_of(code).bears_on and {r for r, _ in area_of(code).bears_on} <= ids


def test_docs_show_the_requirement_table() -> None:
    from opsgov_hooks.audit.requirements import markdown_table

    assert markdown_table() in (ROOT / "docs" / "report.md").read_text(encoding="utf-8")


def test_an_empty_chart_says_so_and_custom_classes_get_a_lane() -> None:
    from opsgov_hooks.audit.timeline import render_svg

    empty = render_svg([], ["READ_ONLY"])
    assert "No operation in this period." in empty and 'class="op ' not in empty
    lanes = render_svg([], ["READ_ONLY", "DB_MIGRATION"])
    assert lanes.count('class="lane"') == 2 and ">DB_MIGRATION</text>" in lanes


def test_custom_risk_class_is_counted(repo: Repo) -> None:
    repo.write(".opsgov.yaml", "custom_risk_classes: [DB_MIGRATION]\n")
    repo.write("ops/operations/OPS-2026-02-03-001.md", declaration_text("OPS-2026-02-03-001",
                                                                        RISK_CLASS="DB_MIGRATION"))
    repo.commit("declare a migration")
    summary = as_json(repo.path)["summary"]
    assert summary["by_risk_class"] == {"READ_ONLY": 0, "LOW_RISK_CONFIG": 0, "SERVICE_RESTART": 0,
                                        "FILESYSTEM_WRITE": 0, "DB_MIGRATION": 1}
    assert summary["by_outcome"]["OPEN"] == 1


def test_an_unsigned_tag_is_a_gap_only_when_signed_tags_are_required(audit_repo: AuditRepo) -> None:
    """A005: the annotated, unsigned ops-2026-01-10-001 is evidence, unless the policy requires signatures."""
    def unsigned() -> list[tuple[str, str]]:
        return [(f["code"], f["path"]) for f in as_json(audit_repo.path)["findings"] if f["code"] == "A005"]

    assert unsigned() == []
    config = audit_repo.path / ".opsgov.yaml"
    text = config.read_text(encoding="utf-8") if config.exists() else ""
    audit_repo.repo.write(".opsgov.yaml", text + "require_signed_tags: true\n")
    commit_at(audit_repo.repo, "2026-02-02T10:00:00Z", "require signed ops tags")
    assert unsigned() == [("A005", "refs/tags/ops-2026-01-10-001")]
