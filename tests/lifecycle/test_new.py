"""``opsgov new``: id allocation across records, ledger and tags; flags, terminal questions; never overwrite."""
from __future__ import annotations

import datetime
import os
import pty
import subprocess
import sys

import pytest

from conftest import Repo, declaration_text, entry_text
from execution_helpers import opsgov
from opsgov_hooks.atomicfile import write_atomic
from opsgov_hooks.records.yamlstrict import load_documents

FLAGS = ["--name", "Tune Prometheus scrape interval", "--objective", "Reduce scrape load", "--risk",
         "LOW_RISK_CONFIG", "--blast-radius", "Prometheus metrics freshness only", "--rollback",
         "git revert the config commit and reload prometheus", "--path", "ops/monitoring/**", "--service",
         "prometheus"]


@pytest.fixture
def here(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Repo:
    repo.chdir(monkeypatch)
    return repo


def test_declares_and_prints_id_and_path(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("new", *FLAGS, "--date", "2026-01-27")
    assert (code, out) == (0, "OPS-2026-01-27-001\nops/operations/OPS-2026-01-27-001.md\n")
    assert err == ("opsgov: declared OPS-2026-01-27-001; record each step with: opsgov run OPS-2026-01-27-001 "
                   "--verify CHECK -- COMMAND...\n")
    assert run_cli("validate") == (0, "", "")


def test_front_matter_is_exactly_the_declaration(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    run_cli("new", *FLAGS, "--path", "**/prometheus.yml", "--service", "node-exporter", "--date", "2026-01-27")
    text = here.read("ops/operations/OPS-2026-01-27-001.md")
    front = text.split("---\n")[1]
    docs, findings = load_documents("x", front)
    assert findings == []
    assert docs[0].data == {
        "OPERATION_ID": "OPS-2026-01-27-001", "OPERATION_NAME": "Tune Prometheus scrape interval",
        "OBJECTIVE": "Reduce scrape load", "RISK_CLASS": "LOW_RISK_CONFIG",
        "BLAST_RADIUS": "Prometheus metrics freshness only",
        "ROLLBACK_STRATEGY": "git revert the config commit and reload prometheus",
        "ALLOWED_PATHS": ["ops/monitoring/**", "**/prometheus.yml"],
        "ALLOWED_SERVICES": ["prometheus", "node-exporter"]}
    for section in ("## 1) Declaration and Scope Contract", "## 2) Pre-flight checks", "## 3) Execution log",
                    "## 4) Verification", "## 5) Report", "## 6) Signoff & Ledger Entry"):
        assert f"\n{section}\n" in text
    assert "- Restart/reload ONLY services: prometheus, node-exporter\n" in text
    assert "{{" not in text


def test_allocates_past_records_ledger_and_tags(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    here.write("ops/operations/OPS-2026-01-27-002.md", declaration_text("OPS-2026-01-27-002"))
    here.write("ops/ledger/2026-01.yaml", entry_text("OPS-2026-01-27-002") + entry_text("OPS-2026-01-27-005"))
    here.write("ops/operations/OPS-2026-01-28-040.md", declaration_text("OPS-2026-01-28-040"))
    here.commit("records")
    code, out, _ = run_cli("new", *FLAGS, "--date", "2026-01-27")
    assert (code, out.split()[0]) == (0, "OPS-2026-01-27-006")
    here.git("tag", "-a", "ops-2026-01-27-011", "-m", "closed elsewhere")
    code, out, _ = run_cli("new", *FLAGS, "--date", "2026-01-27")
    assert (code, out.split()[0]) == (0, "OPS-2026-01-27-012")
    code, out, _ = run_cli("new", *FLAGS, "--date", "2026-01-28")
    assert (code, out.split()[0]) == (0, "OPS-2026-01-28-041")


def test_gaps_are_never_reused(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    here.write("ops/operations/OPS-2026-01-27-003.md", declaration_text("OPS-2026-01-27-003"))
    code, out, _ = run_cli("new", *FLAGS, "--date", "2026-01-27")
    assert out.split()[0] == "OPS-2026-01-27-004"


def test_default_date_is_today_in_utc(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    before = datetime.datetime.now(datetime.timezone.utc).date()
    code, out, _ = run_cli("new", *FLAGS)
    after = datetime.datetime.now(datetime.timezone.utc).date()
    assert code == 0
    assert out.split()[0] in {f"OPS-{day.isoformat()}-001" for day in (before, after)}


@pytest.mark.parametrize("day,message", [
    ("27-01-2026", "--date '27-01-2026' is not a date: write YYYY-MM-DD (UTC), e.g. 2026-01-27"),
    ("2026-02-30", "--date 2026-02-30 is not a real calendar date")])
def test_bad_date(here: Repo, run_cli, day: str, message: str) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("new", *FLAGS, "--date", day) == (2, "", f"opsgov: error: {message}\n")


def test_sequence_999_is_the_last(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    here.write("ops/operations/OPS-2026-01-27-999.md", declaration_text("OPS-2026-01-27-999"))
    assert run_cli("new", *FLAGS, "--date", "2026-01-27") == (2, "", (
        "opsgov: error: every id of 2026-01-27 up to OPS-2026-01-27-999 is used; declare the operation on another "
        "day with --date YYYY-MM-DD\n"))


def test_without_a_terminal_a_missing_field_is_exit_2(here: Repo) -> None:
    code, out, err = opsgov(here, "new", "--name", "n", "--risk", "READ_ONLY", "--path", "a/**")
    assert (code, out) == (2, "")
    assert err == ("opsgov: error: missing --objective, --blast-radius, --rollback, --service (or --no-services): "
                   "there is no terminal to ask for them, so give every field as a flag\n")
    assert not (here.path / "ops").exists()


def test_in_a_terminal_missing_fields_are_asked(here: Repo) -> None:
    primary, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "opsgov_hooks", "new", "--name", "Rotate logs", "--date",
                             "2026-01-27"], cwd=here.path, stdin=secondary, stdout=subprocess.PIPE,
                            stderr=secondary)
    os.close(secondary)
    answers = ["Keep disk below 80%", "BOGUS", "FILESYSTEM_WRITE", "/var/log only", "restore from backup",
               "ops/logrotate/**, ops/cron/**", ""]
    os.write(primary, "".join(a + "\n" for a in answers).encode())
    out, _ = proc.communicate(timeout=60)
    transcript = _drain(primary)
    assert (proc.returncode, out.decode()) == (0, "OPS-2026-01-27-001\nops/operations/OPS-2026-01-27-001.md\n")
    for question in ("OBJECTIVE:", "RISK_CLASS (", "BLAST_RADIUS:", "ROLLBACK_STRATEGY:",
                     "ALLOWED_PATHS (globs, comma-separated):", "ALLOWED_SERVICES (comma-separated; empty for none):"):
        assert question in transcript
    assert "Error: 'BOGUS' is not one of" in transcript
    text = here.read("ops/operations/OPS-2026-01-27-001.md")
    assert "ALLOWED_PATHS:\n  - ops/logrotate/**\n  - ops/cron/**\nALLOWED_SERVICES: []\n" in text
    assert "RISK_CLASS: FILESYSTEM_WRITE\n" in text


def _drain(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode("utf-8", "replace")


def test_an_existing_record_is_never_overwritten(tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "OPS-2026-01-27-001.md"
    target.write_bytes(b"original")
    with pytest.raises(FileExistsError):
        write_atomic(str(target), b"new", exclusive=True)
    assert target.read_bytes() == b"original"
    assert os.listdir(tmp_path) == ["OPS-2026-01-27-001.md"]


def test_concurrent_declarations_get_distinct_ids(here: Repo) -> None:
    procs = [subprocess.Popen([sys.executable, "-m", "opsgov_hooks", "new", *FLAGS, "--name", f"op {i}",
                               "--date", "2026-01-27"], cwd=here.path, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for i in range(4)]
    results = [(p.communicate(timeout=120)[0].decode(), p.returncode) for p in procs]
    assert [code for _out, code in results] == [0, 0, 0, 0]
    ids = sorted(out.split()[0] for out, _code in results)
    assert ids == [f"OPS-2026-01-27-00{i}" for i in range(1, 5)]
    names = sorted(here.read(f"ops/operations/{op}.md").split("OPERATION_NAME: ")[1].split("\n")[0] for op in ids)
    assert names == ["op 0", "op 1", "op 2", "op 3"]


def test_unknown_risk_class(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    flags = [f if f != "LOW_RISK_CONFIG" else "HIGH" for f in FLAGS]
    assert run_cli("new", *flags, "--date", "2026-01-27") == (2, "", (
        "opsgov: error: --risk HIGH is not a risk class: use one of READ_ONLY, LOW_RISK_CONFIG, SERVICE_RESTART, "
        "FILESYSTEM_WRITE (or declare it in custom_risk_classes)\n"))


def test_custom_risk_class_from_the_config(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    here.write(".opsgov.yaml", "custom_risk_classes: [DB_MIGRATION]\n")
    flags = [f if f != "LOW_RISK_CONFIG" else "DB_MIGRATION" for f in FLAGS]
    assert run_cli("new", *flags, "--date", "2026-01-27")[0] == 0
    assert "RISK_CLASS: DB_MIGRATION\n" in here.read("ops/operations/OPS-2026-01-27-001.md")


def test_invalid_path_is_refused_before_writing(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run_cli("new", *FLAGS, "--path", "/etc/prometheus/**", "--date", "2026-01-27")
    assert (code, out) == (2, "")
    assert err.startswith("opsgov: error: the declaration is not valid:\n"
                          "ops/operations/OPS-2026-01-27-001.md:10:5: D002 ")
    assert err.endswith("\nFix the flags and run again.\n")
    assert not (here.path / "ops").exists()


def test_service_and_no_services_contradict(here: Repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    code, _out, err = run_cli("new", *FLAGS, "--no-services")
    assert code == 2
    assert "--service and --no-services contradict each other" in err


def test_works_outside_a_git_repository(tmp_path, monkeypatch, run_cli) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    assert run_cli("new", *FLAGS, "--date", "2026-01-27")[:2] == (
        0, "OPS-2026-01-27-001\nops/operations/OPS-2026-01-27-001.md\n")
