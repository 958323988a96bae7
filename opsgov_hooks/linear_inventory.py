"""The inventory of opsgov's own regular expressions on repository content, and why each is linear.

See :mod:`opsgov_hooks.linear` for the two kinds of pattern. This table is read by
``tests/unit/test_linear.py`` (a 1 MiB adversarial line for each entry, and no ``re`` call in
the package that is not listed here); nothing imports it at run time, so a governed commit
does not build it.
"""
from __future__ import annotations

import dataclasses
import re


@dataclasses.dataclass(frozen=True)
class Entry:
    """One of opsgov's own patterns applied to repository content."""

    module: str
    name: str
    why: str
    method: str = "search"    # how opsgov applies it (search covers findall, finditer and sub)


# Each pattern's reason is about the worst input: n characters, and how many ways the
# engine can try to match at each start position.
INVENTORY: tuple[Entry, ...] = (
    Entry("opsgov_hooks.records.ids", "ID_RE", "fixed-width digits, no repetition of a variable part", "match"),
    Entry("opsgov_hooks.records.ids", "ID_BYTES", "fixed-width digits between literals, no repetition "
          "of a variable part (an operation id in a month file's bytes)"),
    Entry("opsgov_hooks.records.ledger", "MONTH_FILE", "fixed-width, anchored at both ends", "match"),
    Entry("opsgov_hooks.records.ledger", "_DOC_START", "a literal '---' then one '.*' to the end of the line: "
          "one way to match per line start", "match"),
    Entry("opsgov_hooks.records.ledger", "_KEY_HEAD", "one run of [ \\t] then an optional quote: no overlap", "fullmatch"),
    Entry("opsgov_hooks.records.ledger", "_KEY_TAIL", "optional quote, one [ \\t]* run, then '#.*': the runs "
          "are disjoint classes", "fullmatch"),
    Entry("opsgov_hooks.records.yamlstrict", "_INT", "at most 18 digits after a sign, anchored", "match"),
    Entry("opsgov_hooks.records.yamlstrict", "_PLAIN_LINE", "each alternative starts with a distinct literal or "
          "class and its runs are separated by a literal (':', ' ', '- '); a key is at most 128 characters"),
    Entry("opsgov_hooks.records.markdown", "_HEADING", "the definition only: _heading() applies it with string "
          "operations (the lazy title and the optional closing '#' run would be retried per split)"),
    Entry("opsgov_hooks.records.markdown", "_FENCE", "at most 3 spaces then one run of one character", "match"),
    Entry("opsgov_hooks.records.markdown", "_NUMBERING", "digit runs separated by literal dots, then \\s+: "
          "disjoint classes"),
    Entry("opsgov_hooks.records.markdown", "_COMMENT", "one lazy '.*?' up to the first '-->' or the end: "
          "each start scans forward once, and starts are literal '<!--'"),
    Entry("opsgov_hooks.audit.trace", "_TRAILER", "a literal key, two \\s* runs split by ':', then '.+' to the "
          "end: no overlap", "match"),
    Entry("opsgov_hooks.audit.trace", "_ID", "fixed width"),
    Entry("opsgov_hooks.audit.period", "_DATE", "fixed width, anchored", "match"),
    Entry("opsgov_hooks.audit.collect", "_ENTRY_ID", "literal key, one [ \\t]* run, a fixed-width id"),
    Entry("opsgov_hooks.records.rollback_ref", "_COMMIT", "a bounded hex run or a literal 'commit:' then \\s* and \\S+: "
          "disjoint classes", "match"),
    Entry("opsgov_hooks.records.rollback_ref", "_PROCEDURE", "a literal 'procedure:' then \\s* and '.*' to the end: the "
          "split between the two runs is the only choice, and it is anchored by the literal", "match"),
    Entry("opsgov_hooks.rules.report_sections", "YAML_INFO", "a literal word then '.*': one way to match"),
    Entry("opsgov_hooks.git.signing", "_SSH_GOOD", "literal text around \\S+ runs split by literal spaces (git's "
          "verification output, which quotes the signer)"),
    Entry("opsgov_hooks.git.signing", "_GPG_GOOD", "literal text, one \\S+ run, a space, then a run to the line end"),
    Entry("opsgov_hooks.git.signing", "_GPG_FPR", "literal text then one \\S+ run"),
    Entry("opsgov_hooks.git.process", "_MISSING", "an alternation of literals (git's error messages)"),
    Entry("opsgov_hooks.rules.signoff", "_ANGLE", "'<' then runs of classes that exclude '<', '>' and blanks, "
          "split by a literal '@'"),
    Entry("opsgov_hooks.git.patches", "_HUNK", "digit runs between literals (bytes of git's own hunk "
          "headers)", "match"),
    Entry("opsgov_hooks.rules.secrets", "_OBJECT_ID", "bounded hex runs, anchored", "match"),
    Entry("opsgov_hooks.rules.secrets", "_YAML_VALUE", "anchored; every run is bounded (200, 8, 4096 characters) "
          "but the blanks after ':' and before a comment, which are split by classes that exclude blanks", "match"),
    Entry("opsgov_hooks.rules.secrets", "_INI_VALUE", "as _YAML_VALUE: anchored, bounded runs split by literals "
          "and disjoint classes", "match"),
    Entry("opsgov_hooks.git.patches", "_COMBINED_RANGE", "a sign then digit runs split by a literal comma "
          "(bytes of git's own hunk headers)"),
    Entry("opsgov_hooks.rules.secret_filters", "_ID_KEY", "alternation of literals then a bounded \\s{0,8}: "
          "a constant amount of work per start"),
    Entry("opsgov_hooks.rules.secret_filters", "_DIGEST_PREFIX", "alternation of literals, anchored at the end"),
    Entry("opsgov_hooks.rules.secret_filters", "_OBJECT_ID", "bounded hex runs, anchored", "match"),
    Entry("opsgov_hooks.rules.secret_screen", "_BACKREFERENCE", "two literal alternatives (applied to detect-secrets' "
          "pattern text, not to repository content)"),
    Entry("opsgov_hooks.output.junit", "_COMMIT", "fixed width, anchored", "match"),
    Entry("opsgov_hooks.output.junit", "_NOT_XML", "a single character class"),
    Entry("opsgov_hooks.adoption.precommit_config", "_REPOS", "a literal key, [ \\t]* runs split by ':', a "
          "comment to the end", "match"),
    Entry("opsgov_hooks.adoption.precommit_config", "_EMPTY_FLOW", "literals and [ \\t]* runs split by "
          "literal brackets", "match"),
    Entry("opsgov_hooks.adoption.precommit_config", "_ITEM", "one run of spaces then a literal '- '", "match"),
    Entry("opsgov_hooks.check.ranges", "_SHA", "fixed width, anchored", "match"),
    Entry("opsgov_hooks.lifecycle.templating", "_CONTROL", "a single character class"),
    Entry("opsgov_hooks.lifecycle.templating", "_NAME", "[ \\t]* runs around a word: disjoint classes", "match"),
    Entry("opsgov_hooks.lifecycle.templating", "_STANDARD", "'<' then one word run then '>'"),
    Entry("opsgov_hooks.lifecycle.templating", "_PLAIN", "one character class run, anchored", "match"),
    Entry("opsgov_hooks.execution.execlog", "_HEADER", "on RE2: the '\\s*' runs around '([^|\\]]*?)' overlap "
          "(a space is in both), which Python's engine would retry per split", "match"),
    Entry("opsgov_hooks.execution.execlog", "_LABEL", "a literal label, ':' then '.*' to the end", "match"),
    Entry("opsgov_hooks.execution.execlog", "_FENCE", "at most 3 spaces then one run of one character", "match"),
    Entry("opsgov_hooks.execution.steptext", "_CONTROL", "a single character class"),
    Entry("opsgov_hooks.execution.recorder", "_RUNNING", "literals around a digit run and one lazy \\S+? "
          "that stops at the literal ')' (no overlap: ')' ends it)"),
    Entry("opsgov_hooks.execution.shellwords", "_INTERPRETER", "alternation of literals then one [0-9.]* run, "
          "anchored; applied to a program's base name", "match"),
    Entry("opsgov_hooks.execution.shellwords", "_SCRIPT_SUFFIX", "a literal dot, literal suffixes, anchored"),
    Entry("opsgov_hooks.execution.shellwords", "_ENV_ASSIGNMENT", "one word run then a literal '='", "match"),
    Entry("opsgov_hooks.execution.servicecmds", "_DIGITS", "one digit run, anchored", "fullmatch"),
    Entry("opsgov_hooks.lifecycle.templating", "_OPEN", "a literal"),
)


