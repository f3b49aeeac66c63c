"""Properties of scoring on random facts for the handworked organisation.

Facts are valid by construction against the fact types of rules/2025 (and 2024, which has the
same ones); bounds come from the rulebook (shared/reference/README.md §2, §3), not the rules.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import cache
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl.compile.compiler import compile_path
from dsl.compile.ir import CompiledRuleset
from dsl.compile.runtime import round_to
from dsl.engine.evaluate import Evaluation, evaluate
from dsl.engine.report import results_json
from dsl.engine.results import SubjectResult
from dsl.facts.periods import Period
from dsl.facts.records import Fact, Org, read_org
from dsl.facts.validate import validate_facts
from tests.dsl.helpers import HANDWORKED, RULES_2024, RULES_2025

COUNTIES = ("hengdong", "hengshan", "nanyue")
DEPTS = ("hy-office", "hy-policy", "hy-revenue", "hy-risk", "hy-service")
PERSONS = ("nanyue-levy-1", "nanyue-levy-2")
Q1 = Period(2025, 1)
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

Raw = dict[str, Any]


@cache
def rules(year: int) -> CompiledRuleset:
    """A compiled reference ruleset."""
    return compile_path({2025: RULES_2025, 2024: RULES_2024}[year])


@cache
def org() -> Org:
    """The handworked organisation."""
    return read_org(HANDWORKED / "org.json")


# ---- random facts -------------------------------------------------------------------------

LEVELS3 = ("national", "provincial", "municipal")
LEVELS2 = ("provincial", "municipal")
GROUPS = ("leader", "peer", "grassroots", "taxpayer")
INDICATORS = ("K1", "K2", "K3", "K4", "G1", "G2", "G3")
dates = st.integers(0, 89).map(lambda d: (date(2025, 1, 1) + timedelta(days=d)).isoformat())
percent = st.decimals(0, 100, places=2)
units = st.sampled_from(COUNTIES + DEPTS)


def dated(ftype: str, subjects: st.SearchStrategy[str], data: st.SearchStrategy[Raw]) -> Any:
    """Dated facts of a type (in 2025Q1) without an id yet."""
    return st.builds(
        lambda s, d, x: {"type": ftype, "subject": s, "date": d, "data": x}, subjects, dates, data
    )


def fixed(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Raw]:
    """A `data` object with the given fields."""
    return st.fixed_dictionaries(fields)


def optional(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Raw]:
    """A `data` object with the given optional fields."""
    return st.fixed_dictionaries({}, optional=fields)


EVENTS = st.one_of(
    dated("inspection_issue", st.sampled_from(COUNTIES),
          fixed(level=st.sampled_from(LEVELS2)) | fixed(level=st.sampled_from(LEVELS2),
                                                        responsible=st.sampled_from(PERSONS))),
    dated("overdue_document", st.sampled_from(COUNTIES), st.just({})),
    dated("risk_step", st.sampled_from(COUNTIES),
          fixed(step=st.sampled_from(("identify", "analyze", "dispatch", "respond", "review")))),
    dated("commendation", units | st.sampled_from(PERSONS),
          fixed(level=st.sampled_from(LEVELS3))
          | fixed(level=st.sampled_from(LEVELS3), matter=st.sampled_from(("春风行动", "便民")))),
    dated("leader_instruction", units,
          fixed(level=st.sampled_from(LEVELS3), tone=st.sampled_from(("praise", "criticism")))),
    dated("criticism_notice", units | st.sampled_from(PERSONS),
          fixed(level=st.sampled_from(LEVELS2))
          | fixed(level=st.sampled_from(LEVELS2), indicator=st.sampled_from(INDICATORS))),
    dated("major_violation", units, st.just({})),
    dated("work_item", st.sampled_from(PERSONS),
          fixed(points=st.decimals("0.5", 60, places=1),
                quality=st.sampled_from(("excellent", "normal", "poor")))),
    dated("competition_award", st.sampled_from(PERSONS),
          fixed(place=st.sampled_from(("first", "second", "third")))),
    dated("discipline_violation", st.sampled_from(PERSONS), st.just({})),
)  # fmt: skip


def period_values(ftype: str, subjects: tuple[str, ...], data: Any) -> Any:
    """At most one live value per subject for Q1, some given as a correction of an older one."""

    def build(chosen: dict[str, tuple[Raw, Raw | None]]) -> list[Raw]:
        out: list[Raw] = []
        for s, (new, old) in chosen.items():
            fact = {"type": ftype, "subject": s, "period": "2025Q1", "data": new}
            if old is not None:
                first = {"type": ftype, "subject": s, "period": "2025Q1", "data": old}
                out.append(first)
                fact["supersedes"] = first
            out.append(fact)
        return out

    pair = st.tuples(data, st.none() | data)
    return st.dictionaries(st.sampled_from(subjects), pair).map(build)


def many(ftype: str, subjects: tuple[str, ...], data: Any) -> Any:
    """Several values per subject for Q1 (`period many`)."""
    return st.lists(
        st.builds(
            lambda s, x: {"type": ftype, "subject": s, "period": "2025Q1", "data": x},
            st.sampled_from(subjects),
            data,
        ),
        max_size=6,
    )


PERIOD_FACTS = st.tuples(
    period_values("revenue_completion", COUNTIES, fixed(value=st.decimals(0, 130, places=2))),
    period_values("satisfaction", COUNTIES, fixed(value=percent)),
    period_values("style_grade", COUNTIES,
                  fixed(grade=st.sampled_from(("excellent", "good", "fair", "poor")))),
    period_values("task_completion", DEPTS, fixed(value=st.decimals(0, 130, places=2))),
    many("rating", COUNTIES + DEPTS, fixed(rater_group=st.sampled_from(GROUPS), value=percent)),
    many("ability_rating", PERSONS, fixed(value=percent)),
    many("attitude_rating", PERSONS, fixed(value=percent)),
    many("peer_rating", PERSONS, fixed(value=percent)),
)  # fmt: skip


def with_ids(raws: list[Raw]) -> list[Raw]:
    """Numbers the facts r1, r2, …; a `supersedes` holding a fact becomes that fact's id."""
    ids = {id(r): f"r{i}" for i, r in enumerate(raws, 1)}
    out = []
    for r in raws:
        fact = {**r, "id": ids[id(r)]}
        if isinstance(r.get("supersedes"), dict):
            fact["supersedes"] = ids[id(r["supersedes"])]
        out.append(fact)
    return out


