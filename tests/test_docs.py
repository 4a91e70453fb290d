"""Documentation that is generated or must list things: docs/formats.md is current, and the
README documents every command."""

from pathlib import Path

from toolkit.cli import app
from toolkit.docgen import FORMATS_DOC, formats_markdown
from toolkit.formats import all_formats

ROOT = Path(__file__).resolve().parents[1]


def test_formats_doc_is_current():
    assert FORMATS_DOC == ROOT / "docs" / "formats.md"
    assert FORMATS_DOC.read_text(encoding="utf-8") == formats_markdown(), \
        "docs/formats.md is stale: run `python -m toolkit.docgen`"


def test_formats_doc_lists_every_cell_and_rule():
    text = formats_markdown()
    for fmt in all_formats():
        section = text.split(f"## Format `{fmt.id}`")[1].split("## Format ")[0]
        for cell in fmt.cells.values():
            line = next(l for l in section.splitlines() if l.startswith(f"| `{cell.id}` |"))
            assert cell.column.label in line and cell.kind.unit in line and cell.table.number in line
            if cell.row.label:
                assert cell.row.label in line
        for rule in fmt.rules:
            line = next(l for l in section.splitlines() if l.startswith(f"| `{rule.id}` |"))
            assert rule.wording in line and rule.severity in line


def command_names():
    names = []
    for command in app.registered_commands:
        names.append(command.name or command.callback.__name__.replace("_command", "").replace("_", "-"))
    return names


def test_readme_documents_every_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Commands", 1)[1]
    names = command_names()
    assert {"blank", "demo", "formats"} <= set(names)
    for name in names:
        assert f"| `nianbao {name}" in table, f"README's command table has no row for `nianbao {name}`"


def test_readme_setup_commands_match_ci():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install . && nianbao demo" in readme
    test_command = "pip install '.[test]' && python -m pytest -q"
    assert test_command in readme and test_command in ci
