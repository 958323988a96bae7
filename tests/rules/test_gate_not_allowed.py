"""NOT ALLOWED's scope: every change the gate judges is judged whole; 'applies_to: all' judges every change."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.register_assert_rewrite("conftest_gate")

from conftest import Repo  # noqa: E402
from conftest_gate import OPS1, PROM, Check, codes, operation  # noqa: E402
from opsgov_hooks.policy.config import default_policy  # noqa: E402
from opsgov_hooks.git.patches import AddedLine  # noqa: E402
from opsgov_hooks.rules.gate import forbidden_content  # noqa: E402

pytest_plugins = ["conftest_gate"]

AWS = "aws_access_key_id = AKIAIOSFODNN7EXAMPLE"
EVERYWHERE = """\
forbidden:
  - id: trading-logic
    message: no trading logic modifications
    paths: ["trading/**"]
    applies_to: all
  - id: secrets
    message: no secrets
    paths: ["**/*.pem"]
    secrets: true
    applies_to: all
  - id: firewall
    message: no firewall changes
    patterns: ['^\\s*iptables\\b']
"""


def _unrelated_change(repo: Repo) -> None:
    repo.write("trading/strategy.py", "def signal():\n    return 1\n")
    repo.write("deploy/server.pem", "not really a certificate\n")
    repo.write("app/settings.env", f"{AWS}\n")
    repo.write("app/setup.sh", "iptables -F\n")


def test_a_change_that_belongs_to_no_operation_is_not_judged_by_default(gate_repo: Repo, check: Check) -> None:
    base = gate_repo.head()
    _unrelated_change(gate_repo)
    gate_repo.stage()
    assert check(gate_repo) == (0, "", "")
    gate_repo.commit("unrelated")
    assert check(gate_repo, "--range", f"{base}..HEAD") == (0, "", "")


def test_a_change_that_belongs_to_an_operation_is_judged_whole(gate_repo: Repo, check: Check) -> None:
    """A governed path in it: every path and every added line, governed or not, against every rule."""
    base = gate_repo.head()
    operation(gate_repo, OPS1, ["ops/**", "trading/**", "deploy/**", "app/**"])
    gate_repo.write(PROM, "x: 1\n")
    _unrelated_change(gate_repo)
    gate_repo.commit(f"operation\n\nOps-Id: {OPS1}")
    code, out, _ = check(gate_repo, "--range", f"{base}..HEAD")
    assert code == 1
    assert sorted(codes(out)) == ["G006", "G006", "G007", "G008"]
    assert "app/settings.env:1:1: G008" in out and "app/setup.sh:1:1: G007" in out


def test_an_ops_id_trailer_alone_makes_the_commit_judged_whole(gate_repo: Repo, check: Check) -> None:
    operation(gate_repo, OPS1, ["ops/**", "trading/**"])
    gate_repo.commit(f"declare\n\nOps-Id: {OPS1}")
    base = gate_repo.head()
    gate_repo.write("trading/strategy.py", "x = 1\n")
    gate_repo.commit(f"touch trading logic\n\nOps-Id: {OPS1}")
    code, out, _ = check(gate_repo, "--range", f"{base}..HEAD")
    assert code == 1 and codes(out) == ["G006"] and out.startswith("trading/strategy.py:1:1: G006")


def test_applies_to_all_judges_every_commit(gate_repo: Repo, check: Check) -> None:
    gate_repo.write(".opsgov.yaml", EVERYWHERE)
    gate_repo.commit("configuration")
    base = gate_repo.head()
    _unrelated_change(gate_repo)
    gate_repo.commit("unrelated")
    code, out, _ = check(gate_repo, "--range", f"{base}..HEAD")
    assert code == 1
    # the firewall rule keeps the default scope: its line in an ungoverned commit is not judged
    assert [(line.split(": ")[0], line.split(": ")[1].split()[0]) for line in out.splitlines()[:-1]] == [
        ("app/settings.env:1:1", "G008"), ("deploy/server.pem:1:1", "G006"), ("trading/strategy.py:1:1", "G006")]


def test_applies_to_all_in_the_staged_check_and_its_fast_path(gate_repo: Repo, check: Check) -> None:
    """Black box: the console script's fast path never answers 'nothing to judge' for such a policy."""
    gate_repo.write(".opsgov.yaml", EVERYWHERE)
    gate_repo.commit("configuration")
    gate_repo.write("trading/strategy.py", "x = 1\n")
    gate_repo.stage()
    code, out, _ = check(gate_repo)
    assert code == 1 and codes(out) == ["G006"]
    script = os.path.join(os.path.dirname(sys.executable), "opsgov")
    for _ in range(2):  # the second run reads the rules the first one remembered
        proc = subprocess.run([script, "check"], cwd=gate_repo.path, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 1 and "trading/strategy.py:1:1: G006" in proc.stdout


def test_applies_to_is_validated(gate_repo: Repo, check: Check) -> None:
    gate_repo.write(".opsgov.yaml", "forbidden:\n  - id: x\n    message: y\n    paths: [a]\n    applies_to: some\n")
    gate_repo.commit("configuration")
    gate_repo.write("ops/a", "1\n")
    gate_repo.stage()
    code, _out, err = check(gate_repo)
    assert code == 2 and "applies_to" in err


@pytest.mark.parametrize("line", [
    'r.xadd("quantum:stream:trade.intent", {"side": "buy"})',
    "await redis.xadd('quantum:stream:apply.plan', fields)",
    'pipe.xadd(name="quantum:stream:ai.decision", fields={"a": 1})',
    'r.execute_command("XADD", "quantum:stream:trade.intent", "*", "a", 1)',
    "client.execute_command('xtrim', 'quantum:stream:ai.decision', 'MAXLEN', 0)",
    'r.delete(b"quantum:stream:trade.intent")',
    "redis-cli EVAL \"redis.call('XADD', KEYS[1], '*', 'a', 1)\" 1 quantum:stream:trade.intent",
    "redis-cli EVAL \"redis.call('XADD', 'quantum:stream:apply.plan', '*', 'a', 1)\" 0",
    "local id = redis.pcall('XADD', 'quantum:stream:ai.decision', '*', 'k', 'v')",
    "r.eval(SCRIPT, 1, 'quantum:stream:trade.intent')",
    "XADD quantum:stream:trade.intent * side buy",
    "redis-cli DEL quantum:stream:apply.plan",
])
def test_default_stream_rules_catch_client_writes(line: str) -> None:
    found = list(forbidden_content([AddedLine("ops/x.py", 1, line)], default_policy()))
    assert [f.code for f in found][:1] == ["G007"] and "(trading-streams)" in found[0].message


@pytest.mark.parametrize("line", [
    'r.xread({"quantum:stream:trade.intent": "0"})',
    "redis-cli XRANGE quantum:stream:apply.plan - +",
    "r.xlen('quantum:stream:ai.decision')",
    "# the settings of quantum:stream:trade.intent are documented elsewhere",
    'r.xadd("quantum:stream:other", {"a": 1})',
])
def test_default_stream_rules_leave_reads_alone(line: str) -> None:
    assert list(forbidden_content([AddedLine("ops/x.py", 1, line)], default_policy())) == []
