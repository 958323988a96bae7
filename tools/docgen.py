"""Generate ``docs/rules.md`` from :mod:`opsgov_hooks.codes`.

``python -m tools.docgen`` writes it; ``--check`` exits 1 when the file is
out of date (a test runs it, so the table and the page never drift apart).
"""
from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from opsgov_hooks.codes import CODES, RANGES, Code

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "rules.md"

_HEADER = """\
<!-- Generated from opsgov_hooks/codes.py by `python -m tools.docgen`; do not edit by hand. -->
# Finding codes

Every problem opsgov reports is one line, `path:line:col: CODE message (fix: hint)`,
with a stable code from this page. A code keeps its meaning forever once released.
`opsgov explain CODE` prints the entry for one code.

Exit codes: `0` clean (warnings allowed), `1` at least one error finding,
`2` a usage or environment problem (a broken configuration, a path that does not
exist, not a git repository where one is needed), reported as one message naming the fix.

The first letter of a code says which part of opsgov emits it:

"""


def render() -> str:
    """The whole page: an index of the ranges, then every code grouped by range, in code order."""
    groups: dict[str, list[Code]] = {}
    for code in sorted(CODES.values(), key=lambda c: c.code):
        groups.setdefault(code.code[0], []).append(code)
    letters = [letter for letter in RANGES if letter in groups]
    letters += sorted(letter for letter in groups if letter not in RANGES)
    out = [_HEADER]
    out += [f"- [{letter}: {RANGES.get(letter, 'other')}](#{_anchor(letter)})\n" for letter in letters]
    for letter in letters:
        out.append(f"\n## {letter}: {RANGES.get(letter, 'other')}\n\n")
        out.append("| Code | Title |\n|------|-------|\n")
        out += [f"| [{c.code}](#{c.code.lower()}) | {_cell(c.title)} |\n" for c in groups[letter]]
        for c in groups[letter]:
            out.append(f"\n### {c.code}\n\n**{c.title}.** {c.explanation}\n")
    return "".join(out)


def _anchor(letter: str) -> str:
    """GitHub's heading anchor for ``## X: title``."""
    title = f"{letter}: {RANGES.get(letter, 'other')}".lower()
    kept = "".join(ch for ch in title if ch.isalnum() or ch in " -_")
    return kept.replace(" ", "-")


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.docgen", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is out of date; write nothing")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="default: docs/rules.md")
    args = parser.parse_args(argv)
    from tools.generated import sync

    return sync(args.output, render(), check=args.check, regenerate="python -m tools.docgen")


if __name__ == "__main__":
    raise SystemExit(main())
