"""Every gate rule both ways, on staged changes in real repositories."""
from __future__ import annotations

import pytest

pytest.register_assert_rewrite("conftest_gate")

from conftest import Repo, declaration_text  # noqa: E402
from conftest_gate import (LEDGER, OPS1, OPS2, PROM, Check, add_entry, close, codes, declare,  # noqa: E402
                          operation, record)

pytest_plugins = ["conftest_gate"]


# -- rule 1: a governed change belongs to an operation ------------------------------------

def test_governed_change_without_operation_is_blocked(gate_repo: Repo, check: Check) -> None:
    gate_repo.write(PROM, "scrape_interval: 30s\n")
    gate_repo.stage()
    code, out, err = check(gate_repo)
    assert code == 1 and err == ""
    assert out == (
        f"{PROM}:1:1: G001 {PROM} is governed but the change belongs to no operation (fix: declare an operation "
        "whose ALLOWED_PATHS cover it ('opsgov new'), or name an open one in an 'Ops-Id: OPS-...' commit "
        "trailer)\nFound 1 error(s), 0 warning(s).\n")


def test_change_with_declared_and_recorded_operation_passes(gate_repo: Repo, check: Check) -> None:
    gate_repo.write(PROM, "scrape_interval: 30s\n")
    operation(gate_repo)
    assert check(gate_repo) == (0, "", "")


def test_open_operation_covers_a_later_change(gate_repo: Repo, check: Check) -> None:
    operation(gate_repo)
    gate_repo.commit("declare and record")
    gate_repo.write(PROM, "scrape_interval: 60s\n")
    gate_repo.stage()
    assert check(gate_repo) == (0, "", "")


def test_ungoverned_change_is_not_judged(gate_repo: Repo, check: Check) -> None:
    gate_repo.write("src/app.py", "print('hi')\n")
    gate_repo.stage()
    assert check(gate_repo) == (0, "", "")


def test_deleting_a_governed_file_is_a_governed_change(gate_repo: Repo, check: Check) -> None:
    gate_repo.write("docs/governance/policy.md", "# policy\n")
    gate_repo.commit("before opsgov")
    gate_repo.git("rm", "-q", "docs/governance/policy.md")
    code, out, _ = check(gate_repo)
    assert code == 1 and codes(out) == ["G001"]
    assert out.startswith("docs/governance/policy.md:1:1: G001 ")


def test_rename_out_of_governed_paths_is_judged_on_both_sides(gate_repo: Repo, check: Check) -> None:
    gate_repo.write("ops/runbook.md", "# a long enough runbook\n" * 5)
    gate_repo.write("notes/README.md", "notes\n")
    gate_repo.commit("before opsgov")
    gate_repo.git("mv", "ops/runbook.md", "notes/runbook.md")
    code, out, _ = check(gate_repo)
    assert code == 1 and out.startswith("ops/runbook.md:1:1: G001 ops/runbook.md is governed")


def test_mode_change_is_a_touch(gate_repo: Repo, check: Check) -> None:
    gate_repo.write("ops/deploy.sh", "echo deploy\n")
    gate_repo.commit("before opsgov")
    gate_repo.git("update-index", "--chmod=+x", "ops/deploy.sh")
    code, out, _ = check(gate_repo)
    assert code == 1 and codes(out) == ["G001"]


def test_config_change_is_governed(gate_repo: Repo, check: Check) -> None:
    gate_repo.write(".opsgov.yaml", "governed_paths:\n  - nothing/**\n")
    gate_repo.stage()
    code, out, _ = check(gate_repo)
    assert code == 1 and out.startswith(".opsgov.yaml:1:1: G001 ")


def test_pyproject_change_is_governed_only_when_its_opsgov_table_changes(gate_repo: Repo, check: Check) -> None:
    gate_repo.write("pyproject.toml", "[project]\nname = 'x'\n")
    gate_repo.stage()
    assert check(gate_repo) == (0, "", "")
    gate_repo.write("pyproject.toml", "[project]\nname = 'x'\n\n[tool.opsgov]\ngoverned_paths = ['infra/**']\n")
    gate_repo.stage()
    code, out, _ = check(gate_repo)
    assert code == 1 and out.startswith("pyproject.toml:1:1: G001 ")


# -- rule 2: valid declaration and ledger entry ----------------------------------------------

