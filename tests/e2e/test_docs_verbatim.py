"""README's "Use it in your repository" and docs/quickstart.md, performed verbatim.

Their ```bash blocks are run as written, in order, in one shell, in a fresh clone of a repository
that holds an operational file: through the real pre-commit hooks and a push to a local bare
repository whose pre-receive hook runs the gate. Stand-ins on PATH play what a test machine lacks:
``pip`` (opsgov and pre-commit are installed already), ``promtool``, ``systemctl``, and the
editor in which the operator writes the report. Each command must end with the exit code its
document shows: 0, unless the line ends with a ``# exit N`` comment.
"""
from __future__ import annotations

import os
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import IDENTITY, Repo, init_repo

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PROM = "ops/monitoring/prometheus.yml"
BLOCK = re.compile(r"^```bash\n(.*?)^```", re.M | re.S)
EXIT = re.compile(r"#\s*exit (\d+)\b")

STAND_INS = {
    "pip": "#!/bin/sh\n# stand-in: opsgov and pre-commit are installed in this test's environment\n"
           "[ \"$1\" = install ] && echo \"stand-in pip: already installed\" && exit 0\nexit 2\n",
    "promtool": "#!/bin/sh\n# stand-in: 'promtool check config FILE' succeeds when FILE exists\n"
                "[ \"$1 $2\" = 'check config' ] && [ -f \"$3\" ] && echo \"  SUCCESS: $3 is valid\" && exit 0\n"
                "exit 1\n",
    "systemctl": "#!/bin/sh\n# stand-in for a host with a running prometheus\n"
                 "case \"$1\" in is-active) echo active;; reload|restart|start|stop) ;; *) exit 1;; esac\n",
    "fill-report": "#!/usr/bin/env python3\n# stand-in editor: the operator writes section 5, the report\nimport sys\n"
                   "path = sys.argv[1]\ntext = open(path, encoding='utf-8').read()\n"
                   "for placeholder in ('<!-- One paragraph: what was done, and the outcome. -->',\n"
                   "                    '<!-- Files and services changed. -->',\n"
                   "                    '<!-- The key outputs that prove the result. -->',\n"
                   "                    '<!-- The residual risk. -->', '<!-- What to do next, bounded. -->'):\n"
                   "    assert placeholder in text, placeholder\n"
                   "    text = text.replace(placeholder, 'Written by the operator.', 1)\n"
                   "open(path, 'w', encoding='utf-8').write(text)\n",
}


def section(text: str, heading: str) -> str:
    start = text.index(heading)
    following = re.search(r"^## ", text[start + len(heading):], re.M)
    return text[start:start + len(heading) + following.start()] if following else text[start:]


def commands(markdown: str) -> list[tuple[str, int]]:
    """Each command of each bash block (continuation lines joined) and the exit code shown for it."""
    found = []
    for block in BLOCK.findall(markdown):
        pending = ""
        for line in block.splitlines():
            pending += line + "\n"
            if line.rstrip().endswith("\\") or not pending.strip():
                continue
            shown = EXIT.search(line)
            found.append((pending.rstrip("\n"), int(shown[1]) if shown else 0))
            pending = ""
    return found


def script(steps: list[tuple[str, int]], log: Path) -> str:
    lines = []
    for i, (command, _expected) in enumerate(steps):
        lines += [command, f"printf '%s %s\\n' {i} \"$?\" >> {shlex.quote(str(log))}"]
    return "\n".join(lines) + "\n"


@pytest.fixture
def clone(tmp_path: Path) -> tuple[Repo, Path]:
    """A clone of a server repository that holds a Prometheus config; the server runs the gate."""
    server = tmp_path / "server.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(server)], check=True)
    seed = init_repo(tmp_path / "seed")
    seed.write("README.md", "# monitoring\n")
    seed.write(PROM, "global:\n  scrape_interval: 15s\n")
    seed.commit("Prometheus config")
    seed.git("push", "-q", str(server), "main")
    # The server's gate (docs/ci.md), installed on a repository that has no policy yet.
    hook = server / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\nexec '{sys.executable}' -m opsgov_hooks check --pre-receive\n", encoding="utf-8")
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
    subprocess.run(["git", "clone", "-q", str(server), str(tmp_path / "work")], check=True)
    work = Repo(tmp_path / "work")
    work.git("config", "user.name", IDENTITY["GIT_AUTHOR_NAME"])
    work.git("config", "user.email", IDENTITY["GIT_AUTHOR_EMAIL"])
    return work, server


