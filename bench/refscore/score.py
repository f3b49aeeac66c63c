"""Scoring a quarter or the year: the facts read once, each quarter computed once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from refscore.org import Org, read_org
from refscore.persons import person_quarter, person_sums, person_year
from refscore.read import read_facts
from refscore.result import Result, published_order
from refscore.rules import NAME, YEAR
from refscore.units import county_finals, county_results, dept_results, unit_sums


def score(org_path: Path, facts_path: Path, period: str) -> dict[str, Any]:
    """Every subject's results for `2025Qn` or `2025`, shaped as `jixiao score` prints them."""
    if not (period[:4] == str(YEAR) and len(period) in (4, 6)):
        raise ValueError(f"the reference knows {YEAR} and its quarters, not {period}")
    org = read_org(org_path)
    facts = read_facts(facts_path, org)
    quarters = [int(period[5])] if len(period) == 6 else [1, 2, 3, 4]
    results = _results(facts, org, quarters, whole_year=len(period) == 4)
    return {
        "ruleset": {"name": NAME, "year": YEAR},
        "period": period,
        "results": [r.as_json() for r in results],
    }


def _slots(facts: pl.DataFrame, quarters: list[int], whole_year: bool) -> pl.DataFrame:
    """The facts of each slot: quarters by their number, the year (for units) as slot 0."""
    mine = facts.filter(pl.col("yr") == YEAR)
    parts = [mine.filter(pl.col("q").is_in(quarters)).with_columns(slot=pl.col("q"))]
    if whole_year:
        year = mine.filter(pl.col("dated") | (pl.col("q") == 0))
        parts.append(year.with_columns(slot=pl.lit(0, pl.Int8)))
    return pl.concat(parts) if len(parts) > 1 else parts[0]


def _results(facts: pl.DataFrame, org: Org, quarters: list[int], whole_year: bool) -> list[Result]:
    counties, depts = org.of_kind("county_bureau"), org.of_kind("municipal_dept")
    is_person = pl.col("subject").is_in(org.person_ids)
    persons_f = facts.filter(is_person & (pl.col("yr") == YEAR) & pl.col("q").is_in(quarters))
    units_f = _slots(facts.filter(~is_person), quarters, whole_year)
    s = unit_sums(units_f, counties)
    issues = units_f.filter(
        (pl.col("type") == "inspection_issue") & pl.col("subject").is_in(counties)
    )
    p = person_sums(persons_f.with_columns(slot=pl.col("q")), issues)
    per_quarter = []
    for q in quarters:
        county = county_results(s, q, counties)
        persons = person_quarter(p, q, org, county_finals(county))
        per_quarter.append((county, persons, q))
    if whole_year:
        cards = [county_results(s, 0, counties), dept_results(s, 0, depts)]
        cards.append(person_year([pq for _, pq, _ in per_quarter], org, p))
    else:
        county, persons, q = per_quarter[0]
        cards = [county, dept_results(s, q, depts), persons]
    return [r for card in cards for r in published_order(card)]
