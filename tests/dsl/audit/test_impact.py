"""`jixiao impact`: the handworked example under both rulesets, attribution, unknown fact types."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from dsl.audit.impact import run_impact
from dsl.audit.impact_facts import file_facts
from dsl.audit.impact_render import impact_markdown, impact_text
from dsl.audit.impact_report import ImpactReport
from dsl.audit.rulesource import load_rules
from dsl.facts.periods import Period
from dsl.facts.records import read_org, read_raw_facts
from tests.dsl.audit.test_diff import golden, masked
from tests.dsl.helpers import edit, run_cli

REPO = Path(__file__).resolve().parents[3]
HANDWORKED = REPO / "tests" / "examples" / "handworked"


@pytest.fixture(autouse=True)
def _at_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def impact(old: str, new: str, period: str, example: Path = HANDWORKED) -> ImpactReport:
    """The impact of OLD → NEW on an example folder's facts."""
    org = read_org(example / "org.json")
    records, unreadable = read_raw_facts(example / "facts.jsonl")
    facts = file_facts(records, org, "facts.jsonl", unreadable=unreadable)
    return run_impact(load_rules(old), load_rules(new), org, facts, Period.parse(period))


def expected(name: str) -> dict[tuple[str, str], Any]:
    """(scorecard, subject) → the expected result in an example file."""
    data = json.loads((HANDWORKED / name).read_text(encoding="utf-8"))
    return {(r["scorecard"], r["subject"]): r for r in data["results"]}


@pytest.fixture(scope="module")
def q1() -> ImpactReport:
    return impact("rules/2024", "rules/2025", "2025Q1")


@pytest.mark.parametrize(
    ("side", "name"),
    [("old", "expected-2025Q1-under-2024-rules.json"), ("new", "expected-2025Q1.json")],
)
def test_agrees_with_both_expected_files(q1: ImpactReport, side: str, name: str) -> None:
    exp = expected(name)
    got = {(s["scorecard"], s["subject"]): s[side] for s in q1.as_json()["subjects"]}
    assert set(got) == set(exp)
    for key, want in exp.items():
        for field in ("final", "rank", "tier", "grade"):
            if field in want:
                assert got[key][field] == want[field], (key, field)


def test_json_shape(q1: ImpactReport) -> None:
    data = q1.as_json()
    assert data["from"] == q1.diff.old.digest and data["to"] == q1.diff.new.digest
    assert len(data["from"]) == 64 and data["period"] == "2025Q1"
    first = data["subjects"][0]
    assert set(first) >= {"subject", "scorecard", "old", "new", "delta"}
    assert set(first["old"]) == {"final", "rank", "tier", "grade"}
    assert set(data["summary"]) >= {"moved", "largest_gains", "largest_losses", "by_scorecard"}


def test_sorted_by_size_of_change(q1: ImpactReport) -> None:
    deltas = [abs(s.delta) for s in q1.subjects if s.delta is not None]
    assert deltas == sorted(deltas, reverse=True)
    top = q1.subjects[0]
    # §3: no floor in 2024, so hy-risk with nothing scores 0; 2025's floor lifts it to 60.
    assert (top.subject, top.delta) == ("hy-risk", Decimal("60.00"))
    assert top.steps == {"scorecard:dept:floor": Decimal("60.00")}


def test_summary(q1: ImpactReport) -> None:
    s = q1.as_json()["summary"]
    # 30% of 5 departments rounds to 2: hy-service (rank 2) moves up to the first tier.
    assert s["moved"] == 1
    assert s["by_scorecard"]["dept"]["moved"] == 1
    assert s["by_scorecard"]["county"]["mean_change"] == "14.01"  # (25.60 + 9.55 + 6.88) / 3
    assert s["largest_gains"][0] == {"subject": "hy-risk", "scorecard": "dept", "delta": "60.00"}
    assert s["largest_losses"] == [
        {"subject": "nanyue-levy-1", "scorecard": "person", "delta": "-0.04"}
    ]
    assert s["facts_of_unknown_type"] == {"from": {}, "to": {}}


def test_attribution_adds_up_and_names_interactions(q1: ImpactReport) -> None:
    for s in q1.subjects:
        assert s.delta is not None and s.interaction is not None
        assert sum(s.steps.values(), Decimal(0)) + s.interaction == s.delta
    nanyue = next(s for s in q1.subjects if s.subject == "nanyue")
    # K2 alone: 25 − 2 × (2 − 1) = 23 → 20 − (2 − 1) = 19, × 0.7 = −2.80; K3: 9 → 12, × 0.7.
    assert nanyue.steps["scorecard:county:indicator:K2"] == Decimal("-2.80")
    assert nanyue.steps["scorecard:county:indicator:K3"] == Decimal("2.10")
    assert nanyue.interaction == 0
    hengdong = next(s for s in q1.subjects if s.subject == "hengdong")
    # The floor alone lifts 34.40 to 60; with K2's loss the floor makes up 2.80 more.
    assert hengdong.steps["scorecard:county:floor"] == Decimal("25.60")
    assert hengdong.interaction == Decimal("2.80")


