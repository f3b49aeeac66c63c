"""K3 of 2026 as a general construct: a value against the peers' exact mean, in full steps."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from dsl.compile.runtime import floor
from dsl.fmt.formatter import format_source
from tests.dsl.helpers import HANDWORKED, RULES_2025, copy_rules, edit, score_json, write_facts

K3 = """    indicator K3 "风险应对" points 20 lead hy-risk {
      let v = value(risk_closure.value)
      let m = peer_mean(value(risk_closure.value))
      score max(0, 20 - 2 * floor(max(0, m - v) / 5))
    }"""


def test_floor_is_exact_on_rationals_and_decimals() -> None:
    assert floor(Fraction(-1, 3)) == -1
    assert floor(Fraction(11, 3)) == 3
    assert floor(Decimal("-0.5")) == -1
    assert floor(Decimal("4.999999999999999999999999999999")) == 4
    assert floor(7) == 7


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    """rules/2025 with K3 scored against the peers' mean of a closure rate."""
    dest = copy_rules(RULES_2025, tmp_path / "rules")
    edit(
        dest / "county.jx",
        """    indicator K3 "风险应对" points 20 lead hy-risk {
      score 4 * distinct(risk_step.step)
    }""",
        K3,
    )
    edit(
        dest / "facts.jx",
        "# §2.1 K4",
        'fact risk_closure "办结率" period on unit {\n  value: number in 0..100\n}\n\n# §2.1 K4',
    )
    edit(dest / "facts.jx", 'review "评价"\n}', 'review "评价"\n} unscored')
    return dest


def _k3(
    capsys: pytest.CaptureFixture[str], rules: Path, tmp: Path, rates: dict[str, str]
) -> dict[str, tuple[str, list[str]]]:
    facts = [
        {
            "id": f"r{i}",
            "type": "risk_closure",
            "subject": s,
            "period": "2025Q1",
            "data": {"value": float(v)},
        }
        for i, (s, v) in enumerate(rates.items())
    ]
    folder = tmp / "ex"
    folder.mkdir(exist_ok=True)
    (folder / "org.json").write_text(
        (HANDWORKED / "org.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    write_facts(folder / "facts.jsonl", facts)
    got = score_json(capsys, rules, folder, "2025Q1")
    return {
        r["subject"]: (r["indicators"]["K3"], r["missing"])
        for r in got["results"]
        if r["scorecard"] == "county"
    }


def test_full_steps_below_the_mean_of_those_with_a_rate(
    rules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # m = (82.5 + 92.5) / 2 = 87.5: nanyue 5 below, one full step: 18; hengdong has no rate
    got = _k3(capsys, rules, tmp_path, {"nanyue": "82.5", "hengshan": "92.5"})
    assert got["nanyue"][0] == "18.00"
    assert got["hengshan"][0] == "20.00"
    assert got["hengdong"][0] == "0.00" and "K3" in got["hengdong"][1]
    assert "K3" not in got["nanyue"][1]


def test_the_mean_is_an_exact_rational(
    rules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # m = (20 + 32.5 + 100) / 3 = 305/6 = 50.83…: nanyue (30.83…)/5 → 6 steps: 8;
    # hengshan (18.33…)/5 → 3 steps: 14; hengdong above: 20
    got = _k3(capsys, rules, tmp_path, {"nanyue": "20", "hengshan": "32.5", "hengdong": "100"})
    assert {s: v for s, (v, _) in got.items()} == {
        "nanyue": "8.00",
        "hengshan": "14.00",
        "hengdong": "20.00",
    }
    # m = 251/3 (not 83.33): 80 is 11/3 below, no full step
    got = _k3(capsys, rules, tmp_path, {"nanyue": "90", "hengshan": "80", "hengdong": "81"})
    assert {v for v, _ in got.values()} == {"20.00"}


def test_alternative_kinds_of_ancestor_are_formatted_with_bars() -> None:
    rank = "rank year within ancestor(county_bureau|municipal_bureau) by final desc"
    text = "scorecard s for q {\n  " + rank + "\n}\n"
    assert "ancestor(county_bureau | municipal_bureau)" in format_source(text, "x.jx")
