"""The reference examples, imported into the database, score exactly as from their files."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from dsl.facts.periods import Period
from tests.app.conftest import EXAMPLES
from tests.app.util import CASES, from_db, from_files, load_example, rules


@pytest.mark.parametrize(("name", "year", "periods"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_example_scores_as_from_files(
    engine: Engine, name: str, year: int, periods: list[str]
) -> None:
    compiled = rules(year)
    got = load_example(engine, name, compiled)
    text = (EXAMPLES / name / "facts.jsonl").read_text(encoding="utf-8")
    lines = sum(1 for ln in text.splitlines() if ln.strip())
    assert (got.added, got.unchanged, got.skipped) == (lines, 0, [])
    folder = EXAMPLES / name
    for shown in periods:
        period = Period.parse(shown)
        expected = from_files(compiled, folder / "org.json", folder / "facts.jsonl", period)
        assert expected["results"], "the example scores somebody"
        assert from_db(engine, compiled, period) == expected


def test_handworked_nanyue_q1_final(engine: Engine) -> None:
    compiled = rules(2025)
    load_example(engine, "handworked", compiled)
    results = from_db(engine, compiled, Period(2025, 1))["results"]
    nanyue = next(r for r in results if r["subject"] == "nanyue" and r["scorecard"] == "county")
    assert nanyue["final"] == "86.93"
