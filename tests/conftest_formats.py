"""Every report any test makes, in every CI format, checked against its schema.

A pytest plugin (loaded by conftest.py): while a test runs, each reporter opsgov asks for
also renders the same findings as JSON, SARIF, GitLab Code Quality and JUnit, twice, and
checks each against its schema (tests/format_schemas.py) and each fingerprint against the
second rendering. So the whole test corpus (every scenario the gate's tests set up) is
the corpus of the formats; a problem fails the test that produced the findings.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from format_schemas import VALIDATORS, fingerprints

RENDERED: list[int] = [0]   # reports checked so far in this session (a test asserts the plugin is live)


@pytest.fixture(autouse=True)
def _every_format_checked(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from opsgov_hooks import output
    from opsgov_hooks.check import validate
    from opsgov_hooks.lifecycle import workspace

    real = output.get_reporter
    problems: list[str] = []

    def checked(findings: Sequence[Any], judged: Sequence[str], quiet: bool, command: str) -> None:
        for fmt, validator in VALIDATORS.items():
            try:
                first = real(fmt, quiet=quiet, command=command)(findings, judged)
                validator(first)
                if fmt in ("sarif", "gitlab"):
                    again = real(fmt, quiet=quiet, command=command)(list(findings), list(judged))
                    prints = fingerprints(fmt, first)
                    assert prints == fingerprints(fmt, again), "fingerprints differ between two renderings"
                    assert len(set(prints)) == len(prints), f"two findings share a fingerprint: {prints}"
            except Exception as exc:  # noqa: BLE001 - every kind of failure is reported with its format
                problems.append(f"--format {fmt}: {type(exc).__name__}: {exc}")
        RENDERED[0] += 1

    def get_reporter(name: str, *, quiet: bool = False, command: str = "opsgov check") -> output.Reporter:
        reporter = real(name, quiet=quiet, command=command)

        def report(findings: Sequence[Any], judged: Sequence[str] = ()) -> str:
            checked(findings, judged, quiet, command)
            return reporter(findings, judged)

        return report

    for module in (output, validate, workspace):
        monkeypatch.setattr(module, "get_reporter", get_reporter)
    yield
    assert not problems, "\n".join(problems)
