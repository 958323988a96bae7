"""The secret scan: detect-secrets line by line, its filters and baseline, nothing parsed or expanded."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytest.register_assert_rewrite("conftest_gate")

from conftest import Repo  # noqa: E402
from conftest_gate import OPS1, PROM, Check, codes, operation  # noqa: E402

pytest_plugins = ["conftest_gate"]

PINNED = "4d2f9f3c8b1e0a7d6c5b4a39281706f5e4d3c2b1"      # a commit of some other repository
AWS_LINE = "aws_access_key_id = AKIAIOSFODNN7EXAMPLE"
PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1\n-----END RSA PRIVATE KEY-----\n"
JSONNET_LOCK = json.dumps({"version": 1, "dependencies": [
    {"source": {"git": {"remote": "https://example.org/kube-prometheus.git", "subdir": "jsonnet"}},
     "version": PINNED, "sum": "Q8dYCxQmw6H0Cl7ki3C3Vse5OeIuB5FDHq6aNGTC4Gc="},
    {"source": {"git": {"remote": "https://example.org/grafonnet.git", "subdir": "gen"}},
     "version": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", "sum": "zqf3fcqNDDRtSEVmQLkkGkTE/HVCsyEGGBvv+dp1UVE="},
]}, indent=2) + "\n"
PRE_COMMIT = (f"repos:\n  - repo: https://example.org/pre-commit-hooks\n    rev: {PINNED}\n    hooks:\n      - id: x\n"
              f"  - repo: https://example.org/other\n    rev: \"9f8e7d6c5b4a39281706f5e4d3c2b1a0f1e2d3c4\"\n")


def _g008(out: str) -> list[str]:
    return [line.split(": G008", 1)[0] for line in out.splitlines() if " G008 " in line]


def test_pinned_ids_are_not_secrets_while_real_keys_still_are(gate_repo: Repo, check: Check) -> None:
    operation(gate_repo, OPS1, ["ops/**"])
    gate_repo.write("ops/monitoring/jsonnetfile.lock.json", JSONNET_LOCK)
    gate_repo.write("ops/.pre-commit-config.yaml", PRE_COMMIT)
    gate_repo.write("ops/monitoring/go.sum", "golang.org/x/net v0.0.1 h1:Q8dYCxQmw6H0Cl7ki3C3Vse5OeIuB5FDHq6aNGTC4Gc=\n")
    gate_repo.write("ops/monitoring/exporter.conf", f"region = eu-west-1\n{AWS_LINE}\n")
    gate_repo.write("ops/monitoring/tls/key.txt", PRIVATE_KEY)
    gate_repo.stage()
    code, out, _ = check(gate_repo)
    assert code == 1
    assert _g008(out) == ["ops/monitoring/exporter.conf:2:1", "ops/monitoring/tls/key.txt:1:1"]
    assert "AWS Access Key" in out and "Private Key" in out


def test_a_key_in_a_lock_file_of_another_ecosystem_is_still_found(gate_repo: Repo, check: Check) -> None:
    """opsgov's lock-file filter silences the entropy detectors only; a key's own shape is still a key."""
    operation(gate_repo, OPS1, ["ops/**"])
    gate_repo.write("ops/jsonnetfile.lock.json", '{"token": "AKIAIOSFODNN7EXAMPLE"}\n')
    gate_repo.stage()
    code, out, _ = check(gate_repo)
    assert code == 1 and _g008(out) == ["ops/jsonnetfile.lock.json:1:1"] and "AWS Access Key" in out


def test_a_hex_secret_under_an_ordinary_name_is_still_a_secret(gate_repo: Repo, check: Check) -> None:
    operation(gate_repo, OPS1, ["ops/**"])
    gate_repo.write("ops/app.yaml", f"api_token: {PINNED}\n")
    gate_repo.stage()
    code, out, _ = check(gate_repo)
    assert code == 1 and _g008(out) == ["ops/app.yaml:1:1"] and "Hex High Entropy String" in out


def _bomb(levels: int) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels + 1):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_a_few_lines_like_any_other(gate_repo: Repo, check: Check,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """No structure is parsed in the scan: detect-secrets' file transformers are never asked."""
    import detect_secrets.transformers

    def refuse(*_args: object, **_kwargs: object) -> object:
        raise AssertionError("the secret scan parsed a file")

    monkeypatch.setattr(detect_secrets.transformers, "get_transformed_file", refuse)
    operation(gate_repo, OPS1, ["ops/**"])
    gate_repo.write("ops/monitoring/bomb.yaml", _bomb(9))
    gate_repo.stage()
    assert check(gate_repo) == (0, "", "")


