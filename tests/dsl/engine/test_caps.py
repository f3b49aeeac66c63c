"""Caps per item (`cap praise 2`) as well as per table, and per year as well as per period, for
items and for joint liability; the doc's example scored with the numbers worked beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dsl.check.checker import check
from dsl.syntax.program import load
from tests.dsl.helpers import (
    HANDWORKED,
    REPO,
    RULES_2025,
    copy_rules,
    edit,
    run_cli,
    score_json,
    write_facts,
)

DOC = (REPO / "docs" / "language.md").read_text(encoding="utf-8")
START = DOC.index("# 加减分 capped per item and per year")
EXAMPLE = DOC[START : DOC.index("```", START)]


def _fact(i: int, ftype: str, day: str, level: str, subject: str = "nanyue") -> dict[str, Any]:
    return {
        "id": f"c{i}",
        "type": ftype,
        "subject": subject,
        "date": day,
        "data": {"level": level},
    }


FACTS = [
    _fact(1, "commendation", "2025-02-01", "national"),
    *(_fact(2 + i, "inspection_issue", "2025-02-02", "provincial") for i in range(3)),
    _fact(5, "commendation", "2025-05-01", "provincial"),
    *(_fact(6 + i, "inspection_issue", "2025-05-02", "provincial") for i in range(2)),
    _fact(8, "commendation", "2025-08-01", "municipal"),
    _fact(9, "inspection_issue", "2025-08-02", "provincial"),
]


@pytest.fixture
def example(tmp_path: Path) -> tuple[Path, Path]:
    rules = copy_rules(RULES_2025, tmp_path / "rules")
    (rules / "capped.jx").write_text(EXAMPLE, encoding="utf-8")
    data = tmp_path / "ex"
    data.mkdir()
    (data / "org.json").write_text((HANDWORKED / "org.json").read_text("utf-8"), "utf-8")
    write_facts(data / "facts.jsonl", FACTS)
    return rules, data


def _capped(capsys: pytest.CaptureFixture[str], ex: tuple[Path, Path], period: str) -> Any:
    got = score_json(capsys, ex[0], ex[1], period)
    return next(
        (r["bonus"], r["penalty"], r["final"])
        for r in got["results"]
        if r["scorecard"] == "capped" and r["subject"] == "nanyue"
    )


def test_the_example_checks(example: tuple[Path, Path]) -> None:
    assert [d for d in check(load(example[0])) if d.is_error] == []


@pytest.mark.parametrize(
    ("period", "want"),
    [
        # national 3 → item cap 2; 3 issues → item cap 2: 90 + 2 − 2
        ("2025Q1", ("2.00", "2.00", "90.00")),
        # provincial 1.5, but 3 − 2 is left of the year's bonus; 2 issues, 4 − 2 left
        ("2025Q2", ("1.00", "2.00", "89.00")),
        # nothing left of either
        ("2025Q3", ("0.00", "0.00", "90.00")),
        # no facts in Q4 (and nothing left anyway)
        ("2025Q4", ("0.00", "0.00", "90.00")),
        # the year from its own facts: commendations 5 → 2, issues 6 → 2
        ("2025", ("2.00", "2.00", "90.00")),
    ],
)
def test_caps_per_item_and_per_year(
    example: tuple[Path, Path], capsys: pytest.CaptureFixture[str], period: str, want: Any
) -> None:
    assert _capped(capsys, example, period) == want


def test_explain_says_what_the_year_left(
    example: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    rules, data = example
    code, out, err = run_cli(
        capsys,
        "explain",
        rules,
        "--org",
        data / "org.json",
        "--facts",
        data / "facts.jsonl",
        "--period",
        "2025Q2",
        "--subject",
        "nanyue",
    )
    assert code == 0, err
    assert "1.5 capped at 1: 3 a year, 2 in the quarters before" in out


def test_joint_liability_capped_per_year(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = copy_rules(RULES_2025, tmp_path / "rules")
    edit(rules / "joint.jx", "cap 3 per period", "cap 3 per year")
    data = tmp_path / "ex"
    data.mkdir()
    (data / "org.json").write_text((HANDWORKED / "org.json").read_text("utf-8"), "utf-8")
    # hy-policy leads K4 and receives 20% of each K4 deduction: 0.6 per provincial issue
    facts = [_fact(i, "inspection_issue", "2025-02-03", "provincial") for i in range(4)]
    facts += [_fact(10 + i, "inspection_issue", "2025-05-03", "provincial") for i in range(4)]
    facts += [_fact(20, "inspection_issue", "2025-08-03", "provincial")]
    write_facts(data / "facts.jsonl", facts)

    def joint(period: str) -> str:
        got = score_json(capsys, rules, data, period)
        return str(next(r["joint"] for r in got["results"] if r["subject"] == "hy-policy"))

    # Q1 4 × 0.6 = 2.4; Q2 2.4 but 3 − 2.4 = 0.6 left; Q3 nothing left
    assert [joint(p) for p in ("2025Q1", "2025Q2", "2025Q3")] == ["2.40", "0.60", "0.00"]
    # per period, as shipped: 2.4 in Q2 too
    edit(rules / "joint.jx", "cap 3 per year", "cap 3 per period")
    assert joint("2025Q2") == "2.40"


def test_an_unknown_capped_item_and_a_second_cap(tmp_path: Path) -> None:
    text = EXAMPLE.replace("cap issue 2\n", "cap isue 2\n  cap bonus 4 per year\n")
    rules = copy_rules(RULES_2025, tmp_path / "rules")
    (rules / "capped.jx").write_text(text, encoding="utf-8")
    got = sorted((d.code, d.message) for d in check(load(rules)) if d.is_error)
    assert got == [
        ("E102", "a second `cap bonus per year` in 'yearly_items'"),
        ("E109", "unknown item 'isue' of 'yearly_items' (did you mean 'issue'?)"),
    ]


def test_verify_bounds_the_items_by_their_caps(example: tuple[Path, Path]) -> None:
    from dsl.verify.run import verify

    rows = {
        (r.what, r.value) for r in verify(load(example[0])).rows["capped"] if r.section == "ranges"
    }
    # commendations: any number of dated facts, but at most 2 (the item's cap) < 3 a year
    assert ("bonus", "0 .. 2") in rows
    # provincial issues: at most 2 a period (4 a year is looser)
    assert ("penalty", "0 .. 2") in rows
    assert ("final", "88 .. 92") in rows
