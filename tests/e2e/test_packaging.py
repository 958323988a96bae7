"""A real wheel: it carries the schemas, and an installed (non-editable) opsgov finds and uses them.

The wheel is built offline (``--no-build-isolation``, hatchling comes with the test extra) and
installed without dependencies into a fresh virtual environment that borrows this environment's
dependencies through a ``.pth`` file, so the test needs no network and takes a few seconds.
"""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from conftest import declaration_text, entry_text, init_repo

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = sorted(p.name for p in (ROOT / "schemas").glob("*.json"))


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", **(env or {})})


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = _run(sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "--no-index",
                "-q", "-w", out, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    (built,) = out.glob("opsgov-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel installed (not editable); returns its bin directory."""
    env_dir = tmp_path_factory.mktemp("venv") / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                     cwd=env_dir).stdout.strip())
    # Dependencies come from this environment's site-packages, but not its editable opsgov: a
    # directory named in a .pth file is added to sys.path without processing its own .pth files.
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz_test_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    proc = _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel,
                cwd=env_dir)
    assert proc.returncode == 0, proc.stderr
    return env_dir / "bin"


def test_wheel_carries_the_schemas_and_the_entry_point(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        entry_points = zf.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
        packaged = {n.rsplit("/", 1)[1]: zf.read(n) for n in names if n.startswith("opsgov_hooks/_schemas/")}
    assert sorted(packaged) == SCHEMAS == ["config.schema.json", "declaration.schema.json", "findings.schema.json",
                                          "ledger-entry.schema.json", "report.schema.json"]
    for name, data in packaged.items():
        assert data == (ROOT / "schemas" / name).read_bytes()
    assert "opsgov = opsgov_hooks.console:run" in entry_points  # the no-op fast path, then the CLI
    assert "opsgov_hooks/commands/validate.py" in names and "opsgov_hooks/check/validate.py" in names
    # Development tooling (the doc generators) stays out of the wheel.
    assert not any(n.startswith(("tests/", "schemas/", "docs/", "tools/")) for n in names)


def test_installed_package_finds_its_packaged_schemas(installed: Path, tmp_path: Path) -> None:
    code = ("import opsgov_hooks, opsgov_hooks.policy.schemas as s; print(opsgov_hooks.__file__); print(s.schema_dir()); "
            "print(sorted(p.name for p in s.schema_dir().glob('*.json')))")
    proc = _run(installed / "python", "-c", code, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    module_file, schema_dir, listing = proc.stdout.splitlines()
    site = Path(module_file).parent.parent
    assert Path(module_file).is_relative_to(installed.parent) and not Path(module_file).is_relative_to(ROOT)
    assert schema_dir == str(site / "opsgov_hooks" / "_schemas")
    assert listing == str(SCHEMAS)


def test_installed_console_script_validates(installed: Path, tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    repo.write("ops/operations/OPS-2026-01-27-001.md", declaration_text())
    repo.write("ops/ledger/2026-01.yaml", entry_text())
    version = _run(installed / "opsgov", "--version", cwd=repo.path)
    assert (version.returncode, version.stdout) == (0, "opsgov, version 0.1.0\n")
    ok = _run(installed / "opsgov", "validate", cwd=repo.path)
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "", "")
    repo.write("ops/ledger/2026-01.yaml", entry_text(outcome="DONE"))
    bad = _run(installed / "opsgov", "validate", cwd=repo.path)
    assert (bad.returncode, bad.stderr) == (1, "")
    assert bad.stdout.startswith("ops/ledger/2026-01.yaml:12:10: L002 outcome: 'DONE' is not one of SUCCESS, "
                                 "ROLLBACK, PARTIAL")