def test_an_alias_bomb_in_a_range_ends_in_a_child_process(gate_repo: Repo) -> None:
    """The 9-level bomb that ran for minutes: a black-box run of the CLI (60 s is a hang guard, not a timing)."""
    base = gate_repo.head()
    operation(gate_repo, OPS1, ["ops/**"])
    gate_repo.write("ops/monitoring/bomb.yaml", _bomb(9))
    gate_repo.commit(f"bomb\n\nOps-Id: {OPS1}")
    proc = subprocess.run([sys.executable, "-m", "opsgov_hooks", "check", "--range", f"{base}..HEAD"],
                          cwd=gate_repo.path, capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout) == (0, "")


def test_a_long_line_is_scanned_whole(gate_repo: Repo, check: Check) -> None:
    operation(gate_repo, OPS1, ["ops/**"])
    gate_repo.write("ops/monitoring/dashboard.json", '{"panels": "' + "x " * 60_000 + AWS_LINE + '"}\n')
    gate_repo.stage()
    code, out, _ = check(gate_repo)
    assert code == 1 and _g008(out) == ["ops/monitoring/dashboard.json:1:1"]


def test_inline_allowlist_pragmas(gate_repo: Repo, check: Check) -> None:
    operation(gate_repo, OPS1, ["ops/**"])
    gate_repo.write("ops/monitoring/exporter.conf",
                    f"{AWS_LINE}  # pragma: allowlist secret\n# pragma: allowlist nextline secret\n{AWS_LINE}\n")
    gate_repo.stage()
    assert check(gate_repo) == (0, "", "")


def _baseline(path: str, secret: str, kind: str = "AWS Access Key", evil: str = "/nonexistent/evil.py") -> str:
    from detect_secrets.core.potential_secret import PotentialSecret

    return json.dumps({"version": "1.5.0", "plugins_used": [{"name": "AWSKeyDetector"}, {"name": "PrivateKeyDetector"}],
                       "filters_used": [{"path": "detect_secrets.filters.allowlist.is_line_allowlisted"},
                                        {"path": f"file://{evil}::run"}],
                       "results": {path: [{"type": kind, "filename": path, "hashed_secret":
                                           PotentialSecret.hash_secret(secret), "is_verified": False,
                                           "line_number": 1}]}}, indent=2) + "\n"


def test_the_trusted_baseline_is_honoured(gate_repo: Repo, check: Check) -> None:
    """Its known secrets are not new, and its plugin list is the scan's (no entropy detector here);
    a filter it names by file path is repository code, never run."""
    marker = gate_repo.path.parent / "evil-ran"
    evil = gate_repo.write("evil.py", f"open({str(marker)!r}, 'w').close()\ndef run(secret): return True\n")
    gate_repo.write(".secrets.baseline", _baseline("ops/monitoring/exporter.conf", "AKIAIOSFODNN7EXAMPLE",
                                                   evil=str(evil)))
    gate_repo.commit("the team's baseline")
    base = gate_repo.head()
    operation(gate_repo, OPS1, ["ops/**"])
    gate_repo.write("ops/monitoring/exporter.conf", f"{AWS_LINE}\nhash = '{PINNED[:32]}'\n")
    gate_repo.write("ops/monitoring/other.conf", f"{AWS_LINE}\n")
    gate_repo.commit(f"change\n\nOps-Id: {OPS1}")
    code, out, _ = check(gate_repo, "--range", f"{base}..HEAD")
    assert code == 1 and _g008(out) == ["ops/monitoring/other.conf:1:1"]
    assert not marker.exists()


def test_a_baseline_the_change_brings_does_not_judge_it(gate_repo: Repo, check: Check) -> None:
    base = gate_repo.head()
    operation(gate_repo, OPS1, ["ops/**"])
    gate_repo.write(".secrets.baseline", _baseline("ops/monitoring/exporter.conf", "AKIAIOSFODNN7EXAMPLE"))
    gate_repo.write("ops/monitoring/exporter.conf", f"{AWS_LINE}\n")
    gate_repo.commit(f"change\n\nOps-Id: {OPS1}")
    code, out, _ = check(gate_repo, "--range", f"{base}..HEAD")
    assert code == 1 and _g008(out) == ["ops/monitoring/exporter.conf:1:1"]