@st.composite
def fact_sets(draw: st.DrawFn) -> list[Raw]:
    """A random, valid set of raw facts."""
    groups = draw(PERIOD_FACTS)
    raws = [f for group in groups for f in group] + draw(st.lists(EVENTS, max_size=25))
    return with_ids(raws)


def validated(raws: list[Raw]) -> list[Fact]:
    """The facts, checked against the 2025 fact types; every one must be valid."""
    checked = validate_facts(enumerate(raws, 1), rules(2025).schema, org(), "random")
    assert checked.problems == []
    return checked.facts


def score(facts: list[Fact], year: int = 2025, period: Period = Q1) -> Evaluation:
    """Evaluates the facts with a reference ruleset."""
    return evaluate(rules(year), org(), facts, period)


def by_subject(ev: Evaluation) -> dict[str, SubjectResult]:
    """Results keyed by subject (one scorecard each in the reference rules)."""
    out = {r.subject: r for r in ev.results}
    assert len(out) == len(ev.results)
    return out


# ---- (a) a deduction never raises a subject's own scores ----------------------------------

# (fact type, data, indicator it deducts from, that indicator's category weight, amount)
DEDUCTIONS = [
    ("inspection_issue", {"level": "provincial"}, "K4", Fraction(7, 10), 3),
    ("inspection_issue", {"level": "municipal"}, "K4", Fraction(7, 10), Fraction(3, 2)),
    ("overdue_document", {}, "G1", Fraction(3, 10), 2),
]


@SETTINGS
@given(
    fact_sets(),
    st.sampled_from(COUNTIES),
    st.sampled_from(DEDUCTIONS),
    st.integers(0, 22),
    st.sampled_from((2025, 2024)),
)
def test_a_deduction_never_raises_the_subjects_base(
    raws: list[Raw],
    county: str,
    deduction: tuple[str, Raw, str, Fraction, Fraction | int],
    earlier: int,
    year: int,
) -> None:
    ftype, data, indicator, weight, amount = deduction
    # `earlier` more of the same, so that the indicator's floor of 0 is often reached
    raws = raws + [
        {"id": f"e{i}", "type": ftype, "subject": county, "date": "2025-01-02", "data": data}
        for i in range(earlier)
    ]
    extra = {"id": "extra", "type": ftype, "subject": county, "date": "2025-02-28", "data": data}
    before = by_subject(score(validated(raws), year))[county]
    after = by_subject(score(validated([*raws, extra]), year))[county]

    assert after.indicators[indicator] <= before.indicators[indicator]
    assert after.base is not None and before.base is not None
    assert after.base <= before.base
    assert after.final is not None and before.final is not None
    assert after.final <= before.final
    # exactly: the indicator loses the amount down to its floor of 0; base loses its weighted share
    expected = max(Fraction(0), Fraction(before.indicators[indicator]) - amount)
    assert after.indicators[indicator] == expected
    drop = Fraction(before.indicators[indicator]) - expected
    assert Fraction(after.base) == Fraction(before.base) - weight * drop
    # nothing else of the subject moves
    others = {k: v for k, v in after.indicators.items() if k != indicator}
    assert others == {k: v for k, v in before.indicators.items() if k != indicator}
    assert (after.bonus, after.penalty) == (before.bonus, before.penalty)