def test_missing_ledger_entry_is_an_error(gate_repo: Repo, check: Check) -> None:
    declare(gate_repo)
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.stage()
    code, out, _ = check(gate_repo)
    assert code == 1
    assert out == (f"{record(OPS1)}:1:1: G003 {OPS1} has no valid ledger entry (fix: record it: opsgov ledger record "
                   f"{OPS1} --approved-by NAME --approval-timestamp now --execution-timestamp now --changes-summary TEXT "
                   "--rollback-ref COMMIT)\nFound 1 error(s), 0 warning(s).\n")


def test_missing_ledger_entry_warns_when_followup_allowed(gate_repo: Repo, check: Check) -> None:
    gate_repo.write(".opsgov.yaml", "allow_ledger_followup: true\n")
    gate_repo.commit("config")
    declare(gate_repo)
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.stage()
    code, out, _ = check(gate_repo)
    assert code == 0
    assert out == (f"{record(OPS1)}:1:1: G003 warning: {OPS1} has no valid ledger entry yet: record it in an "
                   f"immediate follow-up commit (fix: record it: opsgov ledger record {OPS1} --approved-by NAME "
                   "--approval-timestamp now --execution-timestamp now --changes-summary TEXT --rollback-ref COMMIT)\n"
                   "Found 0 error(s), 1 warning(s).\n")


def test_invalid_ledger_entry_does_not_count(gate_repo: Repo, check: Check) -> None:
    declare(gate_repo)
    add_entry(gate_repo, outcome="MAYBE")
    gate_repo.stage()
    code, out, _ = check(gate_repo)
    assert code == 1
    assert codes(out) == ["L002", "G003"]


def test_invalid_declaration_is_reported(gate_repo: Repo, check: Check) -> None:
    gate_repo.write(record(OPS1), declaration_text(OPS1, BLAST_RADIUS=None))
    add_entry(gate_repo)
    gate_repo.stage()
    code, out, _ = check(gate_repo)
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == (f"{record(OPS1)}:1:1: G002 {OPS1}'s declaration is invalid (fix: fix the findings "
                        f"reported for {record(OPS1)})")
    assert lines[1].startswith(f"{record(OPS1)}:2:1: D001 mandatory field 'BLAST_RADIUS' is missing")


def test_ledger_entry_for_undeclared_operation(gate_repo: Repo, check: Check) -> None:
    add_entry(gate_repo, OPS2)
    gate_repo.stage()
    code, out, _ = check(gate_repo)
    assert code == 1
    assert f"{record(OPS2)}:1:1: G002 {OPS2} is not declared (fix: declare it in {record(OPS2)} ('opsgov new'))" \
        in out.splitlines()
    assert "L008" in codes(out)


# -- rule 3: scope contract -------------------------------------------------------------------

def test_records_association_covers_every_touched_file(gate_repo: Repo, check: Check) -> None:
    operation(gate_repo)
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.write("src/app.py", "print('out of scope')\n")
    gate_repo.stage()
    code, out, _ = check(gate_repo)
    assert code == 1
    assert out == (f"src/app.py:1:1: G004 src/app.py is outside the ALLOWED_PATHS of {OPS1} (fix: leave it out of "
                   "this change, or declare a new operation for this change ('opsgov new') with ALLOWED_PATHS "
                   "covering it)\nFound 1 error(s), 0 warning(s).\n")


def test_open_scope_association_checks_only_governed_files(gate_repo: Repo, check: Check) -> None:
    operation(gate_repo)
    gate_repo.commit("declare")
    gate_repo.write(PROM, "x: 2\n")
    gate_repo.write("src/app.py", "print('not governed')\n")
    gate_repo.stage()
    assert check(gate_repo) == (0, "", "")


def test_open_scope_association_reports_uncovered_governed_files(gate_repo: Repo, check: Check) -> None:
    operation(gate_repo)
    gate_repo.commit("declare")
    gate_repo.write(PROM, "x: 2\n")
    gate_repo.write("ops/nginx/site.conf", "server {}\n")
    gate_repo.stage()
    code, out, _ = check(gate_repo)
    assert code == 1
    assert out.startswith(f"ops/nginx/site.conf:1:1: G004 ops/nginx/site.conf is outside the ALLOWED_PATHS of {OPS1}")


def test_two_operations_together_cover_their_union(gate_repo: Repo, check: Check) -> None:
    operation(gate_repo, OPS1)
    operation(gate_repo, OPS2, ["ops/nginx/**"])
    gate_repo.write(PROM, "x: 2\n")
    gate_repo.write("ops/nginx/site.conf", "server {}\n")
    gate_repo.stage()
    assert check(gate_repo) == (0, "", "")


