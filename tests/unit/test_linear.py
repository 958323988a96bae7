"""Every regular expression applied to repository content runs in linear time (opsgov_hooks/linear.py).

Each pattern of the inventory gets 1 MiB adversarial lines; the bound asserted is generous (the test
is about completing, not about speed: a backtracking pattern takes minutes on these inputs).
"""
from __future__ import annotations

import importlib
import re
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from conftest import Repo
from execution_helpers import RECORD, runbook, step
from security_helpers import finding_codes, opsgov

from opsgov_hooks import linear, linear_inventory
from opsgov_hooks.policy.config import default_policy
from opsgov_hooks.policy.globs import compile_globs

MIB = 1 << 20
PACKAGE = Path(__file__).resolve().parents[2] / "opsgov_hooks"
UNITS = (" ", "\t", "a", "0", "-", " -f", "#", " #", "|", ":", "<", "@", "`", ".", "x ", "<!--", "\n", "[STEP ",
         "$ curl", "'")
REGEX_CALL = re.compile(r"\bre\.(?:compile|search|match|fullmatch|sub|subn|split|findall|finditer)\(")


@contextmanager
def bounded(seconds: int) -> Iterator[None]:
    """Fail (instead of hanging the suite) when the body runs longer than a generous bound."""
    def expired(_signum: int, _frame: object) -> None:
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def adversarial_lines(prefixes: tuple[str, ...] = ("",)) -> Iterator[str]:
    for prefix in prefixes:
        for unit in UNITS:
            yield prefix + unit * (MIB // len(unit)) + "!"


def feed(apply: Callable[[str], object], prefixes: tuple[str, ...] = ("",), as_bytes: bool = False) -> None:
    with bounded(60):
        for line in adversarial_lines(prefixes):
            apply(line.encode() if as_bytes else line)   # type: ignore[arg-type]


def _apply(pattern: re.Pattern[str], method: str) -> Callable[[str], object]:
    return getattr(pattern, method)  # type: ignore[no-any-return]


@pytest.mark.parametrize("entry", linear_inventory.INVENTORY, ids=lambda e: f"{e.module}.{e.name}")
def test_each_own_pattern_takes_a_mebibyte_line(entry: linear_inventory.Entry) -> None:
    pattern = getattr(importlib.import_module(entry.module), entry.name)
    assert isinstance(pattern, re.Pattern) and entry.why
    prefixes = ("", pattern.pattern[:12] if isinstance(pattern.pattern, str) else "")
    feed(_apply(pattern, entry.method), tuple(p for p in prefixes if "\\" not in p),
         as_bytes=isinstance(pattern.pattern, bytes))


@pytest.mark.parametrize("inline", linear_inventory.INLINE, ids=lambda i: f"{i.module}:{i.call[:20]}")
def test_each_inline_pattern_is_where_the_inventory_says_and_takes_a_mebibyte_line(inline: linear_inventory.Inline) -> None:
    source = (PACKAGE.parent / (inline.module.replace(".", "/") + ".py")).read_text(encoding="utf-8")
    assert inline.call in source
    feed(_apply(re.compile(inline.example, inline.flags), inline.method))


def test_no_pattern_outside_the_inventory() -> None:
    """A new ``re`` call in the package must be listed in opsgov_hooks/linear_inventory.py, with its reason."""
    listed: dict[str, int] = {}
    for item in (*linear_inventory.INVENTORY, *linear_inventory.INLINE):
        listed[item.module] = listed.get(item.module, 0) + 1
    found: dict[str, int] = {}
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        count = len(REGEX_CALL.findall(path.read_text(encoding="utf-8")))
        if count and module not in ("opsgov_hooks.linear", "opsgov_hooks.linear_inventory"):
            found[module] = count
    assert found == listed


def test_configured_patterns_run_on_re2() -> None:
    policy = default_policy()
    patterns = [p for rule in policy.forbidden for p in (*rule.patterns, *rule.commands)]
    patterns += [p for kinds in policy.evidence_patterns.values() for p in kinds]
    assert patterns
    for pattern in patterns:
        compiled = linear.compiled(pattern)
        assert not isinstance(compiled, re.Pattern)   # RE2, not Python's backtracking engine
        feed(compiled.search, ("", "$ curl"))


def test_a_backtracking_pattern_is_linear_on_re2_and_lookaround_is_refused() -> None:
    feed(linear.compile_linear(r"(a+)+$").search)
    with pytest.raises(re.error, match="RE2"):
        linear.compile_linear(r"(?<!x)iptables")


def test_globs_run_on_re2() -> None:
    spec = compile_globs(("a*a*a*a*a*a*a*b", "**/x*y*z*w/**"))
    with bounded(20):
        assert not spec.match_file("a" * MIB)
        assert not spec.match_file("x" * MIB + "/q")
        assert spec.match_file("ops/bad\udcffname/xyzw/f")   # a path that is not UTF-8 is matched, not a crash


def test_validate_takes_the_curl_line_of_the_red_team_in_stride(repo: Repo) -> None:
    """`$ curl` then 300,000 ` -f` as a verification line (14-19 s for 100,000 on a backtracking engine)."""
    verify = "curl" + " -f" * 300_000
    repo.write(RECORD, runbook(steps=step(1, verify=verify)))
    code, out, _err = opsgov(repo.path, "validate", timeout=60)
    assert code in (0, 1) and "X021" not in finding_codes(out)
