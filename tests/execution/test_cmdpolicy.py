"""Which services a command acts on, looking through wrappers and shells; NOT ALLOWED commands."""
from __future__ import annotations

import pytest

from opsgov_hooks.execution.cmdpolicy import simple_commands, split_script, violations, violations_for_text
from opsgov_hooks.policy.config import default_policy, policy_from_mapping

ALLOWED = ["prometheus", "grafana-server.service", "quantum-api"]
POLICY = default_policy()


def kinds(argv: list[str]) -> list[str]:
    return [f"{v.kind}: {v.message}" for v in violations(argv, ALLOWED, POLICY)]


@pytest.mark.parametrize("argv", [
    ["systemctl", "restart", "prometheus"], ["systemctl", "reload", "prometheus.service"],
    ["systemctl", "restart", "grafana-server"], ["systemctl", "--no-pager", "status", "nginx"],
    ["systemctl", "is-active", "redis"], ["systemctl"], ["systemctl", "daemon-reload"],
    ["journalctl", "-u", "nginx"], ["service", "nginx", "status"], ["service", "prometheus", "restart"],
    ["docker", "restart", "quantum-api"], ["docker", "logs", "-f", "redis"], ["docker", "compose", "ps"],
    ["docker", "-H", "tcp://x", "compose", "-f", "a.yml", "restart", "prometheus"], ["docker", "pull", "img:1"],
    ["docker", "run", "--rm", "--name", "quantum-api", "img"], ["docker", "exec", "quantum-api", "ls"],
    ["podman", "ps"], ["supervisorctl", "status"], ["supervisorctl", "restart", "quantum-api"],
    ["sudo", "-u", "root", "systemctl", "restart", "prometheus"], ["timeout", "30", "systemctl", "stop", "prometheus"],
    ["env", "-i", "A=1", "nice", "-n", "5", "systemctl", "start", "prometheus"],
    ["sh", "-c", "systemctl is-active nginx && systemctl restart prometheus 2>/dev/null | tee log"],
    ["bash", "-euo", "pipefail", "-c", "! journalctl -u x | grep -i error"],
    ["ssh", "-p", "2222", "vps", "systemctl", "reload", "prometheus"], ["curl", "-fsS", "http://localhost/health"],
])
def test_allowed(argv: list[str]) -> None:
    assert kinds(argv) == []


@pytest.mark.parametrize("argv,message", [
    (["systemctl", "restart", "nginx"], "`systemctl restart nginx` acts on service 'nginx'"),
    (["systemctl", "restart", "prometheus", "nginx.service"], "acts on service 'nginx.service'"),
    (["systemctl", "restart", "prom*"], "acts on service 'prom*'"),
    (["systemctl", "reboot"], "`systemctl reboot` acts on every service at once"),
    (["systemctl", "isolate", "rescue.target"], "acts on every service at once"),
    (["systemctl", "frobnicate", "prometheus"], "opsgov cannot tell which services"),
    (["service", "nginx", "restart"], "acts on service 'nginx'"),
    (["rc-service", "nginx", "restart"], "acts on service 'nginx'"),
    (["docker", "stop", "redis"], "acts on service 'redis'"),
    (["docker", "container", "rm", "-f", "redis"], "acts on service 'redis'"),
    (["docker", "run", "-d", "img"], "cannot tell which services `docker run -d img`"),
    (["docker", "compose", "up", "-d"], "acts on every service at once"),
    (["docker", "compose", "down"], "acts on every service at once"),
    (["docker", "compose", "restart", "redis"], "acts on service 'redis'"),
    (["docker", "service", "scale", "redis=3"], "acts on service 'redis'"),
    (["supervisorctl", "restart", "all"], "acts on every service at once"),
    (["supervisorctl", "stop", "worker:*"], "acts on service 'worker:*'"),
    (["sudo", "-E", "systemctl", "stop", "nginx"], "`systemctl stop nginx` acts on service 'nginx'"),
    (["/usr/bin/systemctl", "restart", "nginx"], "acts on service 'nginx'"),
    (["sh", "-c", "systemctl restart prometheus; systemctl restart nginx"], "`systemctl restart nginx`"),
    (["su", "-c", "service nginx reload", "root"], "acts on service 'nginx'"),
    (["ssh", "vps", "sudo systemctl restart nginx"], "`systemctl restart nginx`"),
    (["sh", "-c", "systemctl restart 'nginx"], "cannot read the shell script"),
])
def test_refused(argv: list[str], message: str) -> None:
    found = kinds(argv)
    assert len(found) == 1 and found[0].startswith("service: ") and message in found[0]


@pytest.mark.parametrize("argv", [
    ["redis-cli", "XADD", "quantum:stream:trade.intent", "*", "a", "1"],
    ["redis-cli", "-h", "r", "xadd", "quantum:stream:apply.plan", "*", "a", "1"],
    ["sh", "-c", "redis-cli DEL quantum:stream:ai.decision"], ["iptables", "-F"], ["sudo", "ufw", "allow", "22"],
])
def test_forbidden(argv: list[str]) -> None:
    found = kinds(argv)
    assert len(found) == 1 and found[0].startswith("forbidden: ")


def test_reading_a_trading_stream_is_allowed() -> None:
    assert kinds(["redis-cli", "XLEN", "quantum:stream:trade.intent"]) == []


def test_forbidden_commands_come_from_the_config() -> None:
    policy = policy_from_mapping({"forbidden": [{"id": "db", "message": "no schema drops", "patterns": ["x"],
                                                 "commands": [r"(?i)\bdrop\s+table\b"]}]}, ".opsgov.yaml")
    assert [v.message for v in violations(["psql", "-c", "DROP TABLE t"], [], policy)] == [
        "`psql -c 'DROP TABLE t'` breaks the NOT ALLOWED rule 'db': no schema drops"]
    assert violations(["iptables", "-F"], [], policy) == []


def test_service_commands_come_from_the_config() -> None:
    policy = policy_from_mapping({"service_commands": ["pm2"]}, ".opsgov.yaml")
    assert [v.message for v in violations(["pm2", "restart", "api"], ["web"], policy)] == [
        "`pm2 restart api` acts on service 'api', which is not in ALLOWED_SERVICES (web)"]
    assert violations(["pm2", "logs", "api"], ["web"], policy) == []
    assert violations(["systemctl", "restart", "x"], ["web"], policy) == []


def test_recorded_text_is_split_like_a_shell_would() -> None:
    assert [v.kind for v in violations_for_text("sudo systemctl restart 'nginx'", ALLOWED, POLICY)] == ["service"]
    # A recorded line that does not tokenise cannot be read: refused (fail safe).
    assert [v.kind for v in violations_for_text("echo 'unbalanced", ALLOWED, POLICY)] == ["opaque"]


def test_script_splitting() -> None:
    assert split_script("a 1 && b 2 || c; d | e 2>/dev/null > out\nf") == [
        ["a", "1"], ["b", "2"], ["c"], ["d"], ["e"], ["f"]]
    assert list(simple_commands(["sudo", "-u", "x", "env", "K=V", "sh", "-c", "timeout -s KILL 5 a b"])) == [
        ["a", "b"]]
