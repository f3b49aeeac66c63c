"""Titles of fields and bands: parsed, formatted back, and labels outside the digest."""

from __future__ import annotations

import re
from pathlib import Path

from dsl.compile.canonical import canonical
from dsl.compile.compiler import compile_path
from dsl.fmt.formatter import format_source
from dsl.syntax import nodes as n
from dsl.syntax.parser import parse_text
from tests.dsl.helpers import RULES_2025, copy_rules

# The digest of rules/2025 as it was before fields and bands could have titles, computed by
# the code of that time: titles are labels, so the titled rules keep the digest they were
# stored with, and so does any ruleset whose titles are added, changed or removed.
DIGEST_BEFORE_TITLES = "4e76edd6b98821f25db49bb408451bf5ddb1eb26d12a46219b1f291fd1296db6"
_TITLE = re.compile(r'^(\s+\w+) "[^"]*":', re.MULTILINE)

SOURCE = """fact issue "督察发现问题" dated on unit {
  level "级别": provincial "省级" | municipal "市级"
  note: text?
}
"""


def _fact() -> n.FactDecl:
    got = parse_text(SOURCE, "t.jx")
    assert got.diagnostics == [] and got.module is not None
    decl = got.module.decls[0]
    assert isinstance(decl, n.FactDecl)
    return decl


def test_field_titles_parse_and_format_back() -> None:
    decl = _fact()
    assert [(f.name, f.title) for f in decl.fields] == [("level", "级别"), ("note", None)]
    assert format_source(SOURCE, "t.jx") == SOURCE


def test_a_field_title_is_left_out_of_the_canonical_form() -> None:
    titled, plain = (canonical(f) for f in _fact().fields)
    assert "title" not in titled and "title" not in plain
    assert set(titled) == set(plain) == {"node", "name", "type"}


def test_titles_do_not_change_the_digest(tmp_path: Path) -> None:
    rules = copy_rules(RULES_2025, tmp_path / "2025")
    stripped = 0
    for path in rules.glob("*.jx"):
        text, count = _TITLE.subn(r"\1:", path.read_text(encoding="utf-8"))
        path.write_text(text, encoding="utf-8")
        stripped += count
    assert stripped == 32  # 21 field, 2 attribute and 9 band titles
    assert compile_path(rules).digest == DIGEST_BEFORE_TITLES
    assert compile_path(RULES_2025).digest == DIGEST_BEFORE_TITLES


def test_band_titles_reach_the_program() -> None:
    card = compile_path(RULES_2025).program.scorecards["person"]
    assert card.grades is not None
    assert [(b.id, b.title) for b in card.grades.bands] == [
        ("excellent", "优秀"),
        ("incompetent", "不称职"),
        ("competent", "称职"),
    ]
