"""SARIF 2.1.0 (GitHub code scanning, Azure DevOps, security dashboards): one run, every code as a rule.

Each rule carries its title and explanation from :mod:`opsgov_hooks.codes` (and a link to
its entry in docs/rules.md when ``$OPSGOV_DOCS_URL`` says where the docs are); each result
its level, its ``path:line:col`` and a fingerprint that stays the same from run to run.
"""
from __future__ import annotations

import json
import urllib.parse
from collections.abc import Sequence

from opsgov_hooks import __version__
from opsgov_hooks.codes import CODES
from opsgov_hooks.findings import Finding, Severity
from opsgov_hooks.output.identity import fingerprints, rule_url

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "opsgovFinding/v1"


def _rule(code: str) -> dict[str, object]:
    known = CODES.get(code)
    title = known.title if known else code
    explanation = known.explanation if known else title
    help_text = f"{explanation} ('opsgov explain {code}' prints this entry.)"
    rule: dict[str, object] = {
        "id": code,
        "shortDescription": {"text": title},
        "fullDescription": {"text": explanation},
        "help": {"text": help_text, "markdown": f"**{code}: {title}.** {explanation}\n\n`opsgov explain {code}`"},
        "defaultConfiguration": {"level": "error"},
    }
    url = rule_url(code)
    if url:
        rule["helpUri"] = url
    return rule


def _uri(path: str) -> str:
    # A relative reference: every character that could read as a scheme, query or fragment is escaped.
    return urllib.parse.quote(path, safe="/")


def _result(f: Finding, index: int, fingerprint: str) -> dict[str, object]:
    text = f.message + (f" (fix: {f.hint})" if f.hint else "")
    result: dict[str, object] = {
        "ruleId": f.code,
        "ruleIndex": index,
        "level": "error" if f.severity is Severity.ERROR else "warning",
        "message": {"text": f"{f.code} {text}"},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": _uri(f.path)},
            "region": {"startLine": f.line, "startColumn": f.column},
        }}],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
    }
    if f.commit:
        result["properties"] = {"commit": f.commit}
    return result


def render(findings: Sequence[Finding], judged: Sequence[str] = (), command: str = "opsgov check") -> str:
    codes = sorted(set(CODES) | {f.code for f in findings})
    index = {code: i for i, code in enumerate(codes)}
    driver: dict[str, object] = {"name": "opsgov", "version": __version__, "semanticVersion": __version__,
                                 "rules": [_rule(code) for code in codes]}
    run: dict[str, object] = {
        "tool": {"driver": driver},
        "automationDetails": {"id": f"{command.replace(' ', '/')}/"},
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index[f.code], fp) for f, fp in zip(findings, fingerprints(findings))],
    }
    log = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
