"""The secret screen kept between runs: it screens as the library would, and a change whose lines
cannot hold a secret is answered without loading detect-secrets (a line that can is still scanned)."""
from __future__ import annotations

import json
import marshal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytest.register_assert_rewrite("conftest_gate")

from conftest import Repo  # noqa: E402
from conftest_gate import OPS1, operation  # noqa: E402

from opsgov_hooks.rules import secret_screen, secrets  # noqa: E402
from opsgov_hooks.speed.screens import installation, screen_key  # noqa: E402
from opsgov_hooks.git.patches import AddedLine  # noqa: E402

pytest_plugins = ["conftest_gate"]

AWS_LINE = "aws_access_key_id = AKIAIOSFODNN7EXAMPLE"
LINES = [
    AWS_LINE, "aws_secret_access_key = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'", "-----BEGIN OPENSSH PRIVATE KEY-----",
    'password = "hunter2hunter2"', 'DB_PASS: "Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4OTA="', "token: 'ghp_" + "a" * 36 + "'",
    'slack = "xoxb-123456789012-1234567890123-abcdefghijABCDEFGHIJabcd"', "BEGIN RSA PRIVATE KEY",
    "jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U'",
    'hex = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"', "url = 'https://user:s3cr3tpass@example.org/x'",
    'key = "sk_live_' + "4eC39HqLyjWDarjtT1zdp7dc" + '"', '"title": "svc panel 3 (v7)"', "x = 1", "replicas: 3",
    "# was 2", "image: registry.example.org/app:v1.2.3", "PASSWORD=", "Password: x", "  - name: api_key",
    "xoxp", "akia", "AKIA", "'" + "ab12" * 8 + "'", '"' + "Zm9v" * 7 + '"', "\u2028 contraseña = 'x'",
]


class Memo:
    """A screen memo kept in a dict, marshalled as the cache stores it."""

    def __init__(self) -> None:
        self.rows: dict[str, bytes] = {}

    def get(self, plugins_used: Any) -> Any:
        key = json.dumps(plugins_used)
        return marshal.loads(self.rows[key]) if key in self.rows else None

    def put(self, plugins_used: Any, spec: secret_screen.Spec) -> None:
        self.rows[json.dumps(plugins_used)] = marshal.dumps(spec)


def test_a_kept_description_screens_every_line_as_the_library_built_one_does() -> None:
    session = secrets._session(None)
    kept = secret_screen.tests_of(marshal.loads(marshal.dumps(session.spec)))
    assert kept is not None and len(kept) == len(session.screen or [])
    for line in LINES:
        assert any(t(line) for t in kept) == session.could_hold_secret(line), line
    assert not session.could_hold_secret("replicas: 3") and session.could_hold_secret(AWS_LINE)


@pytest.mark.parametrize("spec", [(), ("any",), (("any", (), ()),), (("quoted", "(", 0, 3),), (("nope", 1, 2, 3),),
                                  "text", ((1, 2, 3, 4),)])
def test_a_description_describe_never_writes_is_refused(spec: Any) -> None:
    with pytest.raises((TypeError, ValueError, IndexError, secret_screen.re.error)):
        secret_screen.tests_of(spec)


def test_the_key_changes_with_the_installation_and_the_baseline_plugins() -> None:
    here = installation()
    assert here is not None and "plugins/aws.py:" in here
    keys = {screen_key(here, None), screen_key(here + "x", None), screen_key(here, [{"name": "AWSKeyDetector"}])}
    assert len(keys) == 3 and screen_key(None, None) is None


