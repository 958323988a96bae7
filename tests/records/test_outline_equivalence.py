"""The runbook outline, built in one pass, agrees with the line-by-line definition it replaced.

``markdown.Outline`` looks only at lines that can be a fence or a heading, reads headings with
string operations instead of the ``_HEADING`` regex, and finds section ends once. The reference
below is the straightforward definition (every line matched, every end searched); both run on
generated Markdown full of fences, headings and line-ending variants.
"""
from __future__ import annotations

import itertools
import random
import re

from opsgov_hooks.records import markdown

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


def _reference_fenced(lines: list[str]) -> list[bool]:
    result = []
    opener: str | None = None
    for line in lines:
        m = _FENCE.match(line)
        if opener is None:
            if m:
                opener = m[1]
            result.append(opener is not None)
            continue
        result.append(True)
        if m and m[1][0] == opener[0] and len(m[1]) >= len(opener) and not line[m.end():].strip():
            opener = None
    return result


def _reference_headings(lines: list[str], fenced: list[bool]) -> list[tuple[int, str, int]]:
    found = []
    for i, line in enumerate(lines):
        m = markdown._HEADING.match(line)
        if m and not fenced[i]:
            found.append((len(m[1]), m[2], i))
    return found


def _reference_end(headings: list[tuple[int, str, int]], at: int, count: int) -> int:
    level, _title, index = headings[at]
    return next((i for lv, _t, i in headings if i > index and lv <= level), count)


def _markdown(seed: int, count: int) -> list[str]:
    rnd = random.Random(seed)
    pool = ["# Title", "## 3) Execution log", "## 5) Report", "### EXEC SUMMARY", "### Executive Summary",
            "## 6) Sign-off & Ledger Entry", "#### deep", "####### seven", "#nospace", "# trailing ##",
            "# a ## ##", "#  \t ", "# x#", "# #", "##\t#\t", "# a ## b", "#\xa0x", "# x \r", "  # indented",
            "```", "```yaml", "````", "~~~", "~~~ yaml", "   ```", "    ```", "``` x", "~~~~", "`` x", "```   ",
            "\t```", "```\r", "text", "", "", "  ", "<!-- c -->", "- item", "#", "## ", "x\r", "\r"]
    texts = []
    for _ in range(count):
        lines = [rnd.choice(pool) for _ in range(rnd.randint(0, 30))]
        newline = "\r\n" if rnd.random() < 0.1 else "\n"
        texts.append(newline.join(lines) + rnd.choice(["", "\n", "\n\n"]))
    return texts


def test_outline_agrees_with_the_line_by_line_definition() -> None:
    for text in _markdown(20260127, 1500):
        _agrees(text)


def _agrees(text: str) -> None:
    outline = markdown.Outline(text, 7)
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    lines = [line.removesuffix("\r") for line in lines]
    fenced = _reference_fenced(lines)
    headings = _reference_headings(lines, fenced)
    assert (outline.lines, outline.in_fence) == (lines, fenced), text
    assert [(h.level, h.title, h.index) for h in outline.headings] == headings, text
    for at, h in enumerate(outline.headings):
        section = outline.section(h)
        assert (section.start, section.end) == (h.index + 1, _reference_end(headings, at, len(lines))), text
        # find() gives the first matching section, the same one section() describes.
        title = markdown.normalise(h.title)
        first = next(x for x in outline.headings if markdown.normalise(x.title) == title)
        assert outline.find(title.__eq__) == outline.section(first)
        assert outline.find(title.__eq__, within=section) in (
            None, *[outline.section(x) for x in outline.headings if section.start <= x.index < section.end])


def test_heading_reading_agrees_with_the_regex_on_every_short_line() -> None:
    # Every line of up to 7 characters over the characters that matter to the pattern.
    for size in range(8):
        for chars in itertools.product("# \ta\xa0", repeat=size):
            line = "".join(chars)
            m = markdown._HEADING.match(line)
            assert markdown._heading(line) == ((len(m[1]), m[2]) if m else None), repr(line)


def test_a_heading_equal_to_but_not_from_the_outline_gets_its_section() -> None:
    outline = markdown.Outline("# A\n## B\ntext\n## D\n# C\n")
    foreign = markdown.Heading(1, "B", 1)   # the line of '## B', but at level 1
    assert outline.section(foreign) == markdown.Section(foreign, 2, 4)
    assert outline.section(outline.headings[1]) == markdown.Section(outline.headings[1], 2, 3)
    assert outline.find(lambda t: t == "b") == markdown.Section(outline.headings[1], 2, 3)
    assert outline.section(outline.headings[0]).end == 4


def test_first_by_title_is_find_for_every_title() -> None:
    # The report rule looks its five sections up in one pass: each title's first section under a
    # heading must be what find() with that title and ``within`` answers.
    for text in _markdown(20261206, 800):
        outline = markdown.Outline(text, 3)
        for h in outline.headings:
            within = outline.section(h)
            first = outline.first_by_title(within)
            titles = {markdown.normalise(x.title) for x in outline.headings} | {"report", "absent"}
            for title in titles:
                assert first.get(title) == outline.find(title.__eq__, within=within), (text, title)
