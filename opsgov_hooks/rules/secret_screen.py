"""The screen: which added lines detect-secrets could report anything in, as plain data.

detect-secrets' per-line, per-plugin dispatch is most of a scan's cost, and loading the
library (its plugins compile a few hundred expressions) is most of a governed commit's.
Most added lines (``replicas: 3``, a comment, a version bump) can hold nothing any active
plugin reports, and that can be decided from the plugins' own expressions:

* a regex detector reports only what its ``denylist`` expressions find;
* the keyword detector only where one of its keywords stands (every expression it has holds
  the keyword list, matched without regard to case);
* an entropy detector only a quoted string of its alphabet whose Shannon entropy exceeds its
  limit, and a string of ``n`` characters has at most ``log2(n)`` bits of entropy per character,
  so it must be longer than ``2 ** limit``.

Filters only ever remove what plugins report, so a line no test passes has no secret to
report, and skipping it changes nothing but the time.

The screen is described as plain data (:data:`Spec`: expressions as source and flags), built
from the loaded plugins by :func:`describe` and turned into tests by :func:`tests_of`. The
scan always builds its tests that way, so a description kept between runs screens exactly as the library would: a change whose every added line fails the screen is
answered without loading detect-secrets at all. The runner keeps descriptions
(:mod:`opsgov_hooks.speed.screens`), keyed by the installed library and the plugins a
baseline configures.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Protocol

UNSCREENED: tuple[Any, ...] = ("unscreened",)   # some plugin is of a kind this does not know: scan every line

# One test: ("any", guarded, parts, alone) or ("quoted", pattern, flags, shortest); a spec is a tuple of them.
Spec = tuple[tuple[Any, ...], ...]
Test = Callable[[str], bool]

_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=")
_FLAGS = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"), (re.VERBOSE, "x"))


class ScreenMemo(Protocol):
    """Where descriptions are kept between runs, for the installed detect-secrets and a baseline's
    ``plugins_used`` (None: every plugin); the runner's cache, which the rules never open."""

    def get(self, plugins_used: Any) -> Any: ...

    def put(self, plugins_used: Any, spec: Spec) -> None: ...


# -- building the description from the loaded plugins -------------------------------------------

def describe(plugins: Sequence[Any]) -> Spec:
    """The screen of these (loaded, configured) detect-secrets plugins."""
    from detect_secrets.plugins import keyword
    from detect_secrets.plugins.base import RegexBasedDetector
    from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin

    tests: list[tuple[Any, ...]] = []
    patterns: list[re.Pattern[str]] = []
    for plugin in plugins:
        if isinstance(plugin, RegexBasedDetector):
            patterns += list(plugin.denylist)
        elif isinstance(plugin, keyword.KeywordDetector):
            tests.append(_describe_any([re.compile("|".join(keyword.DENYLIST), re.IGNORECASE)]))
        elif isinstance(plugin, HighEntropyStringsPlugin):
            tests.append(("quoted", plugin.regex.pattern, plugin.regex.flags, int(2 ** plugin.entropy_limit) + 1))
        else:
            return (UNSCREENED,)
    return (_describe_any(patterns), *tests)


def _required_literal(pattern: re.Pattern[str]) -> str:
    """The longest run of literal characters in the pattern's top-level sequence: every match holds it."""
    import re._constants as sre_constants  # type: ignore[import-not-found]
    import re._parser as sre_parser  # type: ignore[import-not-found]

    try:
        parsed = sre_parser.parse(pattern.pattern, pattern.flags)
    except (re.error, TypeError, ValueError):
        return ""
    best = run = ""
    for op, value in parsed:
        if op is sre_constants.LITERAL:
            run += chr(value)
            continue
        best, run = max(best, run, key=len), ""
    return max(best, run, key=len)


def _describe_any(patterns: list[re.Pattern[str]]) -> tuple[Any, ...]:
    """A search for any of ``patterns``. One that every match of which holds a literal run (``BEGIN
    RSA PRIVATE KEY``, ``xox``, ``eyJ``) is tried only where that run stands (compared case-folded
    for a pattern without regard to case); the others form one alternation (each with its own
    flags, scoped) where that means the same, or are tried one by one (a back-reference counts
    groups; inline global flags cannot be scoped)."""
    guarded: list[tuple[str, bool, str, int]] = []
    parts: list[str] = []
    alone: list[tuple[str, int]] = []
    for p in patterns:
        literal = _required_literal(p)
        if len(literal) >= 2:
            ignore_case = bool(p.flags & re.IGNORECASE)
            guarded.append((literal.casefold() if ignore_case else literal, ignore_case, p.pattern, p.flags))
            continue
        flags = "".join(letter for flag, letter in _FLAGS if p.flags & flag)
        if _BACKREFERENCE.search(p.pattern) or p.pattern.lstrip().startswith("(?") and \
                p.pattern.lstrip()[2:3].isalpha():
            alone.append((p.pattern, p.flags))
        else:
            parts.append(f"(?{flags}:{p.pattern})" if flags else f"(?:{p.pattern})")
    return ("any", tuple(guarded), tuple(parts), tuple(alone))


# -- the tests a description stands for -------------------------------------------------------------

def tests_of(spec: Spec) -> list[Test] | None:
    """The tests of a description (None: every line must be scanned). Raises ``TypeError``,
    ``ValueError`` or ``re.error`` on anything :func:`describe` does not produce."""
    if not isinstance(spec, tuple) or not spec:
        raise ValueError("not a screen")
    if spec == (UNSCREENED,):
        return None
    tests: list[Test] = []
    for test in spec:
        if test[0] == "any" and len(test) == 4:
            tests.append(_any_test(*test[1:]))
        elif test[0] == "quoted" and len(test) == 4:
            tests.append(_long_quoted(re.compile(test[1], test[2]), int(test[3])))
        else:
            raise ValueError(f"not a screen test: {test[0]!r}")
    return tests


def _any_test(guarded: Sequence[tuple[str, bool, str, int]], parts: Sequence[str],
              alone: Sequence[tuple[str, int]]) -> Test:
    try:
        union = [re.compile("|".join(parts))] if parts else []
    except re.error:
        union = [re.compile(part) for part in parts]
    everything = union + [re.compile(pattern, flags) for pattern, flags in alone]
    literals = [(str(literal), bool(ignore_case)) for literal, ignore_case, _pattern, _flags in guarded]
    compiled: dict[int, re.Pattern[str]] = {}   # a guarded expression is compiled when its literal first stands

    def guarded_search(i: int, line: str) -> bool:
        if i not in compiled:
            compiled[i] = re.compile(guarded[i][2], guarded[i][3])
        return compiled[i].search(line) is not None

    def test(line: str) -> bool:
        if any(p.search(line) for p in everything):
            return True
        folded = line.casefold()
        return any(literal in (folded if ignore_case else line) and guarded_search(i, line)
                   for i, (literal, ignore_case) in enumerate(literals))
    return test


def _long_quoted(quoted: re.Pattern[str], shortest: int) -> Test:
    return lambda line: any(len(m[1]) >= shortest for m in quoted.findall(line))
