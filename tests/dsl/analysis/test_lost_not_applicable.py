"""Lost points where indicators do not apply (不涉及): nothing is lost on them, and what a point
lost elsewhere costs the base follows the engine's rescaling, so the weighted losses add up to
the subject's loss. On the unit-attribute example of tests/dsl/engine/test_unit_attrs.py."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from dsl.analysis.lost_report import lost_points
from dsl.analysis.source import FileSource, sibling_years
from dsl.compile.compiler import compile_path
from dsl.facts.periods import Period
from tests.dsl.engine.test_unit_attrs import FACTS, ORG, RULES
from tests.dsl.helpers import write_facts


def _report(tmp_path: Path) -> dict[str, dict[str, Any]]:
    rules = tmp_path / "rules" / "2025"
    rules.mkdir(parents=True)
    (rules / "rules.jx").write_text(RULES, encoding="utf-8")
    (tmp_path / "org.json").write_text(json.dumps(ORG), encoding="utf-8")
    facts = write_facts(tmp_path / "facts.jsonl", FACTS)
    compiled = compile_path(rules)
    src = FileSource(compiled, sibling_years(rules, compiled), tmp_path / "org.json", facts)
    ps = src.scores(Period(2025, 1))
    assert ps is not None
    report = lost_points(src, ps, "county").as_json()
    return {s["subject"]: s for s in report["subjects"]}


def _rows(subject: dict[str, Any]) -> dict[str, tuple[str, str, str, bool]]:
    return {
        i["indicator"]: (i["score"], i["lost"], i["weighted"], i["not_applicable"])
        for i in subject["indicators"]
    }


def test_an_indicator_that_does_not_apply_loses_nothing(tmp_path: Path) -> None:
    got = _report(tmp_path)
    # c (small, 60 staff): K2 does not apply. K1 = 70 / 2 = 35 of 50 applicable points, so
    # key = 35 / 50 × 100 = 70; G1 = 100 − 2 × 10 = 80; base = 0.6 × 70 + 0.4 × 80 = 74, lost 26.
    # K1 lost 15, and a point of K1 is worth 100 / 50 = 2 points of key: 0.6 × 15 × 2 = 18;
    # G1 lost 20: 0.4 × 20 = 8; 18 + 8 = 26. K2 lost nothing (it was not 50 lost).
    c = _rows(got["c"])
    assert c == {
        "K1": ("35.00", "15.00", "18.00", False),
        "K2": ("0.00", "0.00", "0.00", True),
        "G1": ("80.00", "20.00", "8.00", False),
    }
    assert Decimal(got["c"]["lost"]) == 26


def test_a_category_left_out_rescales_the_others(tmp_path: Path) -> None:
    got = _report(tmp_path)
    # b (large, 40 staff): G1 does not apply, so `general` is left out and base = 0.6 × 90 /
    # 0.6 = 90, lost 10. K1 = 80 / 2 = 40, lost 10; weighted 0.6 × 10 / 0.6 = 10. K2 = 50.
    b = _rows(got["b"])
    assert b == {
        "K1": ("40.00", "10.00", "10.00", False),
        "K2": ("50.00", "0.00", "0.00", False),
        "G1": ("0.00", "0.00", "0.00", True),
    }
    assert Decimal(got["b"]["lost"]) == 10


def test_the_weighted_losses_add_up_to_the_subject_s_loss(tmp_path: Path) -> None:
    for s in _report(tmp_path).values():
        total = sum((Decimal(i["weighted"]) for i in s["indicators"]), Decimal(0))
        assert total == Decimal(s["lost"]), s["subject"]
