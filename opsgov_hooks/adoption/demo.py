"""``opsgov demo``: one whole operation lifecycle in a throwaway repository, with real git and the real CLI.

Every step is a real process (``git`` or ``opsgov``), printed as the command a user
would type, with its output and exit code. The demo checks each exit code against
what the step is meant to show, so it doubles as an end-to-end smoke test: a
step that does not behave stops the demo with exit code 1.

The only stand-in is Prometheus: a small HTTP server on 127.0.0.1 answers its
``/-/healthy`` endpoint, so the verification gate gets real functional evidence.
"""
from __future__ import annotations

import dataclasses
import datetime
import http.server
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from opsgov_hooks.findings import UsageError

PROMETHEUS = "ops/monitoring/prometheus.yml"
REQUESTER = ("Alice Operator", "alice@example.com")
APPROVER = "bob@example.com"
_CURL = shutil.which("curl") is not None   # the functional probe: curl -fsS, else Python's urllib
REPORT = {
    "<!-- One paragraph: what was done, and the outcome. -->":
        "Raised Prometheus' scrape_interval from 15s to 30s to halve scrape load; Prometheus stayed healthy.",
    "<!-- Files and services changed. -->": f"- {PROMETHEUS} (scrape_interval)\n- services: none restarted",
    "<!-- The key outputs that prove the result. -->": "- /-/healthy answered 'Prometheus Server is Healthy.'",
    "<!-- The residual risk. -->": "Low: dashboards refresh at most 30 s later.",
    "<!-- What to do next, bounded. -->": "- Watch the scrape duration panel for one day.",
}


class DemoFailed(Exception):
    pass


