"""`jixiao diff`: golden files for every kind of change, the 2024 → 2025 diff, git revisions."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from dsl.audit.diff import diff_rulesets
from dsl.audit.diff_model import RulesetDiff
from dsl.audit.diff_render import diff_markdown, diff_text
from dsl.audit.rulesource import RuleSourceError, load_rules
from dsl.compile.canonical import digest
from tests.dsl.helpers import run_cli

REPO = Path(__file__).resolve().parents[3]
CASES = Path(__file__).with_name("cases")
GOLDEN = Path(__file__).with_name("golden")
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())
_DIGEST = re.compile(r"\b[0-9a-f]{64}\b|(?<=digest )[0-9a-f]{12}\b")


@pytest.fixture(autouse=True)
def _at_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    # Positions are shown relative to the working directory, as a user at the repo sees them.
    monkeypatch.chdir(REPO)


def masked(text: str) -> str:
    """Digests change whenever the canonical form gains a field; the goldens pin the rest."""
    return _DIGEST.sub("<digest>", text)


def golden(name: str, text: str) -> None:
    """Compares with golden/<name>; UPDATE_GOLDEN=1 rewrites it."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def case_diff(case: str) -> RulesetDiff:
    """The diff of one paired folder under cases/."""
    base = f"tests/dsl/audit/cases/{case}"
    return diff_rulesets(load_rules(f"{base}/old"), load_rules(f"{base}/new"))


@pytest.mark.parametrize("case", CASE_NAMES)
def test_case_golden(case: str) -> None:
    d = case_diff(case)
    golden(f"diff-{case}.txt", masked(diff_text(d)))
    golden(f"diff-{case}.json", masked(json.dumps(d.as_json(), ensure_ascii=False, indent=1)))


def test_every_kind_of_change_has_a_case() -> None:
    seen = {(c.op, c.what, c.attr) for case in CASE_NAMES for c in case_diff(case).changes}
    for expected in [
        ("changed", "indicator", "points"),
        ("changed", "indicator", "rule"),
        ("changed", "category", "weight"),
        ("changed", "scorecard", "floor"),
        ("changed", "cap", "value"),
        ("changed", "link", "ratio"),
        ("changed", "joint", "cap"),
        ("changed", "tier", "rule"),
        ("changed", "grade", "rule"),
        ("changed", "rank", "tie-breakers"),
        ("changed", "item", "amount"),
        ("changed", "component", "rule"),
        ("renamed", "indicator", "title"),
        ("renamed", "category", "title"),
        ("renamed", "scorecard", "title"),
        ("renamed", "fact type", "title"),
        ("added", "indicator", None),
        ("removed", "indicator", None),
        ("added", "category", None),
        ("added", "fact type", None),
        ("removed", "fact type", None),
        ("added", "item", None),
        ("removed", "item", None),
        ("added", "link", None),
        ("added", "tier", None),
        ("added", "grade", None),
    ]:
        assert expected in seen


def test_only_reformatted_is_empty() -> None:
    d = case_diff("reformatted")
    assert d.changes == ()
    # Files moved, comments and layout changed, indicators reordered: a text diff sees a lot.
    assert d.old.digest != d.new.digest or d.old.source != d.new.source


def test_level_table_per_level_and_formula_parameters() -> None:
    by = {(c.where, c.attr): c for c in case_diff("level_tables").changes}
    r2 = by[("scorecard bureau › category key › indicator R2", "rule")]
    assert [(x.key, x.old, x.new) for x in r2.details] == [("provincial", "3", "2")]
    rules = {(c.where, c.attr): c for c in case_diff("scoring_rules").changes}
    r1 = rules[("scorecard bureau › category key › indicator R1", "rule")]
    assert [(x.key, x.old, x.new) for x in r1.details] == [("number", "2", "3")]
    assert r1.old_at == "tests/dsl/audit/cases/scoring_rules/old/cards.jx:7"
    g1 = rules[("scorecard bureau › category general › indicator G1", "rule")]
    assert g1.details == () and g1.note == "the rule's structure changed"


