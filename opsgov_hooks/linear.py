"""Every regular expression opsgov applies to repository content, and why each runs in linear time.

Repository content (records, runbooks, recorded commands, added lines, paths,
tag messages) is hostile input: a pattern that backtracks turns one crafted line
into minutes of CPU. So there are two kinds of pattern, and no third:

* **Patterns opsgov cannot prove** (the configuration's ``forbidden`` patterns and
  commands, ``evidence_patterns``, and the globs of ``governed_paths``,
  ``ALLOWED_PATHS`` and ``forbidden.paths``, which pathspec turns into regular
  expressions) run on RE2 (``google-re2``), an automaton engine whose time is linear
  in the input whatever the pattern. RE2 has no backreferences and no lookaround; a
  configured pattern that uses them is refused (C002), never run on another engine.
* **opsgov's own patterns** stay on Python's ``re`` where the hot paths need its speed,
  each listed in :mod:`opsgov_hooks.linear_inventory` with the reason it cannot backtrack
  more than a constant per character (or the bound on its input). ``tests/unit/test_linear.py``
  feeds every entry a 1 MiB adversarial line and checks that no other ``re`` call exists in
  the package.
"""
from __future__ import annotations

import functools
import re
from typing import Any, Protocol


class Pattern(Protocol):
    """What opsgov uses of a compiled pattern (``re.Pattern`` and RE2's both provide it)."""

    pattern: str

    def search(self, text: str) -> Any: ...


_FLAGS = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"))


def compile_linear(pattern: str, flags: int = 0) -> Pattern:
    """``pattern`` compiled by RE2; ``re.error`` with RE2's reason when RE2 cannot run it."""
    import re2  # type: ignore[import-untyped]

    options = re2.Options()
    options.log_errors = False   # RE2 would print its own parse errors on standard error
    inline = "".join(letter for flag, letter in _FLAGS if flags & flag)
    try:
        compiled: Pattern = re2.compile(f"(?{inline}){pattern}" if inline else pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise re.error(f"{reason} (opsgov runs regular expressions with RE2, which has no backreferences or "
                       "lookaround, so that no input can make one slow)") from None
    return compiled


@functools.lru_cache(maxsize=512)
def compiled(pattern: str) -> Pattern:
    """A configured pattern, compiled once per process (the configuration has checked it compiles)."""
    return compile_linear(pattern)


def utf8_safe(text: str) -> str:
    """``text`` as RE2 can take it: a path git gave with bytes that are not UTF-8 (decoded with
    surrogate escapes) has each such byte as U+FFFD, which every glob wildcard matches like the byte."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
