"""The validator's common case accepts only what its detailed checks accept, as they build it.

`FactValidator.fact` (the common case) and `FactValidator.detailed` (the checks that word the
problems) share their tables; these tests pin that they never disagree on a record the common
case accepts, for hand-made variants, for random records, and for the example files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsl.compile.compiler import compile_path
from dsl.facts.inputs import load_inputs, read_checked
from dsl.facts.records import FactProblem, InputError, Org, read_org, read_raw_facts
from dsl.facts.validate import FactSchema, FactValidator, validate_facts

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "tests" / "examples"
BASE: dict[str, Any] = {
    "id": "f1",
    "type": "work_item",
    "subject": "nanyue-levy-1",
    "date": "2025-02-14",
    "data": {"points": 5, "quality": "normal"},
}
NOTICE = {"type": "criticism_notice", "subject": "nanyue"}
# Each variant changes one thing of BASE (None deletes a key); most must be declined.
VARIANTS: list[dict[str, Any]] = [
    {},
    {"data": {"points": 1.0, "quality": "poor"}},
    {"data": {"points": 0.1 + 0.2, "quality": "poor"}},  # 0.30000000000000004: re-read exactly
    {"data": {"points": 1e15, "quality": "poor"}},
    {"data": {"points": -0.0, "quality": "poor"}},
    {"data": {"points": 0.0, "quality": "poor"}},
    {"data": {"points": True, "quality": "poor"}},
    {"data": {"points": "5", "quality": "poor"}},
    {"data": {"points": 5, "quality": "great"}},
    {"data": {"points": 5, "quality": ["normal"]}},
    {"data": {"points": 5}},
    {"data": {"points": 5, "quality": "normal", "extra": 1}},
    {"data": None},
    {"data": []},
    {"id": ""},
    {"id": 7},
    {"id": None},
    {"type": "work_itm"},
    {"type": ["work_item"]},
    {"subject": "nanyue"},
    {"subject": "nobody"},
    {"subject": {"id": "x"}},
    {"date": "2025-2-14"},
    {"date": ["2025-02-14"]},
    {"date": None, "period": "2025Q1"},
    {"period": "2025Q1"},
    {"evidence": "湘税督〔2025〕12号", "supersedes": "f0"},
    {"evidence": 12},
    {"supersedes": 3},
    {"colour": "red"},
    {"type": "inspection_issue", "subject": "nanyue", "data": {"level": "provincial"}},
    {
        "type": "inspection_issue",
        "subject": "nanyue",
        "data": {"level": "municipal", "responsible": "nanyue-levy-1"},
    },
    {
        "type": "inspection_issue",
        "subject": "nanyue",
        "data": {"level": "municipal", "responsible": "nanyue"},
    },
    {"type": "inspection_issue", "subject": "nanyue", "data": {"level": "x", "responsible": None}},
    {"type": "criticism_notice", "subject": "nanyue", "data": {"level": "municipal"}},
    {**NOTICE, "data": {"level": "provincial", "indicator": "K4"}},
    {**NOTICE, "data": {"level": "provincial", "indicator": "K9"}},
    {"type": "commendation", "data": {"level": "national", "matter": "m"}},
    {"type": "commendation", "data": {"level": "national", "matter": 5}},
    {"type": "rating", "subject": "nanyue", "date": None, "period": "2025Q1",
     "data": {"rater_group": "peer", "value": 100}},
    {"type": "rating", "subject": "nanyue", "date": None, "period": "2025",
     "data": {"rater_group": "peer", "value": 100.5}},
    {"type": "rating", "subject": "nanyue", "date": None, "period": "2025Q5",
     "data": {"rater_group": "peer", "value": 50}},
    {"type": "revenue_completion", "subject": "nanyue", "date": None, "period": "2025Q2",
     "data": {"value": -1}},
    {"type": "revenue_completion", "subject": "nanyue", "data": {"value": 97.5}},
    {"type": "overdue_document", "subject": "nanyue", "data": {}},
    {"type": "overdue_document", "subject": "nanyue", "data": None},
    {"type": "overdue_document", "subject": "nanyue", "data": None, **{"data": {}}},
]  # fmt: skip


def _records() -> list[dict[str, Any]]:
    out = []
    for v in VARIANTS:
        rec = {**BASE, **v}
        out.append({k: x for k, x in rec.items() if x is not None or k == "data"})
    out.append({k: x for k, x in BASE.items() if k != "data"})
    return out


def _schema() -> FactSchema:
    return compile_path(REPO / "rules" / "2025").schema


def _full(raw: Any, org: Org) -> tuple[str | None, list[FactProblem]]:
    fact, errs = FactValidator(_schema(), org).detailed(raw, 1, "t")
    return (repr(fact) if not errs else None), errs


@pytest.fixture(scope="module")
def org() -> Org:
    return read_org(EXAMPLES / "handworked" / "org.json")


RECORDS = _records()


@pytest.mark.parametrize("raw", RECORDS, ids=[f"variant{i}" for i in range(len(RECORDS))])
def test_fast_path_agrees_with_the_full_checks(raw: dict[str, Any], org: Org) -> None:
    fast = FactValidator(_schema(), org)
    got = fast.fact(orjson.loads(orjson.dumps(raw)), 1)
    full, errs = _full(orjson.loads(orjson.dumps(raw)), org)
    if got is not None:  # accepted: the full checks accept it too, and build the same fact
        assert repr(got) == full and not errs


_SEED_LINES = (EXAMPLES / "handworked" / "facts.jsonl").read_bytes().splitlines()
_SEEDS = [orjson.loads(x) for x in _SEED_LINES if x.strip()]
_FIELDS = ["points", "quality", "level", "responsible", "indicator", "matter", "rater_group",
           "value", "extra"]  # fmt: skip
_NAMES = ["normal", "poor", "great", "provincial", "municipal", "peer", "nanyue", "nanyue-levy-1",
          "nobody", "K4", "K9", "2025-02-14", "2025-2-14", "2025Q1", "2025", "", "湘", "work_item",
          "rating", "inspection_issue"]  # fmt: skip
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 200),
    st.floats(),
    st.sampled_from(_NAMES),
    st.lists(st.integers(), max_size=1),
    st.dictionaries(st.just("id"), st.integers(), max_size=1),
)
_KEYS = ["id", "type", "subject", "date", "period", "data", "evidence", "supersedes", "colour"]


@st.composite
def _random_records(draw: st.DrawFn) -> dict[str, Any]:
    """A fact of the hand-worked example, with a few keys or data fields removed or changed."""
    seed = draw(st.sampled_from(_SEEDS))
    rec: dict[str, Any] = {**seed, "data": dict(seed.get("data", {}))}
    for key in draw(st.lists(st.sampled_from(_KEYS), max_size=2)):
        if draw(st.booleans()):
            rec.pop(key, None)
        else:
            rec[key] = draw(_VALUES)
    if isinstance(rec.get("data"), dict):
        for name in draw(st.lists(st.sampled_from(_FIELDS), max_size=2)):
            if name in rec["data"] and draw(st.booleans()):
                del rec["data"][name]
            else:
                rec["data"][name] = draw(_VALUES)
    return rec


def _long_float(x: Any) -> bool:
    if isinstance(x, dict):
        return any(_long_float(v) for v in x.values())
    return isinstance(x, float) and len(repr(x)) > 15


@pytest.fixture(scope="module")
def schema() -> FactSchema:
    return _schema()


@settings(max_examples=300, deadline=None)
@given(raw=_random_records())
def test_the_common_case_and_the_detailed_checks_agree(
    raw: dict[str, Any], org: Org, schema: FactSchema
) -> None:
    validator = FactValidator(schema, org)
    fast = validator.fact(raw, 1)
    fact, errs = validator.detailed(raw, 1, "t")
    if fast is not None:  # accepted: the detailed checks accept it and build the same fact
        assert not errs and repr(fast) == repr(fact)
    elif not _long_float(raw):  # declined: the detailed checks reject it (or a float is re-read)
        assert errs
    assert validator.check(raw, 1, "t") == ((fast, []) if fast is not None else (fact, errs))


def test_fast_path_takes_the_common_case(org: Org) -> None:
    fast = FactValidator(_schema(), org)
    assert fast.fact(dict(BASE), 1) is not None
    assert fast.fact({**BASE, "data": {"points": 0.1 + 0.2, "quality": "poor"}}, 1) is None


@pytest.mark.parametrize("example", ["handworked", "precision", "random-2025"])
def test_reading_an_example_matches_the_full_path(example: str) -> None:
    compiled = compile_path(REPO / "rules" / "2025")
    folder = EXAMPLES / example
    org = read_org(folder / "org.json")
    fast = FactValidator(compiled.schema, org)
    problems: list[FactProblem] = []
    quick = list(read_checked(folder / "facts.jsonl", fast, problems))
    assert not problems and all(type(f).__name__ == "Fact" for _, f in quick)
    lines = (folder / "facts.jsonl").read_bytes().splitlines()
    records = [(i, orjson.loads(x)) for i, x in enumerate(lines, 1) if x.strip()]
    detailed = FactValidator(compiled.schema, org).detailed
    slow = [repr(detailed(raw, i, "t")[0]) for i, raw in records]
    assert [repr(f) for _, f in quick] == slow
    loaded = load_inputs(compiled, folder / "org.json", folder / "facts.jsonl")
    assert [repr(f) for f in loaded.facts] == [
        repr(f) for f in validate_facts(records, compiled.schema, org, "t").facts
    ]


def test_odd_lines_are_read_as_read_raw_facts_reads_them(tmp_path: Path, org: Org) -> None:
    compiled = compile_path(REPO / "rules" / "2025")
    lines = [
        orjson.dumps(BASE),
        b"",
        b"{not json",
        b"[1, 2]",
        b'{"id": "f2", "type": "work_item", "subject": "nanyue-levy-1", "date": "2025-03-01",'
        b' "data": {"points": 0.30000000000000004, "quality": "poor"}}',
    ]
    path = tmp_path / "facts.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    fast = FactValidator(compiled.schema, org)
    problems: list[FactProblem] = []
    got = list(read_checked(path, fast, problems))
    records, expected = read_raw_facts(path)
    assert [str(p) for p in problems] == [str(p) for p in expected]
    assert [line for line, _ in got] == [line for line, _ in records] == [1, 5]
    assert repr(got[0][1]) == repr(fast.detailed(records[0][1], 1, "t")[0])
    assert got[1][1] == records[1][1]  # the long float, re-read as an exact decimal
    assert str(got[1][1]["data"]["points"]) == "0.30000000000000004"


def test_a_duplicate_id_read_fast_is_reported(tmp_path: Path) -> None:
    compiled = compile_path(REPO / "rules" / "2025")
    path = tmp_path / "facts.jsonl"
    path.write_bytes(orjson.dumps(BASE) + b"\n" + orjson.dumps(BASE) + b"\n")
    with pytest.raises(InputError, match="duplicate id"):
        load_inputs(compiled, EXAMPLES / "handworked" / "org.json", path)