# -- closed operations ----------------------------------------------------------------------

def test_closed_operation_gives_no_further_permit(gate_repo: Repo, check: Check) -> None:
    operation(gate_repo)
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.commit("the operation")
    close(gate_repo)
    gate_repo.write(PROM, "x: 2\n")
    gate_repo.stage()
    code, out, _ = check(gate_repo)
    assert code == 1
    assert out == (f"{PROM}:1:1: G005 {PROM} is covered only by closed operation {OPS1} (tag ops-2026-01-27-001) "
                   "(fix: declare a new operation for this change ('opsgov new'))\nFound 1 error(s), 0 warning(s).\n")


def test_closed_operation_may_still_update_its_own_ledger_entry(gate_repo: Repo, check: Check) -> None:
    operation(gate_repo)
    gate_repo.commit("the operation")
    close(gate_repo)
    text = gate_repo.read(LEDGER).replace("outcome: SUCCESS", "outcome: ROLLBACK\n"
                                          "rollback_timestamp: 2026-01-28T08:00:00Z\n"
                                          "rollback_evidence: prometheus reloaded, targets up")
    gate_repo.write(LEDGER, text)
    gate_repo.stage()
    assert check(gate_repo) == (0, "", "")


def test_recording_its_rollback_lets_a_closed_operation_revert_its_own_scope(gate_repo: Repo, check: Check) -> None:
    """P5 Rollback Impact: the change that reverts the files also moves the entry to ROLLBACK/PARTIAL."""
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.commit("before the operation")
    operation(gate_repo)
    gate_repo.write(PROM, "x: 2\n")
    gate_repo.commit("the operation")
    close(gate_repo)
    gate_repo.write(LEDGER, gate_repo.read(LEDGER).replace("outcome: SUCCESS", "outcome: PARTIAL\n"
                                                           "rollback_timestamp: 2026-01-28T08:00:00Z\n"
                                                           "rollback_evidence: half reverted"))
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.stage()
    assert check(gate_repo) == (0, "", "")


def test_a_rollback_record_permits_nothing_outside_the_scope(gate_repo: Repo, check: Check) -> None:
    operation(gate_repo)
    gate_repo.commit("the operation")
    close(gate_repo)
    gate_repo.write(LEDGER, gate_repo.read(LEDGER).replace("outcome: SUCCESS", "outcome: ROLLBACK\n"
                                                           "rollback_timestamp: 2026-01-28T08:00:00Z\n"
                                                           "rollback_evidence: reverted"))
    gate_repo.write("ops/alerting/rules.yml", "x: 3\n")
    gate_repo.stage()
    code, out, _ = check(gate_repo)
    assert code == 1 and out.startswith("ops/alerting/rules.yml:1:1: G004 ops/alerting/rules.yml is outside the "
                                        f"ALLOWED_PATHS of {OPS1}")


def test_once_rolled_back_a_closed_operation_permits_nothing_more(gate_repo: Repo, check: Check) -> None:
    operation(gate_repo)
    gate_repo.commit("the operation")
    close(gate_repo)
    gate_repo.write(LEDGER, gate_repo.read(LEDGER).replace("outcome: SUCCESS", "outcome: ROLLBACK\n"
                                                           "rollback_timestamp: 2026-01-28T08:00:00Z\n"
                                                           "rollback_evidence: reverted"))
    gate_repo.commit("rollback")
    gate_repo.write(LEDGER, gate_repo.read(LEDGER).replace("rollback_evidence: reverted",
                                                           "rollback_evidence: reverted\nnotes: more"))
    gate_repo.write(PROM, "x: 4\n")
    gate_repo.stage()
    code, out, _ = check(gate_repo)
    assert code == 1 and out.startswith(f"{PROM}:1:1: G005 {PROM} needs closed operation {OPS1}")


# -- rule 4: NOT ALLOWED ---------------------------------------------------------------------

def test_forbidden_path_is_reported(gate_repo: Repo, check: Check) -> None:
    operation(gate_repo, allowed=["ops/**"])
    gate_repo.write("ops/iptables/rules.v4", "*filter\n")
    gate_repo.stage()
    code, out, _ = check(gate_repo)
    assert code == 1
    assert out.splitlines()[0] == (
        "ops/iptables/rules.v4:1:1: G006 NOT ALLOWED (firewall-network-permissions): no firewall, network or user "
        "permission changes: ops/iptables/rules.v4 (fix: leave this file out of the change; the scope contract "
        "never permits it)")