# ---- (b) scores stay within the floor and the maximum the ruleset allows -------------------

POINTS = {
    2025: {"K1": 30, "K2": 20, "K3": 20, "K4": 30, "G1": 40, "G2": 30, "G3": 30,
           "D1": 70, "D2": 30},
    2024: {"K1": 30, "K2": 25, "K3": 15, "K4": 30, "G1": 40, "G2": 30, "G4": 30,
           "D1": 70, "D2": 30},
}  # fmt: skip
UNIT_BONUS_CAP = {2025: 5, 2024: 4}
PERSON_BONUS_CAP = {2025: 3, 2024: 2}
JOINT_CAP = 3


def _within(x: Any, low: Fraction | int, high: Fraction | int) -> bool:
    return x is not None and low <= Fraction(x) <= high


def _check_unit(r: SubjectResult, year: int) -> None:
    card = "county" if r.subject in COUNTIES else "dept"
    assert r.scorecard == card
    assert set(r.indicators) == {k for k in POINTS[year] if (k[0] == "D") == (card == "dept")}
    for ind, value in r.indicators.items():
        assert _within(value, 0, POINTS[year][ind]), (r.subject, ind, value)
    for part, value in r.parts.items():
        assert _within(value, 0, 100), (r.subject, part, value)
    assert _within(r.base, 0, 100)
    assert _within(r.bonus, 0, UNIT_BONUS_CAP[year])
    assert r.penalty is not None and r.penalty >= 0
    assert _within(r.joint, 0, JOINT_CAP if card == "dept" else 0)
    assert r.base is not None and r.bonus is not None
    assert r.penalty is not None and r.joint is not None
    raw = Fraction(r.base) + Fraction(r.bonus) - Fraction(r.penalty) - Fraction(r.joint)
    if year == 2025:
        assert r.final == max(Fraction(60), raw)  # §2.1 保底分
        assert _within(r.final, 60, 100 + UNIT_BONUS_CAP[year])
    else:
        assert r.final == raw  # §3: no floor score


def _check_person(r: SubjectResult, year: int, county_final: Decimal) -> None:
    assert r.scorecard == "person"
    assert set(r.parts) == {"performance", "ability", "attitude", "evaluation"}
    for part, value in r.parts.items():
        assert _within(value, 0, 100), (r.subject, part, value)
    assert _within(r.base, 0, 100)
    assert _within(r.bonus, 0, PERSON_BONUS_CAP[year])
    assert r.base is not None and r.bonus is not None
    assert r.penalty is not None and r.joint is not None
    own = Fraction(r.base) + Fraction(r.bonus) - Fraction(r.penalty) - Fraction(r.joint)
    if year == 2025:
        # the county bureau's final as published (rounded), worth 10%
        assert r.final == max(Fraction(0), Fraction(9, 10) * own + Fraction(county_final) / 10)
        # 0.9 × (100 + 3) + 0.1 × (100 + 5): the most a person can get
        high = Fraction(9, 10) * (100 + PERSON_BONUS_CAP[year]) + Fraction(100 + 5, 10)
    else:
        assert r.final == max(Fraction(0), own)
        high = Fraction(100 + PERSON_BONUS_CAP[year])
    assert _within(r.final, 0, high)


@SETTINGS
@given(fact_sets(), st.sampled_from((2025, 2024)))
def test_scores_stay_within_the_floor_and_the_maximum(raws: list[Raw], year: int) -> None:
    results = by_subject(score(validated(raws), year))
    assert set(results) == {*COUNTIES, *DEPTS, *PERSONS}
    for subject in COUNTIES + DEPTS:
        _check_unit(results[subject], year)
    published_nanyue = round_to(results["nanyue"].final or 0, 2, "half_up")
    for person in PERSONS:
        _check_person(results[person], year, published_nanyue)
    for card, n in (("county", 3), ("dept", 5)):
        ranked = [r for r in results.values() if r.scorecard == card]
        ranks = sorted(r.rank for r in ranked if r.rank is not None)
        assert len(ranks) == n and ranks[0] == 1 and ranks[-1] <= n
        assert all(r.tier in ("first", "second", "third") for r in ranked)


