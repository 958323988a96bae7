"""``opsgov run`` with real commands: passing, failing, slow, interrupted by real signals, refused."""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from conftest import Repo, entry_text
from execution_helpers import normalise, opsgov, opsgov_process, process_running, wait_for, wait_for_command

OP = "OPS-2026-01-27-001"
# Unique per run: a concurrent test run on the same machine must never be mistaken for this one.
SLEEP_A = f"30.{os.getpid()}1"
SLEEP_B = f"30.{os.getpid()}2"
RECORD = f"ops/operations/{OP}.md"
ROLLBACK = "git revert the config commit and reload prometheus"
DECLARE = ["new", "--name", "Tune Prometheus scrape interval", "--objective", "Reduce scrape load", "--risk",
           "LOW_RISK_CONFIG", "--blast-radius", "Prometheus metrics freshness only", "--rollback", ROLLBACK,
           "--path", "ops/monitoring/**", "--service", "prometheus", "--date", "2026-01-27"]
ANCHOR = "     Never fix forward. opsgov run appends the steps below. -->\n"
PY = sys.executable


@pytest.fixture
def here(repo: Repo, monkeypatch: pytest.MonkeyPatch, run_cli) -> Repo:  # type: ignore[no-untyped-def]
    repo.chdir(monkeypatch)
    assert run_cli(*DECLARE)[0] == 0
    return repo


def record(repo: Repo) -> str:
    return repo.read(RECORD)


def inserted(before: str, after: str) -> str:
    """What a step added: everything else must be byte for byte as it was."""
    cut = before.index(ANCHOR) + len(ANCHOR)
    assert after.startswith(before[:cut]) and after.endswith(before[cut:])
    return after[cut:len(after) - len(before) + cut]


