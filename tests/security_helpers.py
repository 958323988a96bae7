"""Black-box helpers for the security tests: the real ``opsgov`` CLI in a child process."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


def opsgov(cwd: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None,
           timeout: float = 120) -> tuple[int, str, str]:
    """Run ``python -m opsgov_hooks ARGS`` in ``cwd``: (exit code, stdout, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "opsgov_hooks", *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "NO_COLOR": "1", **(env or {})})
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stdout, proc.stderr


_FINDING = re.compile(r":[0-9]+:[0-9]+: ([A-Z][0-9]{3}) ")


def finding_codes(out: str) -> list[str]:
    """The finding codes of text output (``path:line:col: CODE message``), in order."""
    return [m[1] for m in map(_FINDING.search, out.splitlines()) if m]