# ---- the shipped rules ----------------------------------------------------------------------
# Reference README §3, item by item: (op, where, attr, old, new).
SECTION_3 = {
    ("changed", "scorecard county › category key › indicator K2", "points", "25", "20"),
    ("changed", "scorecard county › category key › indicator K3", "points", "15", "20"),
    ("removed", "scorecard county › category general › indicator G4", None, None, None),
    ("added", "scorecard county › category general › indicator G3", None, None, None),
    ("changed", "items unit_items › cap bonus", "value", "4", "5"),
    ("changed", "items person_items › cap bonus", "value", "2", "3"),
    ("changed", "joint dept_liability › link issue", "ratio", "10%", "20%"),
    ("changed", "scorecard county", "floor", None, "60"),
    ("changed", "scorecard dept", "floor", None, "60"),
}


def test_2024_to_2025_is_exactly_section_3() -> None:
    d = diff_rulesets(load_rules("rules/2024"), load_rules("rules/2025"))
    simple = {(c.op, c.where, c.attr, c.old, c.new) for c in d.changes if c.attr != "rule"}
    simple -= {c for c in simple if c[2] == "final"}
    assert simple == SECTION_3
    rules = {c.where: c for c in d.changes if c.attr == "rule"}
    assert set(rules) == {
        "scorecard county › category key › indicator K2",
        "scorecard county › category key › indicator K3",
        "scorecard county › tier first",
        "scorecard dept › tier first",
    }
    k2 = rules["scorecard county › category key › indicator K2"]
    assert k2.old is not None and "max(17, 25 - 2 * (r - 1))" in k2.old
    assert k2.new is not None and "max(12, 20 - (r - 1))" in k2.new
    assert [(x.old, x.new) for x in k2.details] == [("17", "12"), ("25", "20"), ("2", "1")]
    assert (k2.old_at, k2.new_at) == ("rules/2024/county.jx:16", "rules/2025/county.jx:16")
    k3 = rules["scorecard county › category key › indicator K3"]
    assert [(x.old, x.new) for x in k3.details] == [("3", "4")]
    for tier in ("scorecard county › tier first", "scorecard dept › tier first"):
        assert [(x.key, x.old, x.new) for x in rules[tier].details] == [("quota", "25%", "30%")]
    (final,) = [c for c in d.changes if c.attr == "final"]
    assert final.where == "scorecard person"
    assert final.new == (
        "0.9 * (base + bonus - penalty - joint) + 0.1 * county[ancestor(county_bureau)].final"
    )
    assert len(d.changes) == 14
    # Not reported: the header's name and year, comments, tests, info_adopted's `unscored`.
    assert not any(c.what in ("ruleset", "fact type") for c in d.changes)


def test_2024_to_2025_golden() -> None:
    d = diff_rulesets(load_rules("rules/2024"), load_rules("rules/2025"))
    golden("diff-2024-2025.txt", masked(diff_text(d)))
    golden("diff-2024-2025.md", masked(diff_markdown(d)))
    golden("diff-2024-2025.json", masked(json.dumps(d.as_json(), ensure_ascii=False, indent=1)))
    assert d.old.digest == digest(load_rules("rules/2024").program)


def test_git_revision_of_a_folder() -> None:
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    old = load_rules("HEAD:rules/2024")
    assert old.label == "HEAD:rules/2024"
    d = diff_rulesets(old, load_rules("HEAD:rules/2025"))
    k2 = next(c for c in d.changes if c.attr == "points")
    assert k2.old_at is not None and k2.old_at.startswith("HEAD:rules/2024/")
    assert len(d.changes) == 14


def test_unknown_source_is_an_error() -> None:
    with pytest.raises(RuleSourceError):
        load_rules("no/such/folder")