@dataclasses.dataclass
class Demo:
    repo: str
    out: TextIO
    env: dict[str, str]
    count: int = 0

    def say(self, text: str) -> None:
        self.count += 1
        self.out.write(f"\n[{self.count}] {text}\n")

    def git(self, *args: str, expect: int = 0, show: bool = True) -> str:
        return self._run(["git", *args], ["git", *args], expect, show)

    def opsgov(self, *args: str, expect: int = 0) -> str:
        return self._run([sys.executable, "-m", "opsgov_hooks", *args], ["opsgov", *args], expect, True)

    def _run(self, argv: list[str], shown: list[str], expect: int, show: bool) -> str:
        proc = subprocess.run(argv, cwd=self.repo, env=self.env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
        output = (proc.stdout + proc.stderr).rstrip("\n")
        if show:
            self.out.write(f"$ {shlex.join(shown)}\n")
            if output:
                self.out.write("".join(f"    {line}\n" for line in output.splitlines()))
            self.out.write(f"    (exit {proc.returncode})\n")
        if proc.returncode != expect:
            raise DemoFailed(f"'{shlex.join(shown)}' exited {proc.returncode}, expected {expect}:\n{output}")
        return proc.stdout

    def write(self, rel: str, text: str) -> None:
        path = os.path.join(self.repo, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


def run_demo(keep: str | None, out: TextIO) -> int:
    if shutil.which("git") is None:
        raise UsageError("git is not installed or not on PATH; install git and run again")
    root = keep or tempfile.mkdtemp(prefix="opsgov-demo-")
    if keep and os.path.exists(keep) and os.listdir(keep):
        raise UsageError(f"{keep} is not empty: give --dir a new or empty folder")
    os.makedirs(root, exist_ok=True)
    demo = Demo(root, out, _environment())
    try:
        with _stand_in_prometheus() as health_url:
            _walk(demo, health_url)
    except DemoFailed as exc:
        out.write(f"\nopsgov demo: a step did not behave as it should:\n{exc}\n")
        return 1
    finally:
        if keep is None:
            shutil.rmtree(root, ignore_errors=True)
    where = f"The repository is kept in {root}." if keep else "The throwaway repository has been removed."
    out.write(f"\nDone: declared, scoped, recorded, verified, closed and rolled back. {where}\n")
    return 0


def _environment() -> dict[str, str]:
    """The user's environment, minus anything that could make git prompt, sign or open an editor."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(GIT_TERMINAL_PROMPT="0", GIT_EDITOR="true", GIT_CONFIG_NOSYSTEM="1",
               GIT_AUTHOR_NAME=REQUESTER[0], GIT_AUTHOR_EMAIL=REQUESTER[1],
               GIT_COMMITTER_NAME=REQUESTER[0], GIT_COMMITTER_EMAIL=REQUESTER[1], NO_COLOR="1")
    env.pop("GITHUB_ACTIONS", None)
    return env


def _walk(demo: Demo, health_url: str) -> None:
    _adopt(demo)
    since = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    op_id = _blocked_then_declared(demo)
    _execute(demo, op_id, health_url)
    base = _record_and_commit(demo, op_id)
    _close(demo, op_id, base)
    _roll_back(demo, op_id, base, since)


def _adopt(demo: Demo) -> None:
    demo.say("A repository with a Prometheus config under ops/ adopts Ops Governor: 'opsgov init' writes the "
             "policy, folders and templates, and records the adoption itself as an operation.")
    demo.git("init", "-q", "-b", "main")
    for key, value in (("user.name", REQUESTER[0]), ("user.email", REQUESTER[1]), ("commit.gpgsign", "false"),
                       ("tag.gpgsign", "false")):
        demo.git("config", key, value, show=False)
    demo.write(PROMETHEUS, "global:\n  scrape_interval: 15s\n")
    demo.git("add", "-A", show=False)
    demo.git("commit", "-q", "-m", "Prometheus config", show=False)
    printed = demo.opsgov("init")
    op_id = printed.split("The adoption is operation ", 1)[1].split(":", 1)[0]
    if not _CURL:
        _count_the_probe_as_evidence(demo)
    demo.git("add", "--", ".opsgov", ".opsgov.yaml", ".pre-commit-config.yaml", "docs", "ops")
    demo.opsgov("check", "--staged")
    demo.git("commit", "-q", "-m", "Adopt Ops Governor", "-m", f"Ops-Id: {op_id}")
    demo.opsgov("tag", op_id)
    # The audit report covers the operations' period, which starts after the adoption commit.
    time.sleep(1.0 - datetime.datetime.now(datetime.timezone.utc).microsecond / 1e6)


def _count_the_probe_as_evidence(demo: Demo) -> None:
    """Without curl the probe is Python's urllib: the policy says it counts as functional evidence, and
    allows inline code, which opsgov cannot read and otherwise refuses (opaque_commands)."""
    path = os.path.join(demo.repo, ".opsgov.yaml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = text.replace("\n  functional:\n", "\n  functional:\n    - urllib\\.request\\.urlopen\n", 1)
    demo.write(".opsgov.yaml", text.replace("opaque_commands: refuse", "opaque_commands: allow", 1))
    demo.out.write("    (no curl here: edited .opsgov.yaml so the demo's urllib probe counts as functional evidence, "
                   "and is allowed although opsgov cannot read inline code)\n")


def _blocked_then_declared(demo: Demo) -> str:
    demo.say("An operator changes the Prometheus config under ops/ without declaring an operation: blocked.")
    demo.write(PROMETHEUS, "global:\n  scrape_interval: 20s\n")
    demo.git("add", PROMETHEUS)
    demo.opsgov("check", "--staged", expect=1)
    demo.git("checkout", "-q", "HEAD", "--", PROMETHEUS, show=False)

    demo.say("The operation is declared: name, objective, risk class, blast radius, rollback, allowed paths and "
             "services.")
    printed = demo.opsgov("new", "--name", "Tune Prometheus scrape interval", "--objective",
                          "Halve scrape load on the node exporters", "--risk", "LOW_RISK_CONFIG", "--blast-radius",
                          "Prometheus metrics freshness only", "--rollback", "git revert the change commit",
                          "--path", "ops/monitoring/**", "--service", "prometheus")
    return printed.split()[0]


def _execute(demo: Demo, op_id: str, health_url: str) -> None:
    probe = (f"curl -fsS {health_url}" if _CURL else
             f"{shlex.quote(sys.executable)} -c 'import sys, urllib.request; "
             f"print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' {health_url}")
    demo.say("A step outside the declared services is refused before it runs (HALT).")
    demo.opsgov("run", op_id, "--", "systemctl", "restart", "grafana-server", expect=2)

    demo.say("Each step runs through 'opsgov run': the command, then its verification, logged with a UTC "
             "timestamp.")
    demo.opsgov("run", op_id, "--verify", f"grep -q 'scrape_interval: 30s' {PROMETHEUS}", "--verify", probe,
                "--", "sed", "-i", "s/scrape_interval: 15s/scrape_interval: 30s/", PROMETHEUS)

    demo.say("The operator writes the report (section 5 of the runbook): the five sections of the standard.")
    path = os.path.join(demo.repo, "ops", "operations", f"{op_id}.md")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for placeholder, filled in REPORT.items():
        text = text.replace(placeholder, filled, 1)
    demo.write(f"ops/operations/{op_id}.md", text)
    demo.out.write(f"    (edited ops/operations/{op_id}.md: EXEC SUMMARY, CHANGES MADE, VERIFICATION EVIDENCE, "
                   "RISK ASSESSMENT, NEXT SAFE ACTIONS)\n")


def _record_and_commit(demo: Demo, op_id: str) -> str:
    base = demo.git("rev-parse", "HEAD", show=False).strip()
    demo.say("The sign-off goes into the ledger (P5): requester, approver, timestamps, rollback reference.")
    demo.opsgov("ledger", "record", op_id, "--approved-by", APPROVER, "--approval-timestamp", "now",
                "--execution-timestamp", "now", "--changes-summary", "scrape_interval 15s -> 30s",
                "--rollback-ref", base[:12])
    demo.say("Now the same change passes the gate, and is committed with its Ops-Id trailer.")
    demo.git("add", "-A")
    demo.opsgov("check", "--staged")
    demo.git("commit", "-q", "-m", "Tune Prometheus scrape interval", "-m", f"Ops-Id: {op_id}")
    return base


def _close(demo: Demo, op_id: str, base: str) -> None:
    demo.say("CI judges the pull request's range with the policy of its base.")
    demo.opsgov("check", "--range", f"{base[:12]}..HEAD")
    demo.say("The operation is closed: an annotated tag seals its ledger entry.")
    demo.opsgov("tag", op_id)
    demo.git("tag", "-n1", "--list", "ops-*")
    demo.say("A closed operation gives no further permit: another edit under its paths is blocked.")
    demo.write(PROMETHEUS, "global:\n  scrape_interval: 45s\n")
    demo.git("add", PROMETHEUS)
    demo.opsgov("check", "--staged", expect=1)
    demo.git("checkout", "-q", "HEAD", "--", PROMETHEUS, show=False)


def _roll_back(demo: Demo, op_id: str, base: str, since: str) -> None:
    demo.say("Later the change is rolled back to its rollback_ref; the ledger keeps the approval and adds the "
             "rollback (append-only).")
    demo.git("checkout", base[:12], "--", PROMETHEUS)
    demo.opsgov("ledger", "rollback", op_id, "--at", "now", "--evidence",
                "scrape_interval back to 15s; /-/healthy answered 'Prometheus Server is Healthy.'")
    demo.git("add", "-A")
    demo.git("diff", "--cached", "--stat")
    demo.opsgov("check", "--staged")
    demo.git("commit", "-q", "-m", "Roll back: Prometheus scrape interval", "-m", f"Ops-Id: {op_id}")
    demo.opsgov("ledger", "show", op_id)
    demo.say("The audit report of the period traces every governed commit to its operation.")
    demo.opsgov("report", "--since", since, "--format", "md", "--quiet")


@contextmanager
def _stand_in_prometheus() -> Iterator[str]:
    """A tiny HTTP server on loopback answering Prometheus' health endpoint."""

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            body = b"Prometheus Server is Healthy.\n"
            self.send_response(200 if self.path == "/-/healthy" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/-/healthy"
    finally:
        server.shutdown()
        server.server_close()