def perform(markdown: str, repo: Repo, tmp_path: Path) -> list[tuple[str, int, int]]:
    """(command, exit code shown, exit code got) of every command, run in order in one bash."""
    stand_ins = tmp_path / "stand-ins"
    stand_ins.mkdir()
    for name, body in STAND_INS.items():
        (stand_ins / name).write_text(body, encoding="utf-8")
        (stand_ins / name).chmod(0o755)
    steps = commands(markdown)
    log = tmp_path / "exit-codes"
    env = {**os.environ, "PATH": f"{stand_ins}{os.pathsep}{BIN}{os.pathsep}{os.environ['PATH']}",
           "EDITOR": str(stand_ins / "fill-report"), "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    for key in IDENTITY:   # the clone's own git config names the operator, as on a real machine
        env.pop(key, None)
    proc = subprocess.run(["bash", "-c", script(steps, log)], cwd=repo.path, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL, timeout=600)
    got = dict(line.split() for line in log.read_text().splitlines()) if log.exists() else {}
    results = [(command, expected, int(got.get(str(i), -1))) for i, (command, expected) in enumerate(steps)]
    assert all(e == g for _c, e, g in results), proc.stdout + "\n" + "\n".join(
        f"exit {g} (shown: {e}): {c}" for c, e, g in results)
    return results


def finished(repo: Repo, server: Path) -> None:
    """What the documents promise at their end: pushed, tagged, and the gate clean everywhere."""
    head = repo.head()
    assert subprocess.run(["git", "-C", str(server), "rev-parse", "main"], capture_output=True,
                          text=True).stdout.strip() == head
    tags = repo.git("tag", "--list", "ops-*").split()
    assert len(tags) == 2                                   # the adoption and the operation
    pushed = subprocess.run(["git", "-C", str(server), "tag", "--list", "ops-*"], capture_output=True, text=True)
    assert pushed.stdout.split() == tags
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    check = subprocess.run(["opsgov", "check", "--all"], cwd=repo.path, capture_output=True, text=True, env=env)
    assert check.returncode == 0, check.stdout
    report = subprocess.run(["opsgov", "report", "--format", "json"], cwd=repo.path, capture_output=True,
                            text=True, env=env)
    assert report.returncode == 0 and '"A001"' not in report.stdout, report.stdout
    assert repo.read(PROM) == "global:\n  scrape_interval: 30s\n"


def test_readme_use_it_in_your_repository_runs_verbatim(clone: tuple[Repo, Path], tmp_path: Path) -> None:
    repo, server = clone
    text = section((ROOT / "README.md").read_text(encoding="utf-8"), "## Use it in your repository")
    results = perform(text, repo, tmp_path)
    assert [c.split()[0] for c, _e, _g in results][:3] == ["pip", "opsgov", "pre-commit"]
    finished(repo, server)


def test_quickstart_runs_verbatim(clone: tuple[Repo, Path], tmp_path: Path) -> None:
    repo, server = clone
    results = perform((ROOT / "docs" / "quickstart.md").read_text(encoding="utf-8"), repo, tmp_path)
    assert any(c.startswith("opsgov report") for c, _e, _g in results)
    finished(repo, server)


def test_the_extraction_sees_exit_codes_and_continuations() -> None:
    doc = "```bash\nopsgov a \\\n  --b\nopsgov check   # exit 1\n```\n```text\nnot run\n```\n"
    assert commands(doc) == [("opsgov a \\\n  --b", 0), ("opsgov check   # exit 1", 1)]