def test_cli_formats(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "diff", "rules/2024", "rules/2025", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["format"] == "jixiao-diff/1" and len(data["changes"]) == 14
    assert data["from"]["year"] == 2024 and data["to"]["year"] == 2025
    code, out, _ = run_cli(capsys, "diff", "rules/2024", "rules/2025", "--format", "markdown")
    assert code == 0 and out.startswith("# Rule changes: `rules/2024` → `rules/2025`")
    code, out, err = run_cli(capsys, "diff", "rules/2024", "nowhere")
    assert code == 1 and "nowhere" in err


# 《衡阳市税务局2026年度绩效考评办法》, section by section: every change of 2025 → 2026.
CHANGES_2026 = {
    # §1.1: agency staff need a post (county staff need none); every person is one or the other
    ("changed", "person attrs › field post", "type"),
    ("changed", "organisation", "persons"),
    ("added", "sequence county_staff", None),
    ("added", "sequence agency_staff", None),
    ("changed", "sequence staff", "members"),
    # §1.2: new facts
    ("added", "fact type risk_closure", None),
    ("added", "fact type assigned_task", None),
    # §2: K3 by deviation from the mean
    ("changed", "scorecard county › category key › indicator K3", "rule"),
    # §4.1: the job-coefficient method and its table
    ("changed", "scorecard person › component performance", "rule"),
    ("added", "table post_coefficient", None),
    # §4.2: leader-assigned tasks
    ("added", "items person_items › item task_completed", None),
    ("added", "items person_items › item task_late", None),
    ("added", "items person_items › item task_failed", None),
    # §4.3: agency staff take their department's final
    ("changed", "scorecard person", "final"),
    # §5: grading groups and quotas linked to the tier
    ("changed", "scorecard person › rank", "within"),
    ("changed", "scorecard person › grade excellent", "rule"),
    ("added", "table excellent_share", None),
    # §6, §7: the performance-bonus pool
    ("added", "table tier_coefficient", None),
    ("added", "pool pool", None),
}


def test_2025_to_2026_is_exactly_the_2026_rulebook() -> None:
    d = diff_rulesets(load_rules("rules/2025"), load_rules("rules/2026"))
    assert {(c.op, c.where, c.attr) for c in d.changes} == CHANGES_2026
    assert len(d.changes) == len(CHANGES_2026)
    excellent = next(c for c in d.changes if c.where == "scorecard person › grade excellent")
    assert excellent.old is not None and "quota(20%)" in excellent.old
    assert excellent.new is not None and "quota(excellent_share)" in excellent.new
    golden("diff-2025-2026.txt", masked(diff_text(d)))


def test_table_rows_and_pool_statements_are_compared(tmp_path: Path) -> None:
    import shutil

    new = tmp_path / "2026"
    shutil.copytree("rules/2026", new, ignore=shutil.ignore_patterns("tests"))
    tables = new / "tables.jx"
    text = tables.read_text(encoding="utf-8").replace("first: 25%", "first: 30%", 1)
    tables.write_text(
        text.replace('clerk "办事员": 0.90', 'clerk "办事员": 0.95'), encoding="utf-8"
    )
    pool = new / "pool.jx"
    text = pool.read_text(encoding="utf-8").replace(
        "show per_head = 12000.00", "show per_head = 13000"
    )
    pool.write_text(text.replace("subject asc", "rank asc, subject asc"), encoding="utf-8")
    d = diff_rulesets(load_rules("rules/2026"), load_rules(str(new)))
    got = {(c.where, c.attr): c for c in d.changes}
    assert set(got) == {
        ("table excellent_share", "rows"),
        ("table post_coefficient", "rows"),
        ("pool pool › show per_head", "value"),
        ("pool pool", "allocate"),
    }
    rows = got["table excellent_share", "rows"].details
    assert [(x.key, x.old, x.new) for x in rows] == [("first", "25%", "30%")]
    assert [(x.key, x.old, x.new) for x in got["table post_coefficient", "rows"].details] == [
        ("clerk", "0.90", "0.95")
    ]
    assert got["pool pool", "allocate"].new == (
        "bonus_amount unit 0.01 largest remainder by final desc, rank asc, subject asc"
    )


def test_vetoes_direct_bands_and_rounding_are_changes(tmp_path: Path) -> None:
    from tests.dsl.engine.test_vetoes_below import RULES

    old, new = tmp_path / "old" / "2025", tmp_path / "new" / "2025"
    old.mkdir(parents=True)
    new.mkdir(parents=True)
    (old / "rules.jx").write_text(RULES, encoding="utf-8")
    changed = RULES.replace(
        "  grade excellent when count(commendation, level == national) > 0\n",
        "  grade excellent when count(commendation) > 0\n  round final 0 half_up\n",
    ).replace("veto any descendant(county_dept).major_violation tier third", "veto all "
              "descendant(county_dept).major_violation tier third")  # fmt: skip
    (new / "rules.jx").write_text(changed, encoding="utf-8")
    d = diff_rulesets(load_rules(str(old)), load_rules(str(new)))
    got = {(c.op, c.what, c.path[-1][1]) for c in d.changes}
    assert got == {
        ("removed", "veto", "any descendant(county_dept).major_violation tier third"),
        ("added", "veto", "all descendant(county_dept).major_violation tier third"),
        ("removed", "direct", "grade excellent when count(commendation, level == national) > 0"),
        ("added", "direct", "grade excellent when count(commendation) > 0"),
        ("added", "round", "final 0 half_up"),
    }