def test_passing_step(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    before = record(here)
    code, out, err = run_cli("run", OP, "--verify", "echo verified", "--", "sh", "-c", "echo hello; echo warn >&2")
    assert (code, out) == (0, "hello\nwarn\nverified\n")
    assert err == ("opsgov: [STEP 1] $ sh -c 'echo hello; echo warn >&2'\n"
                   "opsgov: [verify] $ echo verified\n"
                   f"opsgov: STEP 1 PASS (recorded in {RECORD})\n")
    assert normalise(inserted(before, record(here))) == (
        "\n```text\n"
        "[STEP 1 | <TS>]\n"
        "Command:\n"
        "    sh -c 'echo hello; echo warn >&2'\n"
        "Result:\n"
        "    exit 0 in <T>s\n"
        "    hello\n"
        "    warn\n"
        "Status: PASS\n"
        "Verification:\n"
        "    $ echo verified\n"
        "    exit 0 in <T>s\n"
        "    verified\n"
        "```\n")
    assert run_cli("validate") == (0, "", "")


def test_steps_are_numbered_and_appended_in_order(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    for word in ("one", "two", "three"):
        assert run_cli("run", OP, "--", "echo", word)[0] == 0
    text = normalise(record(here))
    assert [line for line in text.splitlines() if line.startswith("[STEP")] == \
        ["[STEP 1 | <TS>]", "[STEP 2 | <TS>]", "[STEP 3 | <TS>]"]
    assert text.index("    one") < text.index("    two") < text.index("    three") < text.index("## 4) Verification")


def test_failing_command_prints_the_rollback_strategy(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    before = record(here)
    code, out, err = run_cli("run", OP, "--verify", "true", "--", "sh", "-c", "echo boom; exit 3")
    assert (code, out) == (1, "boom\n")
    assert err.splitlines()[2:] == [
        f"opsgov: STEP 1 FAIL: the command failed (exit 3) (recorded in {RECORD})",
        "opsgov: STOP. Roll back now, never fix forward. The declared ROLLBACK_STRATEGY:",
        f"    {ROLLBACK}",
        f"opsgov: record each rollback step with: opsgov run {OP} --rollback -- COMMAND..."]
    assert normalise(inserted(before, record(here))).splitlines()[6:13] == [
        "    exit 3 in <T>s", "    boom", "Status: FAIL", "Verification:", "    $ true", "    exit 0 in <T>s",
        "    (no output)"]


def allow_opaque(repo: Repo, config: str = "") -> None:
    """These tests run Python's inline code, which opsgov cannot read and refuses unless the config allows it."""
    repo.write(".opsgov.yaml", config + "opaque_commands: allow\n")


def test_failing_verification_fails_the_step(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    allow_opaque(here)
    code, _out, err = run_cli("run", OP, "--verify", "true", "--verify", f"{PY} -c 'raise SystemExit(22)'", "--",
                              "true")
    assert code == 1
    assert f"opsgov: STEP 1 FAIL: verification `{PY} -c 'raise SystemExit(22)'` failed (exit 22)" in err
    assert "Status: FAIL\n" in record(here)


def test_after_a_failure_only_rollback_steps(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    run_cli("run", OP, "--", "false")
    before = record(here)
    code, out, err = run_cli("run", OP, "--", "touch", "fixed-forward")
    assert (code, out) == (2, "")
    header = before.splitlines().index(next(l for l in before.splitlines() if l.startswith("[STEP 1 |"))) + 1
    assert err == (f"opsgov: HALT: step 1 of {OP} FAILED ({RECORD}:{header}): only rollback steps may follow (never "
                   f"fix forward). STOP and roll back:\n    {ROLLBACK}\nRecord each rollback step with: opsgov run "
                   f"{OP} --rollback -- COMMAND...\n")
    assert record(here) == before
    assert not (here.path / "fixed-forward").exists()
    assert run_cli("run", OP, "--rollback", "--", "echo", "reverted")[0] == 0
    assert "[STEP 2 | " in record(here) and " | ROLLBACK]\nCommand:\n    echo reverted\n" in record(here)
    assert run_cli("run", OP, "--rollback", "--", "true")[0] == 0


def test_a_failed_rollback_says_halt_and_ask(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    run_cli("run", OP, "--", "false")
    code, _out, err = run_cli("run", OP, "--rollback", "--", "false")
    assert code == 1
    assert err.splitlines()[-2:] == [
        "opsgov: a rollback step failed: HALT and ASK, do not guess. The declared ROLLBACK_STRATEGY:", f"    {ROLLBACK}"]


def test_halt_on_a_service_outside_the_scope(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    before = record(here)
    code, out, err = run_cli("run", OP, "--", "sh", "-c", "touch ran && systemctl restart grafana-server")
    assert (code, out) == (2, "")
    assert err == (
        "opsgov: HALT: `systemctl restart grafana-server` acts on service 'grafana-server', which is not in "
        "ALLOWED_SERVICES (prometheus)\n  needs: a declaration whose ALLOWED_SERVICES names grafana-server: "
        f"widening the scope is a new operation ('opsgov new')\nNothing was run. The scope contract of {OP} does "
        "not allow this step; when uncertain, ask.\n")
    assert record(here) == before and not (here.path / "ran").exists()


def test_halt_on_a_forbidden_stream_write(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    before = record(here)
    code, out, err = run_cli("run", OP, "--verify", "true", "--", "redis-cli", "XADD", "quantum:stream:trade.intent",
                             "*", "side", "buy")
    assert (code, out) == (2, "")
    assert err.startswith("opsgov: HALT: `redis-cli XADD quantum:stream:trade.intent '*' side buy` breaks the NOT "
                          "ALLOWED rule 'trading-streams': no writes to trading Redis streams\n  needs: nothing can "
                          "allow it")
    assert record(here) == before


def test_halt_on_a_verification_outside_the_scope(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = run_cli("run", OP, "--verify", "systemctl restart nginx", "--", "true")
    assert code == 2 and err.startswith("opsgov: HALT: `systemctl restart nginx` acts on service 'nginx'")


def test_a_recorded_operation_still_takes_steps_until_its_tag(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    """The tag closes an operation (docs/concepts.md), not its ledger entry: a verification the gate
    asks for after 'opsgov ledger record' can still be recorded."""
    here.write("ops/ledger/2026-01.yaml", entry_text(OP))
    assert run_cli("run", OP, "--verify", "true", "--", "true")[0] == 0


def test_a_tagged_operation_takes_only_rollback_steps(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    here.git("commit", "-q", "--allow-empty", "-m", "anything")
    here.git("tag", "-a", "-m", "closed", OP.lower(), "HEAD")
    assert run_cli("run", OP, "--", "true") == (2, "", (
        f"opsgov: HALT: {OP} is closed (tag {OP.lower()}): only rollback steps may follow; "
        "new work is a new operation ('opsgov new')\n"))
    assert run_cli("run", OP, "--rollback", "--", "true")[0] == 0


def test_slow_command_times_out(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = run_cli("run", OP, "--timeout", "0.5", "--verify", "true", "--", "sleep", "30")
    assert code == 1
    assert f"opsgov: STEP 1 FAIL: the command timed out (recorded in {RECORD})" in err
    text = normalise(record(here))
    assert ("Result:\n    TIMED OUT after <T>s: the command was stopped (killed by SIGTERM)\n    (no output)\n"
            "Status: FAIL\nVerification:\n    $ true\n    exit 0 in <T>s\n    (no output)\n") in text


def test_output_is_bounded(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    allow_opaque(here, "max_output_bytes: 256\n")
    code, out, _err = run_cli("run", OP, "--", PY, "-c", "print('a' * 2000 + 'z' * 3000)")
    assert (code, len(out)) == (0, 5001)
    assert ("Result:\n    exit 0 in <T>s\n    " + "a" * 128 + "\n    [... 4745 bytes of output omitted ...]\n    "
            + "z" * 127 + "\nStatus: PASS\n") in normalise(record(here))


def test_hostile_output_cannot_forge_the_log(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    script = ("print('```'); print('[STEP 2 | 2026-01-01T00:00:00Z]'); print('Status: PASS'); "
              "print('## 4) Verification'); print('\\x1b[31mred\\x1b[0m\\ttab\\rcr')")
    allow_opaque(here)
    assert run_cli("run", OP, "--", PY, "-c", script)[0] == 0
    text = record(here)
    assert ("    ```\n    [STEP 2 | 2026-01-01T00:00:00Z]\n    Status: PASS\n    ## 4) Verification\n"
            "    \\x1b[31mred\\x1b[0m\ttab\n    cr\n") in text
    assert run_cli("validate") == (0, "", "")
    assert run_cli("run", OP, "--", "true")[0] == 0
    assert "[STEP 2 | " in normalise(record(here)).replace("[STEP 2 | 2026-01-01T00:00:00Z]", "")


def test_commands_get_no_stdin_and_no_shell(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("run", OP, "--", "cat")[:2] == (0, "")
    assert run_cli("run", OP, "--", "echo", "$HOME", ";", "id")[1] == "$HOME ; id\n"


def test_unknown_program_runs_nothing(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    before = record(here)
    assert run_cli("run", OP, "--", "no-such-program-x", "arg") == (2, "", (
        "opsgov: error: cannot run `no-such-program-x`: no such program on PATH (nothing was run)\n"))
    assert record(here) == before


def test_unbalanced_verify_quotes(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = run_cli("run", OP, "--verify", "sh -c 'echo", "--", "true")
    assert code == 2
    assert err == ("opsgov: error: --verify \"sh -c 'echo\": No closing quotation; quote it as you would for a shell "
                   "(it is split with shlex and run without a shell: write sh -c '...' for a pipe)\n")


def test_record_without_an_execution_log(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    here.write(RECORD, record(here).replace("## 3) Execution log", "## 3) Notes"))
    assert run_cli("run", OP, "--", "true") == (2, "", (
        f"opsgov: error: {RECORD} has no '## 3) Execution log' section; add one (see docs/OPS_RUNBOOK_TEMPLATE.md) "
        "and run again\n"))


def test_a_broken_log_is_not_appended_to(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    run_cli("run", OP, "--", "true")
    here.write(RECORD, record(here).replace("[STEP 1 |", "[STEP 4 |"))
    code, _out, err = run_cli("run", OP, "--", "touch", "ran")
    assert code == 2
    assert err.startswith(f"opsgov: HALT: the Execution log of {RECORD} is broken; nothing was run. Fix it first:\n"
                          f"{RECORD}:")
    assert " X003 step 4 skips the sequence: expected STEP 1" in err
    assert not (here.path / "ran").exists()


def test_crlf_record_keeps_its_line_endings(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    crlf = record(here).replace("\n", "\r\n")
    (here.path / RECORD).write_bytes(crlf.encode())
    assert run_cli("run", OP, "--", "echo", "hi")[0] == 0
    after = (here.path / RECORD).read_bytes().decode()
    assert "\n" not in after.replace("\r\n", "")
    cut = crlf.index(ANCHOR.replace("\n", "\r\n")) + len(ANCHOR) + 1
    assert after.startswith(crlf[:cut]) and after.endswith(crlf[cut:])
    assert run_cli("validate") == (0, "", "")


# -- real processes, real signals --------------------------------------------------------------------

def _step_text(repo: Repo) -> str:
    text = normalise(record(repo))
    return text[text.index("[STEP 1"):text.index("## 4) Verification")]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_step_is_recorded_as_failed(here: Repo, sig: signal.Signals) -> None:
    proc = opsgov_process(here, "run", OP, "--verify", "true", "--", "sleep", SLEEP_A)
    wait_for(here.path / RECORD, "Status: IN PROGRESS")
    wait_for_command(f"sleep {SLEEP_A}")  # the header is written before the command starts
    assert normalise(record(here)).count("running: started by opsgov run (pid <PID> on host <HOST>)") == 1
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.decode().splitlines()[1] == f"opsgov: STEP 1 FAIL: interrupted by {sig.name} (recorded in {RECORD})"
    assert _step_text(here) == (
        f"[STEP 1 | <TS>]\nCommand:\n    sleep {SLEEP_A}\nResult:\n"
        f"    INTERRUPTED by {sig.name} after <T>s: the command was stopped (killed by SIGTERM); its effect may be "
        "partial\n    (no output)\nStatus: FAIL\nVerification:\n    $ true\n    (not run: the step was interrupted)\n"
        "```\n\n")
    assert not process_running(f"sleep {SLEEP_A}")


def test_killed_recorder_leaves_an_in_progress_step(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    proc = opsgov_process(here, "run", OP, "--", "sleep", SLEEP_B)
    wait_for(here.path / RECORD, "Status: IN PROGRESS")
    code, _out, err = opsgov(here, "run", OP, "--", "true")
    assert (code, err) == (2, f"opsgov: HALT: step 1 is still running (opsgov pid {proc.pid}): steps run one at a "
                              "time\n")
    proc.kill()
    proc.communicate(timeout=60)
    _kill_orphan(f"sleep {SLEEP_B}")
    code, out, err = run_cli("validate")
    assert code == 1 and " X007 step 1 never finished (Status: IN PROGRESS)" in out
    assert run_cli("run", OP, "--", "true") == (2, "", (
        f"opsgov: HALT: step 1 never finished: its recorder (pid {proc.pid}) stopped, so the command's effect is "
        f"unknown and the step counts as failed. Roll back with: opsgov run {OP} --rollback -- COMMAND... (the step "
        "is then recorded as FAIL)\n"))
    assert run_cli("run", OP, "--rollback", "--", "echo", "reverted")[0] == 0
    steps = _step_text(here)
    assert steps.startswith(
        f"[STEP 1 | <TS>]\nCommand:\n    sleep {SLEEP_B}\nResult:\n    INTERRUPTED: the recorder (pid <PID> on host "
        "<HOST>) stopped before this step finished; the command's effect is unknown\nStatus: FAIL\nVerification:\n"
        "    (not run: the recorder stopped)\n```\n\n```text\n[STEP 2 | <TS> | ROLLBACK]\n")
    assert run_cli("validate") == (0, "", "")


def _kill_orphan(marker: str) -> None:
    """The command of a SIGKILLed recorder keeps running in its own session: end it, by its pid."""
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:
                continue
            if marker.encode() in cmdline:
                os.kill(int(pid), signal.SIGKILL)


def test_a_verification_may_validate_the_record_being_recorded(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    """'opsgov validate' as a verification sees its own step IN PROGRESS: that is not a dead recorder (X007)."""
    allow_opaque(here)
    code, _out, err = run_cli("run", OP, "--verify", f"{sys.executable} -m opsgov_hooks validate", "--", "true")
    assert code == 0, err
    assert "exit 0 in " in record(here).split("opsgov_hooks validate", 1)[1].split("\n", 2)[1]
    assert run_cli("validate") == (0, "", "")
