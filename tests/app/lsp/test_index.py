"""The index behind navigation, and completion, without a server."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from lsprotocol.types import CompletionItemKind

from app.lsp.complete import complete
from app.lsp.describe import hover
from app.lsp.refs import build
from dsl.fmt.formatter import format_source
from dsl.syntax import nodes as n
from dsl.syntax.program import load
from tests.conftest import REPO_ROOT


@dataclasses.dataclass(frozen=True)
class FutureDecl:
    """A declaration of a kind added to the language later."""

    id: str = "future"
    span: n.Span = n.NOWHERE


def test_an_unknown_declaration_is_skipped() -> None:
    """A new kind of declaration gives no navigation, and the rest of the index is whole."""
    loaded = load(REPO_ROOT / "rules" / "2025")
    module = loaded.modules[0]
    decls = (*module.decls, FutureDecl())
    loaded.modules[0] = dataclasses.replace(module, decls=decls)  # type: ignore[arg-type]
    index = build(loaded, loaded.program)
    assert ("fact", "inspection_issue") in index.decls
    assert len(index.references(("fact", "inspection_issue"))) == 2


def test_completion_of_match_arms_offers_the_enum_values() -> None:
    """Inside `match value(style_grade.grade) {` the grades are offered."""
    loaded = load(REPO_ROOT / "rules" / "2025")
    text = "scorecard s for q {\n  score 30 * match value(style_grade.grade) {\n    "
    items = complete(text, len(text), loaded.program, None)
    values = {i.label: i.detail for i in items if i.kind == CompletionItemKind.EnumMember}
    assert values == {"excellent": "优秀", "good": "良好", "fair": "一般", "poor": "较差"}


ANNUAL = """\
ruleset "annual" {
  year 2025
  periods quarter, year
  round 2 half_up
}

organisation {
  unit kinds {
    county_bureau
  }
  unit attrs {
    class: large | small?
  }
}

sequence bureaus = unit county_bureau

fact score_fact period on unit {
  value: number in 0..100
  quality: number in 0..100
}

scorecard county for bureaus {
  periods quarter

  category main weight 100% max 100 {
    indicator M1 points 60 {
      score value(score_fact.value) * 60%
    }

    indicator M2 points 40 max 45 {
      applies when attr(class) == large
      score value(score_fact.quality) * 40%
    }
  }

  annual mean(quarters)

  rank quarter within attr(class) by final desc, M2 desc
  rank year by final desc, M1 asc
}
"""


def test_the_index_knows_both_rankings_and_unit_attributes(tmp_path: Path) -> None:
    """Keys of `rank quarter ...` and `rank year ...` are references of their indicators; the
    group of the quarters' ranking (`attr(class)`) refers to the unit attribute."""
    (tmp_path / "rules.jx").write_text(ANNUAL, encoding="utf-8")
    loaded = load(tmp_path)
    index = build(loaded, loaded.program)
    lines = ANNUAL.splitlines()
    quarter = next(i for i, x in enumerate(lines, 1) if x.startswith("  rank quarter"))
    year = next(i for i, x in enumerate(lines, 1) if x.startswith("  rank year"))
    m2 = {s.line for s in index.references(("part", "county", "M2"))}
    m1 = {s.line for s in index.references(("part", "county", "M1"))}
    assert quarter in m2 and year in m1
    klass = {s.line for s in index.references(("attr", "class"))}
    applies = next(i for i, x in enumerate(lines, 1) if "applies when" in x)
    assert {applies, quarter} <= klass


def test_hover_tells_not_applicable_and_every_ranking(tmp_path: Path) -> None:
    (tmp_path / "rules.jx").write_text(ANNUAL, encoding="utf-8")
    loaded = load(tmp_path)
    index = build(loaded, loaded.program)
    sources = {str(tmp_path / "rules.jx"): ANNUAL}
    m2 = hover(index.decls[("part", "county", "M2")], loaded.program, sources)
    assert "40 points (up to 45)" in m2
    assert "applies when `attr(class) == large`" in m2 and "不涉及" in m2
    card = hover(index.decls[("scorecard", "county")], loaded.program, sources)
    assert "ranked per quarter by final desc, M2 desc" in card
    assert "ranked per year by final desc, M1 asc" in card
    klass = hover(index.decls[("attr", "class")], loaded.program, sources)
    assert "unit attribute" in klass


def test_completion_offers_the_newer_statements() -> None:
    loaded = load(REPO_ROOT / "rules" / "2025")
    text = "scorecard s for q {\n  "
    got = {i.label for i in complete(text, len(text), loaded.program, None)}
    assert {"rank quarter", "rank year", "veto when", "grade", "round"} <= got
    text = "scorecard s for q {\n  category c weight 100% max 100 {\n    indicator K points 1 {\n  "
    got = {i.label for i in complete(text, len(text), loaded.program, None)}
    assert {"applies when", "any", "all", "descendant"} <= got


def test_descendants_refer_to_their_kinds_and_facts(tmp_path: Path) -> None:
    from tests.dsl.engine.test_vetoes_below import RULES

    text = RULES.replace(
        "count(descendant(county_dept).inspection_issue)",
        "count(descendant(county_dept | county_bureau).inspection_issue)",
    )
    (tmp_path / "rules.jx").write_text(text, encoding="utf-8")
    loaded = load(tmp_path)
    index = build(loaded, loaded.program)
    lines = text.splitlines()
    when = next(i for i, x in enumerate(lines, 1) if x.startswith("  veto when"))
    below = [i for i, x in enumerate(lines, 1) if x.startswith("  veto any descendant")]
    assert when in {s.line for s in index.references(("fact", "inspection_issue"))}
    assert {when, *below} <= {s.line for s in index.references(("kind", "county_dept"))}
    assert when in {s.line for s in index.references(("kind", "county_bureau"))}
    assert set(below) <= {s.line for s in index.references(("fact", "major_violation"))}
    # formatting keeps the kinds as alternatives
    assert format_source(text, "rules.jx") == text
