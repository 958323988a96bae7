"""Write a ledger entry into section 6 ("Signoff & Ledger Entry") of an operation record.

For the commands that write the ledger (``opsgov ledger record``, ``ledger rollback``):
section 6 must agree with the entry (rule R005), so the writer can update both.
Only the lines of the section's ```yaml block change; without a block, one is
added at the end of the section. The caller writes the result atomically.
"""
from __future__ import annotations

from opsgov_hooks.findings import Finding, UsageError
from opsgov_hooks.records.markdown import Outline, fenced_block
from opsgov_hooks.records.declaration import split_front_matter
from opsgov_hooks.rules.report_sections import YAML_INFO, find_signoff
from opsgov_hooks.execution.steptext import insert_block, replace_lines


def fill_signoff(text: str, entry_yaml: str, path: str) -> str:
    """``text`` (a whole record) with section 6's YAML block replaced by ``entry_yaml`` (no ``---``)."""
    split = split_front_matter(path, text)
    if isinstance(split, Finding):
        raise UsageError(f"{path}: {split.message}")
    _front, body, body_line = split
    outline = Outline(body, body_line)
    section = find_signoff(outline)
    if section is None:
        raise UsageError(f"{path} has no '## 6) Signoff & Ledger Entry' section to write the ledger entry into")
    lines = entry_yaml.removeprefix("---\n").rstrip("\n").split("\n")
    block = fenced_block(outline, section, YAML_INFO)
    if block is None:
        last = max((i for i in range(section.start, section.end) if outline.lines[i].strip()),
                   default=section.heading.index)
        return insert_block(text, outline.file_line(last + 1), ["```yaml", *lines, "```"])
    opening, closing = block
    if closing >= section.end:
        raise UsageError(f"{path}: the ```yaml block of section 6 is never closed; close it with a ``` line")
    if closing == opening + 1:  # an empty block: write the entry between the fences
        return replace_lines(text, outline.file_line(opening), outline.file_line(opening),
                             [outline.lines[opening], *lines])
    return replace_lines(text, outline.file_line(opening + 1), outline.file_line(closing - 1), lines)
