"""A focused evaluation (`evaluate(cards=...)`) scores the scorecards asked for and those they
read, and gives them exactly the results a full evaluation gives them."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsl.compile.compiler import compile_path
from dsl.compile.deps import needed
from dsl.engine.evaluate import evaluate
from dsl.engine.report import results_json
from dsl.facts.inputs import load_inputs
from dsl.facts.periods import Period

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "tests" / "examples"


def test_what_a_scorecard_reads() -> None:
    c = compile_path(ROOT / "rules" / "2025")
    # dept receives joint liability from county; a person's final reads its county bureau's
    assert needed(c.scorecards, c.joints, ["county"]) == {"county"}
    assert needed(c.scorecards, c.joints, ["dept"]) == {"county", "dept"}
    assert needed(c.scorecards, c.joints, ["person"]) == {"county", "person"}


@pytest.mark.parametrize(
    ("example", "rules", "periods"),
    [
        ("handworked", "2025", [Period(2025, 1)]),
        ("random-2025", "2025", [Period(2025, 2), Period(2025, 4), Period(2025)]),
        ("handworked-2026", "2026", [Period(2026, 1), Period(2026)]),  # with pools
    ],
)
def test_the_units_scorecards_alone_score_as_in_a_full_evaluation(
    example: str, rules: str, periods: list[Period]
) -> None:
    compiled = compile_path(ROOT / "rules" / rules)
    here = EXAMPLES / example
    inputs = load_inputs(compiled, here / "org.json", here / "facts.jsonl")
    units = {k for k, c in compiled.scorecards.items() if c.sequence.subject != "person"}
    assert units and units != set(compiled.scorecards)
    for period in periods:
        traced = set(inputs.org.units)
        full = results_json(evaluate(compiled, inputs.org, inputs.facts, period, traced))
        part = results_json(
            evaluate(compiled, inputs.org, inputs.facts, period, traced, cards=units)
        )
        mine = [r for r in full["results"] if r["scorecard"] in units]
        assert mine and part["results"] == mine
        # no person is scored, and no pool is shared out
        assert len(part["results"]) < len(full["results"])
