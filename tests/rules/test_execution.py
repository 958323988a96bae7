"""Execution-log rules X001-X012, each with a passing and a failing case, through ``opsgov validate``."""
from __future__ import annotations

import pytest

from conftest import Repo
from execution_helpers import HEALTH, OP, RECORD, closed, runbook, step
from opsgov_hooks.execution.execlog import parse_log
from opsgov_hooks.records.declaration import split_front_matter


@pytest.fixture
def here(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Repo:
    repo.chdir(monkeypatch)
    return repo


def lines(run_cli, *args: str) -> tuple[int, list[str]]:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("validate", *args)
    assert err == ""
    return code, [line for line in out.splitlines() if not line.startswith("Found ")]


def line_of(repo: Repo, text: str, path: str = RECORD) -> int:
    return repo.read(path).splitlines().index(text) + 1


def test_complete_closed_operation_is_clean(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    closed(here, runbook())
    assert lines(run_cli) == (0, [])


def test_open_operation_without_steps_is_clean(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    here.write(RECORD, runbook(steps=""))
    assert lines(run_cli) == (0, [])


def test_x001_closed_operation_without_steps(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    closed(here, runbook(steps=""))
    heading = line_of(here, "## 3) Execution log")
    assert lines(run_cli) == (1, [
        f"{RECORD}:{heading}:1: X001 {OP} is closed (ledger entry ops/ledger/2026-01.yaml:1) but its record has no "
        "step in its Execution log (fix: record steps with 'opsgov run', which writes this format)"])


def test_x001_closed_operation_without_log_section(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    record = runbook().replace("## 3) Execution log", "## 3) Notes")
    closed(here, record)
    code, found = lines(run_cli)
    assert code == 1
    assert [f.split(": ", 2)[1].split()[0] for f in found] == ["X001"]
    assert "has no '## 3) Execution log' section" in found[0]


def test_x002_malformed_header_and_stray_label(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    steps = "Command:\n    echo early\n\n" + step(1).replace("[STEP 1 | 2026-01-27T10:01:00Z]", "[STEP one]") \
        + step(1, ts="2026-01-27T10:05:00Z").replace("]\nCommand", " | LATER]\nCommand")
    here.write(RECORD, runbook(steps=steps))
    text = here.read(RECORD).splitlines()
    early, bad, mark = text.index("Command:") + 1, text.index("[STEP one]") + 1, \
        text.index("[STEP 1 | 2026-01-27T10:05:00Z | LATER]") + 1
    assert lines(run_cli) == (1, [
        f"{RECORD}:{early}:1: X002 'Command:' outside a step: start the step with [STEP N | <UTC timestamp>]",
        f"{RECORD}:{bad}:1: X002 malformed step header '[STEP one]': write [STEP N | <UTC ISO 8601 timestamp>] or "
        "[STEP N | ... | ROLLBACK]",
        f"{RECORD}:{mark}:1: X002 unknown step mark 'LATER': the only mark is ROLLBACK"])


def test_x003_gap_and_repeat(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    here.write(RECORD, runbook(steps=step(1) + step(3) + step(3, ts="2026-01-27T10:04:00Z")))
    text = here.read(RECORD).splitlines()
    gap = text.index("[STEP 3 | 2026-01-27T10:03:00Z]") + 1
    repeat = text.index("[STEP 3 | 2026-01-27T10:04:00Z]") + 1
    assert lines(run_cli) == (1, [
        f"{RECORD}:{gap}:1: X003 step 3 skips the sequence: expected STEP 2 (steps are numbered 1..N without gaps "
        "or repeats) (fix: renumber it [STEP 2 | ...])",
        f"{RECORD}:{repeat}:1: X003 step 3 repeats the sequence: expected STEP 4 (steps are numbered 1..N without "
        "gaps or repeats) (fix: renumber it [STEP 4 | ...])"])


def test_x003_numbering_one_to_n_passes(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    here.write(RECORD, runbook(steps=step(1) + step(2) + step(3)))
    assert lines(run_cli) == (0, [])


@pytest.mark.parametrize("stamp", ["2026-01-27 10:01:00", "2026-01-27T10:01:00+02:00", "2026-01-27",
                                   "2026-02-30T10:00:00Z", "yesterday"])
def test_x004_timestamp_not_utc_iso(here: Repo, run_cli, stamp: str) -> None:  # type: ignore[no-untyped-def]
    here.write(RECORD, runbook(steps=step(1, ts=stamp)))
    header = line_of(here, f"[STEP 1 | {stamp}]")
    assert lines(run_cli) == (1, [
        f"{RECORD}:{header}:1: X004 step 1: {stamp!r} is not an ISO 8601 UTC timestamp (fix: write e.g. "
        "2026-01-27T10:00:00Z)"])


@pytest.mark.parametrize("stamp", ["2026-01-27T10:01:00Z", "2026-01-27T10:01:00+00:00", "2026-01-27T10:01Z",
                                   "2026-01-27T10:01:00.250Z"])
def test_x004_utc_forms_pass(here: Repo, run_cli, stamp: str) -> None:  # type: ignore[no-untyped-def]
    here.write(RECORD, runbook(steps=step(1, ts=stamp)))
    assert lines(run_cli) == (0, [])


def test_x005_time_goes_backwards(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    here.write(RECORD, runbook(steps=step(1, ts="2026-01-27T10:05:00Z") + step(2, ts="2026-01-27T10:04:59Z")))
    header = line_of(here, "[STEP 2 | 2026-01-27T10:04:59Z]")
    assert lines(run_cli) == (1, [
        f"{RECORD}:{header}:1: X005 step 2 (2026-01-27T10:04:59Z) is earlier than step 1 (2026-01-27T10:05:00Z): "
        "time never goes backwards in a log"])


def test_x005_equal_timestamps_pass(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    here.write(RECORD, runbook(steps=step(1, ts="2026-01-27T10:05:00Z") + step(2, ts="2026-01-27T10:05:00Z")))
    assert lines(run_cli) == (0, [])


def test_x006_incomplete_steps(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    no_verification = step(1).split("Verification:")[0] + "```\n"
    twice = step(2).replace("Status: PASS", "Status: PASS\nStatus: PASS")
    empty = step(3).replace("    echo ok\n", "").replace("Status: PASS", "Status: DONE")
    stray = step(4).replace("]\nCommand:", "]\nsome prose\nCommand:")
    here.write(RECORD, runbook(steps=no_verification + twice + empty + stray))
    text = here.read(RECORD).splitlines()
    at = [text.index(f"[STEP {n} | 2026-01-27T10:0{n}:00Z]") + 1 for n in (1, 2, 3, 4)]
    hint = " (fix: every step has Command:, Result:, Status: PASS|FAIL and Verification:)"
    assert lines(run_cli) == (1, [
        f"{RECORD}:{at[0]}:1: X006 step 1 is incomplete: no Verification:{hint}",
        f"{RECORD}:{at[1]}:1: X006 step 2 is incomplete: Status: given twice{hint}",
        f"{RECORD}:{at[2]}:1: X006 step 3 is incomplete: Command: is empty; Status: is 'DONE', not PASS or FAIL"
        f"{hint}",
        f"{RECORD}:{at[3]}:1: X006 step 4 is incomplete: text on line {at[3] + 1} before Command:{hint}"])


def test_x007_step_in_progress(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    running = step(1).replace("Status: PASS", "Status: IN PROGRESS")
    here.write(RECORD, runbook(steps=running))
    header = line_of(here, "[STEP 1 | 2026-01-27T10:01:00Z]")
    assert lines(run_cli) == (1, [
        f"{RECORD}:{header}:1: X007 step 1 never finished (Status: IN PROGRESS): the recorder was stopped or is "
        "still running (fix: if no 'opsgov run' is running, roll back with 'opsgov run --rollback', which records "
        "the step as FAIL)"])


def test_x008_fix_forward_after_failure(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    steps = step(1, status="FAIL") + step(2, "echo retry")
    here.write(RECORD, runbook(steps=steps))
    header = line_of(here, "[STEP 2 | 2026-01-27T10:02:00Z]")
    assert lines(run_cli) == (1, [
        f"{RECORD}:{header}:1: X008 step 2 follows the failed step 1 but is not a rollback step: after a FAIL, STOP "
        "and roll back (never fix forward) (fix: mark rollback steps [STEP N | <timestamp> | ROLLBACK]; to try "
        "again, declare a new operation)"])


def test_x008_rollback_after_failure_passes(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    steps = step(1, status="FAIL") + step(2, "git revert HEAD", rollback=True) + step(3, rollback=True)
    closed(here, runbook(steps=steps, entry={"outcome": "ROLLBACK", "rollback_timestamp": "2026-01-27T10:05:00Z",
                                             "rollback_evidence": "healthy"}),
           outcome="ROLLBACK", rollback_timestamp="2026-01-27T10:05:00Z", rollback_evidence="healthy")
    assert lines(run_cli) == (0, [])


def test_x009_success_after_failure(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    steps = step(1, status="FAIL") + step(2, "git revert HEAD", rollback=True)
    closed(here, runbook(steps=steps))
    header = line_of(here, "[STEP 1 | 2026-01-27T10:01:00Z]")
    assert lines(run_cli) == (1, [
        f"ops/ledger/2026-01.yaml:1:1: X009 {OP} has outcome SUCCESS but step 1 failed ({RECORD}:{header}) (fix: a "
        f"failed operation is rolled back; record it: opsgov ledger rollback {OP} --at now --evidence TEXT (add "
        "--outcome PARTIAL for a partial rollback))"])


def test_x010_service_outside_allowed(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    steps = step(1, "sudo systemctl restart grafana-server") + step(2, "systemctl status grafana-server") \
        + step(3, "sh -c 'docker compose down'")
    here.write(RECORD, runbook(steps=steps))
    first = line_of(here, "    sudo systemctl restart grafana-server")
    third = line_of(here, "    sh -c 'docker compose down'")
    assert lines(run_cli) == (1, [
        f"{RECORD}:{first}:1: X010 step 1: `systemctl restart grafana-server` acts on service 'grafana-server', "
        "which is not in ALLOWED_SERVICES (prometheus) (fix: a declaration whose ALLOWED_SERVICES names "
        "grafana-server: widening the scope is a new operation ('opsgov new'))",
        f"{RECORD}:{third}:1: X010 step 3: `docker compose down` acts on every service at once, beyond "
        "ALLOWED_SERVICES (prometheus) (fix: an operation declared for that: ALLOWED_SERVICES cannot grant it)"])


def test_x010_allowed_service_and_read_only_pass(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    steps = step(1, "systemctl restart prometheus.service", verify="systemctl is-active grafana-server")
    here.write(RECORD, runbook(steps=steps))
    assert lines(run_cli) == (0, [])


def test_x011_forbidden_stream_write(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    command = "redis-cli XADD quantum:stream:trade.intent '*' side buy"
    here.write(RECORD, runbook(steps=step(1, command, verify="redis-cli XLEN quantum:stream:trade.intent")))
    at = line_of(here, f"    {command}")
    assert lines(run_cli) == (1, [
        f"{RECORD}:{at}:1: X011 step 1: `{command}` breaks the NOT ALLOWED rule 'trading-streams': no writes to "
        "trading Redis streams (fix: nothing can allow it: NOT ALLOWED holds for every operation)"])


def test_x011_checks_verification_commands_too(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    here.write(RECORD, runbook(steps=step(1, verify="iptables -L")))
    at = line_of(here, "    $ iptables -L")
    code, found = lines(run_cli)
    assert (code, [f.split(": X011")[0] for f in found]) == (1, [f"{RECORD}:{at}:1"])


def test_x012_service_restart_needs_three_kinds(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    record = runbook(decl={"RISK_CLASS": "SERVICE_RESTART"}, entry={"risk_class": "SERVICE_RESTART"})
    closed(here, record, risk_class="SERVICE_RESTART")
    heading = line_of(here, "## 3) Execution log")
    code, found = lines(run_cli)
    assert code == 1
    assert [f.split(" (fix:")[0] for f in found] == [
        f"{RECORD}:{heading}:1: X012 SERVICE_RESTART needs logs evidence: no passing step has a verification "
        "command that counts as logs",
        f"{RECORD}:{heading}:1: X012 SERVICE_RESTART needs status evidence: no passing step has a verification "
        "command that counts as status"]


def test_x012_service_restart_with_all_evidence(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    logs = "sh -c '! journalctl -u prometheus --since -10min | grep -iE \"error|fail|panic|fatal\"'"
    steps = step(1, "systemctl restart prometheus", verify="systemctl is-active prometheus") \
        + step(2, "true", verify=logs) + step(3, "true", verify=HEALTH)
    record = runbook(steps=steps, decl={"RISK_CLASS": "SERVICE_RESTART"}, entry={"risk_class": "SERVICE_RESTART"})
    closed(here, record, risk_class="SERVICE_RESTART")
    assert lines(run_cli) == (0, [])


def test_x012_evidence_of_failed_steps_does_not_count(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    steps = step(1, status="FAIL") + step(2, "git revert HEAD", rollback=True, verify=None)
    entry = {"outcome": "ROLLBACK", "rollback_timestamp": "2026-01-27T10:05:00Z", "rollback_evidence": "ok"}
    closed(here, runbook(steps=steps, entry=entry), **entry)
    code, found = lines(run_cli)
    assert (code, [f.split(": ", 2)[1][:4] for f in found]) == (1, ["X012"])


def test_x012_open_operation_not_gated_and_gates_configurable(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    here.write(RECORD, runbook(steps=step(1, verify="true")))
    assert lines(run_cli) == (0, [])
    here.write(".opsgov.yaml", "verification_gates:\n  LOW_RISK_CONFIG: [status]\n"
                               "evidence_patterns:\n  status: ['\\bcheck-it\\b']\n")
    closed(here, runbook(steps=step(1, verify="check-it now")))
    assert lines(run_cli) == (0, [])


def test_hostile_output_cannot_forge_steps() -> None:
    hostile = step(1, result="exit 0\n    ```\n    [STEP 2 | 2026-01-27T10:09:00Z]\n    Status: PASS\n    ## 4) X")
    text = runbook(steps=hostile)
    split = split_front_matter(RECORD, text)
    assert isinstance(split, tuple)
    _front, body, body_line = split
    log = parse_log(body, body_line)
    assert log is not None
    assert [(s.number, s.status) for s in log.steps] == [(1, "PASS")]
    assert log.problems == ()


def test_x012_answers_follow_the_policy_within_one_process() -> None:
    # Whether a command counts as evidence is remembered per policy: two policies in one process
    # (a range judges under the policy of its base) never share an answer.
    from conftest import entry_text
    from opsgov_hooks.policy.config import resolve_policy
    from opsgov_hooks.records.store import RecordSet, parse_record_file
    from opsgov_hooks.rules.execution import verification_gates

    records = RecordSet()
    parse_record_file(RECORD, runbook(steps=step(1, verify="check-it now")).encode(), resolve_policy(None, None),
                      records)
    parse_record_file("ops/ledger/2026-01.yaml", entry_text(OP).encode(), resolve_policy(None, None), records)
    gated = b"verification_gates:\n  LOW_RISK_CONFIG: [status]\n"
    counts = resolve_policy(gated + b"evidence_patterns:\n  status: ['\\bcheck-it\\b']\n", None)
    other = resolve_policy(gated + b"evidence_patterns:\n  status: ['\\bother\\b']\n", None)
    for _ in range(2):
        assert [f.code for f in verification_gates(records, counts)] == []
        assert [f.code for f in verification_gates(records, other)] == ["X012"]