def _python(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def _run_with_memo(rows: Path, lines: list[tuple[str, str]]) -> dict[str, Any]:
    """find_secrets in a fresh interpreter with a memo kept in ``rows`` (a JSON file of hex marshal bytes)."""
    out = _python(f"""
        import json, marshal, sys
        from pathlib import Path
        from opsgov_hooks.git.patches import AddedLine
        from opsgov_hooks.rules.secrets import find_secrets
        rows = Path({str(rows)!r})
        kept = json.loads(rows.read_text()) if rows.exists() else {{}}
        class Memo:
            def get(self, plugins):
                key = json.dumps(plugins)
                return marshal.loads(bytes.fromhex(kept[key])) if key in kept else None
            def put(self, plugins, spec):
                kept[json.dumps(plugins)] = marshal.dumps(spec).hex()
        lines = [AddedLine(path, n, text) for n, (path, text) in enumerate({lines!r}, 1)]
        found = find_secrets(lines, lambda names: set(), screens=Memo())
        rows.write_text(json.dumps(kept))
        print(json.dumps({{"found": sorted(kind for _line, kind in found),
                           "loaded": "detect_secrets" in sys.modules, "rows": len(kept)}}))
    """)
    return json.loads(out)  # type: ignore[no-any-return]


def test_lines_that_cannot_hold_a_secret_are_answered_without_detect_secrets(tmp_path: Path) -> None:
    rows = tmp_path / "rows.json"
    plain = [("ops/app.yaml", "replicas: 3"), ("ops/app.yaml", "# scaled for the launch")]
    first = _run_with_memo(rows, plain)
    assert first == {"found": [], "loaded": True, "rows": 1}     # first run: built from the library, kept
    assert _run_with_memo(rows, plain) == {"found": [], "loaded": False, "rows": 1}
    # A line that passes the screen is scanned by the library, kept screen or not.
    assert _run_with_memo(rows, [*plain, ("ops/app.conf", AWS_LINE)]) == \
        {"found": ["AWS Access Key"], "loaded": True, "rows": 1}
    # So is a line next to an 'allowlist nextline' pragma.
    pragma = [("ops/app.conf", "# pragma: allowlist nextline secret"), ("ops/app.conf", "replicas: 3")]
    assert _run_with_memo(rows, pragma)["loaded"] is True


def test_a_kept_description_that_does_not_build_is_rebuilt_from_the_library(tmp_path: Path) -> None:
    rows = tmp_path / "rows.json"
    _run_with_memo(rows, [("ops/a.yaml", "x: 1")])
    kept = json.loads(rows.read_text())
    (key,) = kept
    for forged in [("unknown",), (("any", 1, 2),), "not a screen"]:
        rows.write_text(json.dumps({key: marshal.dumps(forged).hex()}))
        result = _run_with_memo(rows, [("ops/a.conf", AWS_LINE), ("ops/a.yaml", "x: 1")])
        assert result == {"found": ["AWS Access Key"], "loaded": True, "rows": 1}
        assert json.loads(rows.read_text())[key] == kept[key]   # the good description is written back


def test_a_governed_commit_with_nothing_to_scan_stays_free_of_detect_secrets(gate_repo: Repo) -> None:
    """Black box: the CLI in a fresh interpreter; the screen kept in the clone's cache by the first run."""
    operation(gate_repo, OPS1, ["ops/**"])
    gate_repo.commit("declare")
    script = f"""
        import sys
        from opsgov_hooks.cli import main
        sys.argv = ["opsgov", "check", "-C", {str(gate_repo.path)!r}]
        try:
            code = main()
        except SystemExit as exc:
            code = exc.code
        print("exit", code, "loaded", "detect_secrets" in sys.modules)
    """
    gate_repo.write("ops/app.yaml", "replicas: 3\n")
    gate_repo.stage()
    assert _python(script).splitlines()[-1] == "exit 0 loaded True"
    assert _python(script).splitlines()[-1] == "exit 0 loaded False"
    gate_repo.write("ops/app.conf", AWS_LINE + "\n")
    gate_repo.stage()
    out = _python(script)
    assert "G008" in out and out.splitlines()[-1] == "exit 1 loaded True"
    assert list((Path(gate_repo.path) / ".git" / "opsgov-cache").glob("scan-*.sqlite"))


def test_a_baseline_s_plugins_are_the_memo_s_key() -> None:
    """In-process: the screen is kept for the plugins a baseline configures (None: every plugin)."""
    secrets._close()   # as in a new process: detect-secrets not configured yet, so the memo is asked
    memo = Memo()
    lines = [AddedLine("ops/a.yaml", 1, "replicas: 3")]
    assert secrets.find_secrets(lines, lambda names: set(), screens=memo) == []
    only_aws = secrets.Baseline({"filters_used": [], "plugins_used": [{"name": "AWSKeyDetector"}]}, frozenset())
    assert secrets.find_secrets(lines, lambda names: set(), lambda: only_aws, screens=memo) == []
    assert sorted(memo.rows) == ['[{"name": "AWSKeyDetector"}]', "null"]
    only = secret_screen.tests_of(memo.get([{"name": "AWSKeyDetector"}]))
    assert only is not None and any(t(AWS_LINE) for t in only) and not any(t('password = "hunter2x"') for t in only)
    found = secrets.find_secrets([AddedLine("ops/a.conf", 1, AWS_LINE)], lambda names: set(), screens=memo)
    assert [kind for _line, kind in found] == ["AWS Access Key"]


def test_once_detect_secrets_is_loaded_the_kept_screen_is_not_asked_again() -> None:
    """A range: the first commit with a line to scan loads the library; later commits go straight to
    its own screen (with its per-line memo), never through the kept one again."""
    secrets._close()

    class Counting(Memo):
        asked = 0

        def get(self, plugins_used: Any) -> Any:
            Counting.asked += 1
            return super().get(plugins_used)

    memo = Counting()
    quiet = [AddedLine("ops/a.yaml", 1, "replicas: 3")]
    assert secrets.find_secrets(quiet, lambda names: set(), screens=memo) == []       # builds and keeps
    assert secrets.find_secrets(quiet, lambda names: set(), screens=memo) == []
    assert Counting.asked == 1
    secrets._close()
    assert secrets.find_secrets(quiet, lambda names: set(), screens=memo) == []       # kept: screened out
    assert Counting.asked == 2 and not secrets._SESSION
    found = secrets.find_secrets([AddedLine("ops/a.conf", 1, AWS_LINE)], lambda names: set(), screens=memo)
    assert [kind for _line, kind in found] == ["AWS Access Key"] and secrets._SESSION
    assert secrets.find_secrets(quiet, lambda names: set(), screens=memo) == [] and Counting.asked == 3