def test_year_agrees_with_expected(capsys: pytest.CaptureFixture[str]) -> None:
    r = impact("rules/2024", "rules/2025", "2025")
    exp = expected("expected-2025.json")
    got = {(s.scorecard, s.subject): s.new for s in r.subjects}
    for key, want in exp.items():
        standing = got[key]
        assert standing is not None
        assert str(standing.final) == want["final"]
        assert standing.grade == want.get("grade")


def test_unknown_fact_types_are_counted(tmp_path: Path) -> None:
    rules = tmp_path / "rules-no-ratings"
    shutil.copytree(REPO / "rules" / "2025", rules, ignore=shutil.ignore_patterns("tests"))
    edit(rules / "facts.jx", "fact competition_award", "fact competition_award_x")
    edit(rules / "items.jx", "bonus competition_award by", "bonus competition_award_x by")
    r = impact("rules/2025", str(rules), "2025Q1")
    counted = r.as_json()["summary"]["facts_of_unknown_type"]
    assert counted["from"] == {}
    assert set(counted["to"]) == {"competition_award"} and counted["to"]["competition_award"] > 0


def test_golden_text_and_markdown(q1: ImpactReport) -> None:
    golden("impact-handworked-2025Q1.txt", masked(impact_text(q1)))
    golden("impact-handworked-2025Q1.md", masked(impact_markdown(q1)))


def test_cli(capsys: pytest.CaptureFixture[str]) -> None:
    args: list[str | Path] = [
        "--org",
        HANDWORKED / "org.json",
        "--facts",
        HANDWORKED / "facts.jsonl",
    ]
    code, out, err = run_cli(
        capsys,
        "impact",
        "rules/2024",
        "rules/2025",
        "--period",
        "2025Q1",
        *args,
        "--format",
        "json",
    )
    assert code == 0, err
    assert json.loads(out)["subjects"][0]["subject"] == "hy-risk"
    code, _, err = run_cli(capsys, "impact", "rules/2024", "rules/2025", "--period", "2025Q1")
    assert code == 1 and "--org and --facts" in err


def test_2025_to_2026_on_facts_both_can_score() -> None:
    """Agency staff: only 2026 scores them, and the report says why 2025 cannot."""
    r = impact("rules/2025", "rules/2026", "2026", HANDWORKED.with_name("handworked-2026"))
    by = {(s.scorecard, s.subject): s for s in r.subjects}
    # §2 K3 by deviation from the mean: hengshan's year K3 20 instead of 4 × 0 distinct steps
    assert by["county", "hengshan"].new is not None
    assert by["county", "hengshan"].new.final == Decimal("104.10")
    # §5: under 2025 the quota is 20% of 2 → 0; under 2026 25% of 2 → 1 (hengshan is first)
    levy2 = by["person", "hengshan-levy-2"]
    assert levy2.old is not None and levy2.new is not None
    assert (levy2.old.grade, levy2.new.grade) == ("competent", "excellent")
    only = {s.subject: why for s, why in r.one_side("to")}
    assert set(only) == {"hy-policy-1", "hy-policy-2", "hy-service-1", "hy-service-2"}
    assert "county[…]: the subject has no such unit above it" in only["hy-policy-1"]
    assert r.one_side("from") == []
    text = impact_text(r)
    assert "scored only under rules/2026: hy-policy-1 (person), hy-policy-2 (person)" in text
    assert "rules/2025 cannot score them" in text
    assert "pool under rules/2026: hengshan-pool: group hengshan, head_count 2" in text
    # the facts 2025 does not declare are named, not silently dropped
    assert r.unknown["from"] == {"assigned_task": 9, "risk_closure": 6}


def test_steps_that_need_each_other_are_scored_together(shared_dir: Path) -> None:
    """2025 → 2026 on the 2026 handworked example: an item added to an existing table scores
    alone (a new task_late penalty of 0.5, × 0.9 in the person's final: −0.45 for
    hengdong-levy-2, whose f81 corrects its task to late); the union `staff` cannot score without
    the sequences it joins, nor the final that names them, so they are one line."""
    example = shared_dir / "reference" / "examples" / "handworked-2026"
    org = read_org(example / "org.json")
    records, unreadable = read_raw_facts(example / "facts.jsonl")
    facts = file_facts(records, org, "facts.jsonl", unreadable=unreadable)
    report = run_impact(
        load_rules("rules/2025"), load_rules("rules/2026"), org, facts, Period.parse("2026Q1")
    )
    steps = {s["label"]: s for s in report.as_json()["summary"]["attribution"]["steps"]}
    late = steps["person_items item task_late"]
    assert (late["error"], late["subjects"], late["total"]) == (None, 1, "-0.45")
    moved = {s.subject: s.steps for s in report.subjects if s.steps}
    assert moved["hengdong-levy-2"] == {"items:person_items:item:task_late": Decimal("-0.45")}
    final = steps["person final"]
    assert final["error"] is None
    assert final["changes"] == [3, 4, 5, 13]
    assert final["together_with"] == ["staff", "county_staff", "agency_staff"]
    assert not any("_sel_" in (s["error"] or "") for s in steps.values())