def test_forbidden_content_is_reported_at_its_line(gate_repo: Repo, check: Check) -> None:
    operation(gate_repo)
    gate_repo.write("ops/monitoring/flush.sh", "#!/bin/sh\nredis-cli XADD quantum:stream:trade.intent '*' a 1\n")
    gate_repo.stage()
    code, out, _ = check(gate_repo)
    assert code == 1
    assert out.splitlines()[0].startswith(
        "ops/monitoring/flush.sh:2:11: G007 NOT ALLOWED (trading-streams): no writes to trading Redis streams: "
        "added line matches ")


def test_content_rules_see_only_added_lines(gate_repo: Repo, check: Check) -> None:
    gate_repo.write("ops/monitoring/flush.sh", "redis-cli XADD quantum:stream:trade.intent '*' a 1\n")
    gate_repo.commit("history before opsgov")
    operation(gate_repo)
    gate_repo.write("ops/monitoring/flush.sh",
                    "redis-cli XADD quantum:stream:trade.intent '*' a 1\necho harmless\n")
    gate_repo.stage()
    assert check(gate_repo) == (0, "", "")


def test_real_looking_secrets_are_caught(gate_repo: Repo, check: Check) -> None:
    operation(gate_repo)
    gate_repo.write("ops/monitoring/exporter.env.yml",
                    "region: eu-west-1\naws_access_key_id: AKIAIOSFODNN7EXAMPLE\n")
    gate_repo.write("ops/monitoring/tls/key.txt",
                    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1\n-----END RSA PRIVATE KEY-----\n")
    gate_repo.stage()
    code, out, _ = check(gate_repo)
    assert code == 1
    assert out.splitlines() == [
        "ops/monitoring/exporter.env.yml:2:1: G008 NOT ALLOWED (secrets): no secrets, keys or exchange credential "
        "changes: AWS Access Key in an added line (fix: remove the secret from the change (and rotate it); if it is "
        "not a secret, end the line with '# pragma: allowlist secret')",
        "ops/monitoring/tls/key.txt:1:1: G008 NOT ALLOWED (secrets): no secrets, keys or exchange credential "
        "changes: Private Key in an added line (fix: remove the secret from the change (and rotate it); if it is "
        "not a secret, end the line with '# pragma: allowlist secret')",
        "Found 2 error(s), 0 warning(s).",
    ]


def test_ordinary_config_is_not_a_secret(gate_repo: Repo, check: Check) -> None:
    sha = gate_repo.head()
    operation(gate_repo)
    gate_repo.write(PROM, "\n".join([
        "global:",
        "  scrape_interval: 30s",
        "  evaluation_interval: 15s",
        "scrape_configs:",
        "  - job_name: 'node'",
        "    static_configs:",
        "      - targets: ['localhost:9100']",
        "  - job_name: 'grafana'",
        "    metrics_path: /metrics",
        "    scheme: https",
        "    static_configs:",
        "      - targets: ['grafana.internal:3000']",
        f"# reverts to '{sha}'",
        f"rollback_ref: {sha[:12]}",
        "image: 'prom/prometheus:v2.45.0'",
        "url: 'http://localhost:9090/-/healthy'",
        "",
    ]))
    gate_repo.stage()
    assert check(gate_repo) == (0, "", "")


def test_a_hex_string_that_is_no_commit_is_still_a_secret(gate_repo: Repo, check: Check) -> None:
    operation(gate_repo)
    gate_repo.write(PROM, "rollback_ref: 9f8e7d6c5b4a39281706f5e4d3c2b1a0\n")
    gate_repo.stage()
    code, out, _ = check(gate_repo)
    assert code == 1 and " G008 " in out and "Hex High Entropy String" in out


def test_allowlist_pragma_silences_a_false_positive(gate_repo: Repo, check: Check) -> None:
    operation(gate_repo)
    gate_repo.write(PROM, "password: see-vault  # pragma: allowlist secret\n")
    gate_repo.stage()
    assert check(gate_repo) == (0, "", "")


def test_a_declaration_alone_needs_no_ledger_entry_yet(gate_repo: Repo, check: Check) -> None:
    """docs/lifecycle.md: commit the declaration before doing the work; P5's entry follows the work."""
    declare(gate_repo)
    gate_repo.stage()
    assert check(gate_repo) == (0, "", "")
    gate_repo.commit("declare")
    gate_repo.write(PROM, "x: 1\n")
    gate_repo.stage()
    code, out, _ = check(gate_repo)
    assert code == 1 and f"G003 {OPS1} has no valid ledger entry" in out
