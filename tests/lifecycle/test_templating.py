"""Filling templates: every placeholder filled, unknown ones refused at path:line:col, nothing evaluated."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Repo
from opsgov_hooks.policy.config import default_policy, policy_from_mapping
from opsgov_hooks.records.declaration import Declaration
from opsgov_hooks.lifecycle.templating import (PLACEHOLDERS, PROMPT_TEMPLATE, RUNBOOK_TEMPLATE, Template, TemplateError,
                                     inline, packaged_template, problems, render, template_values, yaml_scalar)
from opsgov_hooks.records.yamlstrict import load_documents

ROOT = Path(__file__).resolve().parents[2]
DECLARATION = Declaration("OPS-2026-01-27-001", "Tune scrape", "Reduce load", "LOW_RISK_CONFIG", "metrics only",
                          "git revert HEAD", ("ops/monitoring/**", "docs/x.md"), ("prometheus", "grafana"),
                          "ops/operations/OPS-2026-01-27-001.md")


def values() -> dict[str, str]:
    return template_values(DECLARATION, default_policy())


def test_every_placeholder_is_filled() -> None:
    text = "".join(f"{name}={{{{ {name} }}}}\n" for name in PLACEHOLDERS)
    out = render(Template("t.txt", text), values())
    assert "{{" not in out.replace("OPEN_BRACES={{", "")
    assert set(values()) == set(PLACEHOLDERS)


def test_exact_rendering() -> None:
    template = Template("t.md", "# {{OPERATION_ID}}: {{ OPERATION_NAME }}\nPaths: {{  ALLOWED_PATHS\t}}\n"
                                "Services: {{ ALLOWED_SERVICES }}\nGates: {{ VERIFICATION_GATES }}\n"
                                "Literal: {{ OPEN_BRACES }}.State}}\n")
    assert render(template, values()) == (
        "# OPS-2026-01-27-001: Tune scrape\nPaths: ops/monitoring/**, docs/x.md\nServices: prometheus, grafana\n"
        "Gates: functional (e.g. curl -fsS http://localhost:<port>/<health>, promtool check config)\n"
        "Literal: {{.State}}\n")


def test_not_allowed_renders_the_standards_list() -> None:
    assert values()["NOT_ALLOWED"] == (
        "- No trading logic modifications\n"
        "- No writes to trading Redis streams\n"
        "  - quantum:stream:apply.plan\n"
        "  - quantum:stream:trade.intent\n"
        "  - quantum:stream:ai.decision\n"
        "- No secrets, keys or exchange credential changes\n"
        "- No Grafana DB modifications\n"
        "- No firewall, network or user permission changes")


def test_not_allowed_follows_the_config() -> None:
    policy = policy_from_mapping({"forbidden": [{"id": "db", "message": "no database writes", "paths": ["db/**"]}]},
                                 ".opsgov.yaml")
    assert template_values(DECLARATION, policy)["NOT_ALLOWED"] == "- No database writes"
    empty = policy_from_mapping({"forbidden": []}, ".opsgov.yaml")
    assert template_values(DECLARATION, empty)["NOT_ALLOWED"] == "- (no forbidden rules configured)"


def test_no_services_and_no_gates() -> None:
    d = Declaration("OPS-2026-01-27-001", "n", "o", "READ_ONLY", "b", "r", ("a/**",), (), "p")
    filled = template_values(d, default_policy())
    assert (filled["ALLOWED_SERVICES"], filled["VERIFICATION_GATES"]) == ("(none)", "none required")


def test_unknown_placeholder_is_named_with_its_position() -> None:
    template = Template("docs/OPS_RUNBOOK_TEMPLATE.md", "# {{ OPERATION_ID }}\n\nOwner: {{ OWNER }}\n")
    with pytest.raises(TemplateError) as exc:
        render(template, values())
    assert str(exc.value) == (
        "the template docs/OPS_RUNBOOK_TEMPLATE.md cannot be filled:\n"
        "docs/OPS_RUNBOOK_TEMPLATE.md:3:8: unknown placeholder {{ OWNER }} (known: " + ", ".join(sorted(PLACEHOLDERS))
        + ")")


def test_every_problem_is_listed_in_file_order() -> None:
    text = ("a {{ operation_id }} b\n"     # lower case: malformed
            "c {{ OPERATION_ID\n"          # never closed on its line
            "Modify ONLY files under: <ALLOWED_PATHS>\n"
            "curl http://localhost:<PORT>/ and <exact command>\n"
            "{{ X-Y }} {{}}\n")
    found = problems(Template("t.txt", text))
    assert [p.split(": ", 1)[0] for p in found] == ["t.txt:1:3", "t.txt:2:3", "t.txt:3:26", "t.txt:4:23",
                                                    "t.txt:5:1", "t.txt:5:11"]
    assert found[0] == ("t.txt:1:3: malformed placeholder '{{ operation_id }}': write {{ NAME }} with NAME in "
                        "capitals on one line ({{ OPEN_BRACES }} for a literal '{{')")
    assert found[2] == ("t.txt:3:26: placeholder <ALLOWED_PATHS> in the standard's notation would be left unfilled: "
                        "write {{ ALLOWED_PATHS }}")
    assert found[3] == ("t.txt:4:23: placeholder <PORT> in the standard's notation would be left unfilled: write a "
                        "hint for a person in lower case, e.g. <exact command>")


def test_values_are_never_evaluated_or_rescanned() -> None:
    d = Declaration("OPS-2026-01-27-001", "{{ OBJECTIVE }} {% for x in y %}", "${HOME} $(id)", "LOW_RISK_CONFIG",
                    "b", "r", ("a/**",), (), "p")
    out = render(Template("t", "{{ OPERATION_NAME }}|{{ OBJECTIVE }}"), template_values(d, default_policy()))
    assert out == "{{ OBJECTIVE }} {% for x in y %}|${HOME} $(id)"


def test_multiline_values_cannot_start_a_section() -> None:
    assert inline("first\n## 3) Execution log\r\n[STEP 1 | x]\x1b[31m") == \
        "first\n    ## 3) Execution log\n    [STEP 1 | x] [31m"


@pytest.mark.parametrize("value", ["plain text", "Tune: scrape", "a # comment", "yes", "No", "010", "12:30", "~",
                                   "**/secrets/**", "ops/**", "- dash", "'quoted'", 'say "hi"', "a\nb",
                                   "tab\there", "Müller", "line\u2028sep", " padded ", "", "null", "[x]", "@a"])
def test_yaml_scalar_round_trips_through_the_strict_loader(value: str) -> None:
    docs, findings = load_documents("x.yaml", f"key: {yaml_scalar(value)}\n")
    assert findings == []
    assert docs[0].data == {"key": value}


def test_packaged_templates_have_no_problems() -> None:
    for name in (RUNBOOK_TEMPLATE, PROMPT_TEMPLATE):
        assert problems(packaged_template(name)) == []


@pytest.mark.parametrize("repo_path,name", [("docs/OPS_RUNBOOK_TEMPLATE.md", RUNBOOK_TEMPLATE),
                                            ("ops/ops_prompt_template_v1.txt", PROMPT_TEMPLATE)])
def test_repository_copies_equal_the_packaged_templates(repo_path: str, name: str) -> None:
    assert (ROOT / repo_path).read_bytes() == (ROOT / "opsgov_hooks" / "data" / name).read_bytes()


def test_repository_template_overrides_the_packaged_one(repo: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo.write("docs/OPS_RUNBOOK_TEMPLATE.md", "# {{ OPERATION_ID }}\n\n## 3) Execution log\n")
    repo.chdir(monkeypatch)
    code, out, _err = run_cli("new", "--name", "n", "--objective", "o", "--risk", "READ_ONLY", "--blast-radius",
                              "b", "--rollback", "r", "--path", "a/**", "--no-services", "--date", "2026-01-27")
    assert code == 0
    assert repo.read("ops/operations/OPS-2026-01-27-001.md").split("---\n", 2)[2] == \
        "\n# OPS-2026-01-27-001\n\n## 3) Execution log\n"


def test_broken_repository_template_stops_new(repo: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo.write(".opsgov.yaml", "templates:\n  runbook: ops/runbook.md\n")
    repo.write("ops/runbook.md", "# {{ OPERATION_ID }}\nOwner: {{ OWNER }}\n")
    repo.chdir(monkeypatch)
    code, out, err = run_cli("new", "--name", "n", "--objective", "o", "--risk", "READ_ONLY", "--blast-radius",
                             "b", "--rollback", "r", "--path", "a/**", "--no-services", "--date", "2026-01-27")
    assert (code, out) == (2, "")
    assert err.startswith("opsgov: error: the template ops/runbook.md cannot be filled:\n"
                          "ops/runbook.md:2:8: unknown placeholder {{ OWNER }} (known: ")
    assert not (repo.path / "ops/operations").exists()


def test_template_path_outside_the_repository_is_refused(repo: Repo, run_cli, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo.write(".opsgov.yaml", "templates:\n  runbook: ../outside.md\n")
    (repo.path.parent / "outside.md").write_text("# {{ OPERATION_ID }}\n")
    repo.chdir(monkeypatch)
    code, out, err = run_cli("new", "--name", "n", "--objective", "o", "--risk", "READ_ONLY", "--blast-radius",
                             "b", "--rollback", "r", "--path", "a/**", "--no-services", "--date", "2026-01-27")
    assert (code, out) == (2, "")
    assert err == ("opsgov: error: the template path '../outside.md' (config 'templates') leads outside the "
                   "repository; use a path inside it\n")