@dataclasses.dataclass(frozen=True)
class Inline:
    """A pattern built where it is used (``re.search(...)`` in place, or from a value): the test feeds
    ``example``, which has the same shape."""

    module: str
    call: str        # the call as it stands in the source (the test checks it is there)
    example: str     # a pattern of the same shape, for the 1 MiB test
    why: str
    method: str = "match"
    flags: int = 0


INLINE: tuple[Inline, ...] = (
    Inline("opsgov_hooks.records.ledger", "re.search(pattern, text, re.M)",
           r"^operation_id:[ \t]*['\"]?OPS-2026-01-27-001['\"]?[ \t]*(?:#.*)?$",
           "a literal key at a line start, [ \\t]* runs split by literals and optional quotes", "search", re.M),
    Inline("opsgov_hooks.policy.config", 're.search(r"\\(at line (\\d+), column (\\d+)\\)$", str(exc))',
           r"\(at line (\d+), column (\d+)\)$", "literals around two digit runs", "search"),
    Inline("opsgov_hooks.policy.config", "key = re.compile(", r"\s*(?:solo|\"solo\")\s*=",
           "two \\s* runs split by a literal key"),
    Inline("opsgov_hooks.policy.config", "section = re.compile(", r"\s*\[\[?\s*tool\.opsgov\.solo\s*\]",
           "\\s* runs split by literals"),
    Inline("opsgov_hooks.check.pipeline", "pattern = re.compile(", r"(?i)^ops-id\s*:\s*OPS-2026-01-27-001\s*$",
           "literal key, \\s* runs split by literals"),
    Inline("opsgov_hooks.audit.collect", "re.split(", r"^(?:---|\.\.\.)[ \t]*$",
           "a literal at a line start then one [ \\t]* run", "search", re.M),
    Inline("opsgov_hooks.lifecycle.templating", "re.sub(", r"[\x85\u2028\u2029]", "a single class", "search"),
    Inline("opsgov_hooks.lifecycle.allocate", "re.fullmatch(", r"[0-9]{4}-[0-9]{2}-[0-9]{2}", "fixed width",
           "fullmatch"),
    Inline("opsgov_hooks.lifecycle.allocate", "pattern = re.compile(", r"OPS-2026-01-27-([0-9]{3})",
           "a literal then fixed width", "search", re.I),
    Inline("opsgov_hooks.rules.secret_screen", 're.compile("|".join(keyword.DENYLIST), re.IGNORECASE)',
           r"(?i)api_?key|auth_?key|service_?key|account_?key|db_?key|database_?key|priv_?key|private_?key|"
           r"client_?key|db_?pass|database_?pass|key_?pass|password|passwd|pwd|secret|contraseña|contrasena",
           "detect-secrets' own keyword list (its scan runs the same words on the same lines): literal "
           "alternatives; lines longer than WINDOW are cut into windows first", "search"),
    Inline("opsgov_hooks.rules.secret_screen", 'union = [re.compile("|".join(parts))]', r"(?:AKIA[0-9A-Z]{16})|(?:xox[baprs]-[0-9a-zA-Z]{10,48})",
           "detect-secrets' own plugin expressions in one alternation (its scan runs each on the same lines "
           "anyway): opsgov adds no pattern, and lines are cut into windows of WINDOW characters", "search"),
    Inline("opsgov_hooks.rules.secret_screen", "union = [re.compile(part) for part in parts]",
           r"(?:AKIA[0-9A-Z]{16})", "detect-secrets' own plugin expressions one by one, when they cannot be "
           "joined (its scan runs each on the same lines anyway); lines are cut into windows of WINDOW "
           "characters", "search"),
    Inline("opsgov_hooks.rules.secret_screen", "[re.compile(pattern, flags) for pattern, flags in alone]",
           r"(?:AKIA[0-9A-Z]{16})", "detect-secrets' own plugin expressions that cannot be joined (its scan "
           "runs each on the same lines anyway); lines are cut into windows of WINDOW characters", "search"),
    Inline("opsgov_hooks.rules.secret_screen", "compiled[i] = re.compile(guarded[i][2], guarded[i][3])",
           r"-----BEGIN[ A-Z]*PRIVATE KEY-----", "detect-secrets' own plugin expressions, each tried only on a "
           "line that holds its literal run (its scan runs each on the same lines anyway); lines are cut into "
           "windows of WINDOW characters", "search"),
    Inline("opsgov_hooks.rules.secret_screen", "re.compile(test[1], test[2])", r"([\'\"])([0-9a-fA-F]+)(\1)",
           "detect-secrets' own quoted-string expression of an entropy plugin, the one its scan runs on the "
           "same lines; lines are cut into windows of WINDOW characters", "findall"),
    Inline("opsgov_hooks.execution.steptext", "re.finditer(", "\n", "a literal", "search"),
)
