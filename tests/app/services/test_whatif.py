"""What-if on the hand-worked example's files: corrections, retractions, and what is refused."""

from __future__ import annotations

from typing import Any

import pytest

from app.errors import Invalid
from app.services.whatif import what_if
from dsl.analysis.whatif import Changes
from dsl.facts.periods import Period
from tests.dsl.analysis.conftest import Make

Q1 = Period(2025, 1)


def _run(make: Make, body: dict[str, Any]) -> dict[str, Any]:
    src = make()
    base = src.scores(Q1)
    assert base is not None
    return what_if(base, src.inputs(base.compiled).facts, Changes.of(body))


def _row(report: dict[str, Any], subject: str) -> dict[str, Any]:
    return next(s for s in report["subjects"] if s["subject"] == subject)


def test_a_correction_merges_its_data_into_the_recorded_fact(make_source: Make) -> None:
    got = _run(make_source, {"correct": [{"fact": "f2", "data": {"value": 100}}]})
    (change,) = got["changes"]
    assert change == {"action": "correct", "fact": "what-if-1", "type": "revenue_completion",
                      "subject": "nanyue", "replaces": "f2"}  # fmt: skip
    assert _row(got, "nanyue")["new"]["final"] == "90.08"  # K1 30: 86.9325 + 0.7 × 4.5


def test_a_retraction(make_source: Make) -> None:
    # without f16 (provincial, 3) K4 is 28.5: 86.9325 + 0.7 × 3 = 89.0325
    got = _run(make_source, {"retract": ["f16"]})
    row = _row(got, "nanyue")
    assert (row["new"]["final"], row["delta"]) == ("89.03", "2.10")
    # hy-policy received 7.75 before its cap of 3: one issue fewer changes nothing
    assert all(s["subject"] != "hy-policy" for s in got["subjects"])


def test_a_change_that_moves_a_tier(make_source: Make) -> None:
    # hengdong's veto retracted: third is rank > n − quota(10%) = 3 − round(0.3) = 3, so
    # rank 3 of 3 is second
    freed = _row(_run(make_source, {"retract": ["f45"]}), "hengdong")
    assert freed["moved"] and (freed["old"]["tier"], freed["new"]["tier"]) == ("third", "second")
    # eight more provincial issues: K4 30 − 4.5 − 24 = 1.5, 0.7 × 24 less: 86.9325 − 16.8
    issues = [{"type": "inspection_issue", "subject": "nanyue", "date": "2025-03-25",
               "data": {"level": "provincial"}} for _ in range(8)]  # fmt: skip
    got = _run(make_source, {"add": issues})
    assert [c["fact"] for c in got["changes"]] == [f"what-if-{i}" for i in range(1, 9)]
    assert _row(got, "nanyue")["new"]["final"] == "70.13"


def test_problems_name_the_change(make_source: Make) -> None:
    with pytest.raises(Invalid) as e:
        _run(make_source, {"correct": [{"fact": "f1"}], "add": [{"type": "nope"}]})
    got = {d["field"]: d["message"] for d in e.value.details}
    assert "no live fact 'f1'" in got["body.correct[0].fact"]  # f2 superseded it
    assert "nope" in got["body.add[0].type"]
