"""Every fix hint that contains a command is valid shell as printed: each one passes ``bash -n``.

The hints are read from the source (every ``hint=`` argument, f-string placeholders filled with a
word) and the commands cut out of their prose: a quoted ``'opsgov ...'``, or a program name after
"it:", "e.g." or "then" up to the prose that follows it. The evidence hints, whose examples carry
quotes, are also checked as the gate really prints them.
"""
from __future__ import annotations

import ast
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "opsgov_hooks"
PROGRAMS = r"(?:opsgov|git|pre-commit|systemctl|curl|journalctl|sh)"
QUOTED = re.compile(rf"'({PROGRAMS} [^']*)'")
BARE = re.compile(rf"(?:^|: |e\.g\. |then (?:close the operation with )?)({PROGRAMS} [^']*?)(?= \(|, then |; |$)")


def _text(node: ast.AST, names: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "WORD" for v in node.values)  # type: ignore[misc]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left, names), _text(node.right, names)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.Name):
        return names.get(node.id)
    return None


def hints() -> Iterator[tuple[str, str]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names: dict[str, str] = {}
        for node in ast.walk(tree):   # module constants and the locals a hint is built in
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                value = _text(node.value, {})
                if value is not None:
                    names[node.targets[0].id] = value
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "hint":
                text = _text(node.value, names)
                if text is not None:
                    yield f"{path.relative_to(PACKAGE)}:{node.value.lineno}", text


def commands(hint: str) -> list[str]:
    found = QUOTED.findall(hint)
    unquoted = QUOTED.sub("QUOTED", hint)
    return found + [m.strip() for m in BARE.findall(unquoted)]


def bash_n(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-n", "-c", command], capture_output=True, text=True)


ALL = list(hints())
WITH_COMMANDS = [(where, command) for where, hint in ALL for command in commands(hint)]


def test_the_hints_are_found() -> None:
    assert len(ALL) > 60
    assert len(WITH_COMMANDS) > 15
    assert ("record it: opsgov ledger record WORD --approved-by NAME --approval-timestamp now --execution-timestamp "
            "now --changes-summary TEXT --rollback-ref COMMIT") in [h for _w, h in ALL]


@pytest.mark.parametrize(("where", "command"), WITH_COMMANDS)
def test_each_command_in_a_hint_is_valid_shell(where: str, command: str) -> None:
    proc = bash_n(command)
    assert proc.returncode == 0, f"{where}: {command!r}: {proc.stderr}"


def test_the_extraction_finds_broken_shell() -> None:
    assert commands("fix: opsgov run X --verify 'sh -c \\'! journalctl\\'' (see docs)")
    assert bash_n("opsgov run X --verify 'sh -c \\'! journalctl -u x | grep -i error\\''").returncode != 0


def test_the_evidence_hints_are_valid_shell_as_printed(repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    from conftest import declaration_text, entry_text

    record = declaration_text(RISK_CLASS="SERVICE_RESTART")
    for check in ("systemctl is-active prometheus", "curl -fsS http://localhost:9090/-/healthy"):
        record = record.replace(f"$ {check}", "$ true")
    record = re.sub(r"\$ sh -c '! journalctl[^\n]*", "$ true", record)
    repo.write("ops/operations/OPS-2026-01-27-001.md", record)
    repo.write("ops/ledger/2026-01.yaml", entry_text(risk_class="SERVICE_RESTART", approved_by="bob@example.com"))
    code, out, _ = run_cli("validate", "-C", str(repo.path))
    printed = [line.split("(fix: record a step with e.g. ", 1)[1].rsplit(" (evidence_patterns", 1)[0]
               for line in out.splitlines() if " X012 " in line]
    assert code == 1 and len(printed) == 3, out
    for command in printed:
        assert bash_n(command).returncode == 0, command
