"""`points 15 max 18` (个性指标加减分): an indicator that may score above its points, up to a
ceiling, with the category still adding up by points and its bounds proved from the ceilings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dsl.check.checker import check
from dsl.fmt.formatter import format_source
from dsl.syntax.program import load
from dsl.verify.run import verify
from tests.dsl.helpers import (
    HANDWORKED,
    REPO,
    RULES_2025,
    copy_rules,
    score_json,
    write_facts,
)

DOC = (REPO / "docs" / "language.md").read_text(encoding="utf-8")
START = DOC.index("# 个性指标加减分: a county bureau's own work item")
EXAMPLE = DOC[START : DOC.index("```", START)]


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    dest = copy_rules(RULES_2025, tmp_path / "rules")
    (dest / "own.jx").write_text(EXAMPLE, encoding="utf-8")
    return dest


def _fact(i: int, subject: str, ftype: str, outcome: str | None = None) -> dict[str, Any]:
    data = {"outcome": outcome} if outcome else {}
    return {"id": f"o{i}", "type": ftype, "subject": subject, "date": "2025-02-10", "data": data}


def test_the_example_checks_cleanly(rules: Path) -> None:
    assert [d for d in check(load(rules)) if d.is_error] == []
    assert format_source(EXAMPLE, "own.jx") == EXAMPLE


def test_an_indicator_scores_above_its_points_up_to_its_max(
    rules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    facts = [
        *(_fact(i, "nanyue", "own_work", "commended") for i in range(4)),
        _fact(4, "hengshan", "own_work", "commended"),
        _fact(5, "hengshan", "own_work", "criticised"),
        _fact(6, "hengshan", "own_work", "criticised"),
        _fact(7, "hengshan", "overdue_document"),
        _fact(8, "hengshan", "overdue_document"),
    ]
    data = tmp_path / "ex"
    data.mkdir()
    (data / "org.json").write_text((HANDWORKED / "org.json").read_text("utf-8"), "utf-8")
    write_facts(data / "facts.jsonl", facts)
    got = score_json(capsys, rules, data, "2025Q1")
    own = {r["subject"]: r for r in got["results"] if r["scorecard"] == "own"}
    # nanyue: P2 = min(18, 15 + 4) = 18 (3 above its points); work = 85 + 18 = 103 = final
    assert own["nanyue"]["indicators"] == {"P1": "85.00", "P2": "18.00"}
    assert (own["nanyue"]["categories"]["work"], own["nanyue"]["final"]) == ("103.00", "103.00")
    # hengshan: P2 = 15 + 1 − 2 × 2 = 12; P1 = 85 − 2 × 5 = 75; work = 87
    assert own["hengshan"]["indicators"] == {"P1": "75.00", "P2": "12.00"}
    assert own["hengshan"]["final"] == "87.00"
    # hengdong: nothing happened: 85 + 15 = 100
    assert own["hengdong"]["final"] == "100.00"
    assert [own[s]["rank"] for s in ("nanyue", "hengdong", "hengshan")] == [None] * 3


def test_verify_bounds_the_category_by_the_ceilings(rules: Path) -> None:
    report = verify(load(rules))
    rows = {(r.what, r.value) for r in report.rows.get("own", []) if r.section == "ranges"}
    assert ("P2 个性指标", "0 .. 18") in rows
    assert ("work 个性工作", "0 .. 103") in rows
    assert ("final", "0 .. 103") in rows


def test_a_rescaled_category_is_bounded_by_the_best_rate(
    rules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # P1 applies only to bureaus with a satisfaction score: without one, work = P2 × 100 / 15,
    # up to 18 × 100 / 15 = 120 (not 103)
    own = rules / "own.jx"
    text = own.read_text("utf-8").replace(
        "deduct per overdue_document",
        "applies when present(value(satisfaction.value))\n      deduct per overdue_document",
    )
    own.write_text(text, "utf-8")
    report = verify(load(rules))
    rows = {(r.what, r.value) for r in report.rows.get("own", []) if r.section == "ranges"}
    assert ("work 个性工作", "0 .. 120") in rows
    data = tmp_path / "ex"
    data.mkdir()
    (data / "org.json").write_text((HANDWORKED / "org.json").read_text("utf-8"), "utf-8")
    facts = [_fact(i, "nanyue", "own_work", "commended") for i in range(4)]
    facts.append(_fact(9, "hengshan", "own_work", "criticised"))
    write_facts(data / "facts.jsonl", facts)
    got = score_json(capsys, rules, data, "2025Q1")
    own_res = {r["subject"]: r for r in got["results"] if r["scorecard"] == "own"}
    # nanyue: 18 of 15 applicable points × 100 = 120; hengshan: 13 of 15 × 100 = 86.666… → 86.67
    assert own_res["nanyue"]["categories"]["work"] == "120.00"
    assert own_res["hengshan"]["final"] == "86.67"
    assert own_res["hengshan"]["not_applicable"] == ["P1"]
