"""JUnit XML (CI test tabs: GitLab, Jenkins, Azure DevOps): one test case per judged commit or record.

A finding belongs to the test case of its commit when it has one, else of its path.
Errors fail their test case (one ``<failure>`` listing them all, since some readers show
only the first); warnings are listed in its ``<system-out>`` and fail nothing. What was
judged without a finding is a passing test case, so the tab counts what was checked.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from opsgov_hooks.findings import Finding, Severity
from opsgov_hooks.output.text import format_line

_COMMIT = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?\Z")
# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _label(key: str, commits: set[str]) -> str:
    return f"commit {key[:12]}" if key in commits else key


def _case(parent: ET.Element, name: str, command: str, findings: Sequence[Finding]) -> bool:
    """One test case; True when it fails."""
    case = ET.SubElement(parent, "testcase", name=_xml_text(name), classname=_xml_text(command))
    errors = [f for f in findings if f.severity is Severity.ERROR]
    warnings = [f for f in findings if f.severity is not Severity.ERROR]
    if errors:
        first = errors[0]
        summary = f"{first.code} {first.message}" + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")
        failure = ET.SubElement(case, "failure", message=_xml_text(summary), type=first.code)
        failure.text = _xml_text("\n".join(format_line(f) for f in errors) + "\n")
    if warnings:
        out = ET.SubElement(case, "system-out")
        out.text = _xml_text("\n".join(format_line(f) for f in warnings) + "\n")
    return bool(errors)


def render(findings: Sequence[Finding], judged: Sequence[str] = (), command: str = "opsgov check") -> str:
    groups: dict[str, list[Finding]] = {key: [] for key in judged}
    for f in findings:
        groups.setdefault(f.commit or f.path, []).append(f)
    commits = {key for key in judged if _COMMIT.match(key)} | {f.commit for f in findings if f.commit}
    root = ET.Element("testsuites", name=command)
    suite = ET.SubElement(root, "testsuite", name=command)
    if not groups:
        groups[f"{command}: nothing to report"] = []
    failures = sum(_case(suite, _label(key, commits), command, group) for key, group in groups.items())
    for element in (root, suite):
        element.set("tests", str(len(groups)))
        element.set("failures", str(failures))
        element.set("errors", "0")
    suite.set("skipped", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