@settings(SETTINGS, max_examples=15)
@given(fact_sets())
def test_a_persons_year_is_the_mean_of_the_published_quarters(raws: list[Raw]) -> None:
    results = by_subject(score(validated(raws), 2025, Period(2025)))
    quarters = {q: by_subject(score(validated(raws), 2025, Period(2025, q))) for q in (1, 2, 3, 4)}
    for person in PERSONS:
        year = results[person]
        published = [round_to(quarters[q][person].final or 0, 2, "half_up") for q in (1, 2, 3, 4)]
        assert year.quarters == published
        assert Fraction(year.final or 0) == Fraction(sum(published)) / 4
        assert year.grade in ("excellent", "competent", "incompetent")


# ---- (c) the order of the facts does not matter -------------------------------------------


@SETTINGS
@given(fact_sets(), st.randoms(use_true_random=False), st.sampled_from((2025, 2024)))
def test_scoring_is_independent_of_fact_order(raws: list[Raw], rnd: Any, year: int) -> None:
    shuffled = list(raws)
    rnd.shuffle(shuffled)
    for period in (Q1, Period(2025)):
        first = results_json(score(validated(raws), year, period))
        second = results_json(score(validated(shuffled), year, period))
        assert first == second


# ---- (d) rounding agrees with an independent implementation -------------------------------


def reference_round(x: Fraction, places: int, mode: str) -> Fraction:
    """Rounds a rational to `places` decimals, written from the definitions of the modes."""
    unit = 10**places
    if mode == "ceiling":
        return Fraction(math.ceil(x * unit), unit)
    if mode == "floor":
        return Fraction(math.floor(x * unit), unit)
    # the other modes are symmetric about zero: round the magnitude, then put the sign back
    scaled = abs(x) * unit
    whole = math.floor(scaled)
    rest = scaled - whole
    modes: dict[str, Callable[[], int]] = {
        "down": lambda: whole,  # towards zero
        "up": lambda: whole + (rest > 0),  # away from zero
        "half_up": lambda: whole + (rest >= Fraction(1, 2)),  # ties away from zero
        "half_even": lambda: round(scaled),  # Python rounds a Fraction's ties to even
    }
    return Fraction((-1 if x < 0 else 1) * modes[mode](), unit)


MODES = st.sampled_from(("half_up", "half_even", "down", "up", "ceiling", "floor"))
rationals = st.fractions(max_denominator=10_000).filter(lambda q: abs(q) < 10**7)


def ties(places: int) -> st.SearchStrategy[Fraction]:
    """Rationals exactly halfway between two `places`-decimal numbers."""
    return st.integers(-(10**6), 10**6).map(lambda k: Fraction(2 * k + 1, 2 * 10**places))


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 4).flatmap(lambda p: st.tuples(st.just(p), rationals | ties(p))), MODES)
def test_round_to_agrees_with_a_reference(case: tuple[int, Fraction], mode: str) -> None:
    places, x = case
    got = round_to(x, places, mode)
    assert isinstance(got, Decimal)
    assert got.as_tuple().exponent == -places
    assert Fraction(got) == reference_round(x, places, mode)
    # a decimal input of the same value rounds the same way
    as_decimal = Decimal(x.numerator) / Decimal(x.denominator)
    if Fraction(as_decimal) == x:
        assert round_to(as_decimal, places, mode) == got


def test_reference_round_on_known_values() -> None:
    """The reference itself, on ties and signs worked by hand."""
    cases = {
        ("half_up", Fraction(91425, 1000)): Fraction(9143, 100),
        ("half_even", Fraction(91425, 1000)): Fraction(9142, 100),
        ("half_up", Fraction(-5, 1000)): Fraction(-1, 100),
        ("half_even", Fraction(-15, 1000)): Fraction(-2, 100),
        ("down", Fraction(-1999, 1000)): Fraction(-199, 100),
        ("up", Fraction(1001, 1000)): Fraction(101, 100),
        ("ceiling", Fraction(-1999, 1000)): Fraction(-199, 100),
        ("floor", Fraction(-1991, 1000)): Fraction(-200, 100),
        ("half_up", Fraction(214, 3)): Fraction(7133, 100),
    }
    for (mode, x), want in cases.items():
        assert reference_round(x, 2, mode) == want, (mode, x)
        assert Fraction(round_to(x, 2, mode)) == want, (mode, x)