def test_a_broken_trusted_baseline_is_an_environment_error(gate_repo: Repo, check: Check) -> None:
    gate_repo.write(".secrets.baseline", "{not json\n")
    gate_repo.commit("broken baseline")
    operation(gate_repo, OPS1, ["ops/**"])
    gate_repo.write("ops/monitoring/exporter.conf", "x = 1\n")
    gate_repo.stage()
    code, out, err = check(gate_repo)
    assert code == 2 and out == ""
    assert ".secrets.baseline at commit" in err and "detect-secrets scan > .secrets.baseline" in err


def test_detect_secrets_loads_only_for_lines_to_scan(gate_repo: Repo) -> None:
    """A governed change that adds no line (a deletion) never imports detect-secrets or requests."""
    operation(gate_repo, OPS1, ["ops/**"])
    gate_repo.write("ops/monitoring/old.conf", "x = 1\n")
    gate_repo.commit(f"add\n\nOps-Id: {OPS1}")
    gate_repo.git("rm", "-q", "ops/monitoring/old.conf")
    probe = ("import sys\nfrom opsgov_hooks.cli import main\ncode = main(['check'])\n"
             "print(code, 'detect_secrets' in sys.modules, 'requests' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", probe], cwd=gate_repo.path, capture_output=True, text=True,
                          timeout=120)
    assert proc.stdout.split()[-3:] == ["0", "False", "False"], proc.stderr
    gate_repo.write("ops/monitoring/new.conf", "x = 2\n")
    gate_repo.stage()
    proc = subprocess.run([sys.executable, "-c", probe], cwd=gate_repo.path, capture_output=True, text=True,
                          timeout=120)
    assert proc.stdout.split()[-3:-1] == ["0", "True"], proc.stderr


def test_a_line_seen_before_is_answered_the_same_and_a_pragma_only_covers_its_own_next_line(
        gate_repo: Repo, check: Check) -> None:
    """Each distinct line is scanned once per run; the answer is shared, a pragma's is not."""
    base = gate_repo.head()
    operation(gate_repo, OPS1, ["ops/**"])
    gate_repo.write("ops/a.conf", f"# pragma: allowlist nextline secret\n{AWS_LINE}\n")
    gate_repo.commit(f"first\n\nOps-Id: {OPS1}")
    first = gate_repo.git("rev-parse", "--short=12", "HEAD").strip()
    gate_repo.write("ops/a.conf", f"# pragma: allowlist nextline secret\n{AWS_LINE}\nx = 1\n{AWS_LINE}\n")
    gate_repo.write("ops/b.conf", f"{AWS_LINE}\n{AWS_LINE}\n")
    gate_repo.commit(f"second\n\nOps-Id: {OPS1}")
    second = gate_repo.git("rev-parse", "--short=12", "HEAD").strip()
    code, out, _ = check(gate_repo, "--range", f"{base}..HEAD")
    assert code == 1
    assert _g008(out) == ["ops/a.conf:4:1", "ops/b.conf:1:1", "ops/b.conf:2:1"]
    assert first not in out and out.count(f"(commit {second})") == 3


SAMPLES = [
    AWS_LINE, "aws_secret_access_key = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'", "-----BEGIN OPENSSH PRIVATE KEY-----",
    'password = "hunter2hunter2"', 'DB_PASS: "Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4OTA="', "token: 'ghp_" + "a" * 36 + "'",
    'slack = "xoxb-123456789012-1234567890123-abcdefghijABCDEFGHIJabcd"',
    "jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'",
    'hex = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"', "url = 'https://user:s3cr3tpass@example.org/x'",
    'key = "sk_live_' + "4eC39HqLyjWDarjtT1zdp7dc" + '"', '"title": "svc panel 3 (v7)"', "x = 1",
]


def test_the_screen_passes_every_line_detect_secrets_reports() -> None:
    """The screen only spares detect-secrets lines it cannot report anything in (checked on the lines it does)."""
    from detect_secrets.core.scan import scan_line

    from opsgov_hooks.rules import secrets

    session = secrets._session(None)
    reported = 0
    for line in SAMPLES:
        if list(scan_line(line)):
            reported += 1
            assert session.could_hold_secret(line), line
    assert reported >= 10
    assert not session.could_hold_secret('"title": "svc panel 3 (v7)"') and not session.could_hold_secret("x = 1")
