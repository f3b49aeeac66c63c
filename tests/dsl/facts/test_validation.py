"""Facts are validated against the ruleset's fact types before anything is scored."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dsl.compile.compiler import compile_path
from dsl.compile.ir import CompiledRuleset
from dsl.engine.evaluate import evaluate
from dsl.facts.inputs import load_inputs
from dsl.facts.periods import Period
from dsl.facts.records import InputError
from tests.dsl.helpers import HANDWORKED, RULES_2025, run_cli, score_json, write_facts

ORG = HANDWORKED / "org.json"

# Two valid facts first, so that the fact under test is on line 3.
GOOD: list[dict[str, Any]] = [
    {"id": "g1", "type": "revenue_completion", "subject": "nanyue", "period": "2025Q1",
     "data": {"value": 98}},
    {"id": "g2", "type": "overdue_document", "subject": "nanyue", "date": "2025-01-15",
     "data": {}},
]  # fmt: skip


def issue(**over: Any) -> dict[str, Any]:
    """A valid provincial inspection issue at nanyue, with some keys replaced."""
    fact: dict[str, Any] = {
        "id": "x1",
        "type": "inspection_issue",
        "subject": "nanyue",
        "date": "2025-02-14",
        "data": {"level": "provincial"},
    }
    fact.update(over)
    return fact


@pytest.fixture(scope="module")
def compiled() -> CompiledRuleset:
    """The 2025 ruleset."""
    return compile_path(RULES_2025)


def problems(
    compiled: CompiledRuleset, tmp_path: Path, facts: list[dict[str, Any]]
) -> list[tuple[int, str, str, str]]:
    """(line, fact id, field, message) of every problem of GOOD + facts; none may be scored."""
    path = write_facts(tmp_path / "facts.jsonl", GOOD + facts)
    with pytest.raises(InputError) as info:
        load_inputs(compiled, ORG, path)
    return [(p.line, p.ident, p.field, p.message) for p in info.value.problems]


def only(found: list[tuple[int, str, str, str]]) -> tuple[int, str, str, str]:
    """The single problem found."""
    assert len(found) == 1, found
    return found[0]


def test_valid_facts_have_no_problem(compiled: CompiledRuleset, tmp_path: Path) -> None:
    path = write_facts(tmp_path / "facts.jsonl", [*GOOD, issue()])
    inputs = load_inputs(compiled, ORG, path)
    assert inputs.skipped == []
    assert [(f.id, f.line) for f in inputs.facts] == [("g1", 1), ("g2", 2), ("x1", 3)]


def test_unknown_type(compiled: CompiledRuleset, tmp_path: Path) -> None:
    line, ident, fld, msg = only(problems(compiled, tmp_path, [issue(type="inspection_isue")]))
    assert (line, ident, fld) == (3, "x1", "type")
    assert "'inspection_isue'" in msg
    assert "did you mean 'inspection_issue'" in msg


def test_unknown_subject(compiled: CompiledRuleset, tmp_path: Path) -> None:
    line, ident, fld, msg = only(problems(compiled, tmp_path, [issue(subject="nanyeu")]))
    assert (line, ident, fld) == (3, "x1", "subject")
    assert "'nanyeu'" in msg


def test_subject_of_the_wrong_kind(compiled: CompiledRuleset, tmp_path: Path) -> None:
    # inspection_issue is `on unit`; nanyue-levy-1 is a person
    line, ident, fld, msg = only(problems(compiled, tmp_path, [issue(subject="nanyue-levy-1")]))
    assert (line, ident, fld) == (3, "x1", "subject")
    assert "person" in msg


def test_person_only_fact_on_a_unit(compiled: CompiledRuleset, tmp_path: Path) -> None:
    fact = {"id": "w1", "type": "work_item", "subject": "nanyue", "date": "2025-02-01",
            "data": {"points": 5, "quality": "normal"}}  # fmt: skip
    assert only(problems(compiled, tmp_path, [fact]))[:3] == (3, "w1", "subject")


def test_field_of_the_wrong_type(compiled: CompiledRuleset, tmp_path: Path) -> None:
    fact = {"id": "s1", "type": "satisfaction", "subject": "nanyue", "period": "2025Q1",
            "data": {"value": "92"}}  # fmt: skip
    line, ident, fld, msg = only(problems(compiled, tmp_path, [fact]))
    assert (line, ident, fld) == (3, "s1", "data.value")
    assert "expected a number" in msg


def test_boolean_is_not_a_number(compiled: CompiledRuleset, tmp_path: Path) -> None:
    fact = {"id": "s1", "type": "satisfaction", "subject": "nanyue", "period": "2025Q1",
            "data": {"value": True}}  # fmt: skip
    assert only(problems(compiled, tmp_path, [fact]))[:3] == (3, "s1", "data.value")


@pytest.mark.parametrize(
    ("ftype", "value", "period_or_date"),
    [
        ("satisfaction", 100.01, {"period": "2025Q1"}),  # in 0..100
        ("satisfaction", -1, {"period": "2025Q1"}),
        ("revenue_completion", -0.5, {"period": "2025Q1"}),  # >= 0
        ("rating", 101, {"period": "2025Q1"}),
    ],
)
def test_field_out_of_range(
    compiled: CompiledRuleset,
    tmp_path: Path,
    ftype: str,
    value: float,
    period_or_date: dict[str, str],
) -> None:
    data: dict[str, Any] = {"value": value}
    if ftype == "rating":
        data["rater_group"] = "peer"
    fact = {"id": "r1", "type": ftype, "subject": "hengshan", **period_or_date, "data": data}
    line, ident, fld, msg = only(problems(compiled, tmp_path, [fact]))
    assert (line, ident, fld) == (3, "r1", "data.value")
    assert "allowed range" in msg


def test_exclusive_bound_rejects_the_bound(compiled: CompiledRuleset, tmp_path: Path) -> None:
    # work_item points: number > 0
    fact = {"id": "w1", "type": "work_item", "subject": "nanyue-levy-1", "date": "2025-02-01",
            "data": {"points": 0, "quality": "normal"}}  # fmt: skip
    line, ident, fld, msg = only(problems(compiled, tmp_path, [fact]))
    assert (line, ident, fld) == (3, "w1", "data.points")
    assert "below the allowed range" in msg


def test_bounds_that_are_inclusive_are_accepted(compiled: CompiledRuleset, tmp_path: Path) -> None:
    facts = [
        {"id": "s1", "type": "satisfaction", "subject": "hengshan", "period": "2025Q1",
         "data": {"value": 100}},
        {"id": "s2", "type": "satisfaction", "subject": "hengdong", "period": "2025Q1",
         "data": {"value": 0}},
        {"id": "r0", "type": "revenue_completion", "subject": "hengshan", "period": "2025Q1",
         "data": {"value": 0}},
    ]  # fmt: skip
    path = write_facts(tmp_path / "facts.jsonl", facts)
    assert [f.id for f in load_inputs(compiled, ORG, path).facts] == ["s1", "s2", "r0"]


def test_enum_value_not_allowed(compiled: CompiledRuleset, tmp_path: Path) -> None:
    line, ident, fld, msg = only(problems(compiled, tmp_path, [issue(data={"level": "county"})]))
    assert (line, ident, fld) == (3, "x1", "data.level")
    assert "'county'" in msg
    assert "provincial" in msg


def test_unknown_field(compiled: CompiledRuleset, tmp_path: Path) -> None:
    fact = issue(data={"level": "provincial", "responsable": "nanyue-levy-1"})
    line, ident, fld, msg = only(problems(compiled, tmp_path, [fact]))
    assert (line, ident, fld) == (3, "x1", "data.responsable")
    assert "did you mean 'responsible'" in msg


def test_required_field_missing(compiled: CompiledRuleset, tmp_path: Path) -> None:
    assert only(problems(compiled, tmp_path, [issue(data={})]))[:3] == (3, "x1", "data.level")


def test_unknown_person_in_a_field(compiled: CompiledRuleset, tmp_path: Path) -> None:
    fact = issue(data={"level": "provincial", "responsible": "nobody"})
    assert only(problems(compiled, tmp_path, [fact]))[:3] == (3, "x1", "data.responsible")


def test_unknown_top_level_key(compiled: CompiledRuleset, tmp_path: Path) -> None:
    line, ident, fld, msg = only(
        problems(compiled, tmp_path, [issue(evidance="湘税督〔2025〕1号")])
    )
    assert (line, ident, fld) == (3, "x1", "evidance")
    assert "did you mean 'evidence'" in msg


def test_date_and_period_both(compiled: CompiledRuleset, tmp_path: Path) -> None:
    found = only(problems(compiled, tmp_path, [issue(period="2025Q1")]))
    assert found[:3] == (3, "x1", "date")
    assert "exactly one of 'date' and 'period'" in found[3]


def test_date_and_period_neither(compiled: CompiledRuleset, tmp_path: Path) -> None:
    fact = issue()
    del fact["date"]
    found = only(problems(compiled, tmp_path, [fact]))
    assert found[:3] == (3, "x1", "date")
    assert "exactly one of 'date' and 'period'" in found[3]


def test_not_a_date(compiled: CompiledRuleset, tmp_path: Path) -> None:
    assert only(problems(compiled, tmp_path, [issue(date="2025-02-30")]))[:3] == (3, "x1", "date")


def test_period_on_a_dated_fact(compiled: CompiledRuleset, tmp_path: Path) -> None:
    fact = issue()
    del fact["date"]
    fact["period"] = "2025Q1"
    assert only(problems(compiled, tmp_path, [fact]))[:3] == (3, "x1", "period")


def test_date_on_a_period_fact(compiled: CompiledRuleset, tmp_path: Path) -> None:
    fact = {"id": "v1", "type": "revenue_completion", "subject": "hengshan",
            "date": "2025-02-01", "data": {"value": 99}}  # fmt: skip
    assert only(problems(compiled, tmp_path, [fact]))[:3] == (3, "v1", "date")


def test_supersedes_naming_no_fact(compiled: CompiledRuleset, tmp_path: Path) -> None:
    fact = {"id": "v2", "type": "revenue_completion", "subject": "hengshan",
            "period": "2025Q1", "data": {"value": 99}, "supersedes": "v1"}  # fmt: skip
    line, ident, fld, msg = only(problems(compiled, tmp_path, [fact]))
    assert (line, ident, fld) == (3, "v2", "supersedes")
    assert "'v1'" in msg


def test_two_live_period_values(compiled: CompiledRuleset, tmp_path: Path) -> None:
    # g1 (line 1) already gives nanyue's 2025Q1 revenue completion
    fact = {"id": "v2", "type": "revenue_completion", "subject": "nanyue",
            "period": "2025Q1", "data": {"value": 99}}  # fmt: skip
    line, ident, fld, msg = only(problems(compiled, tmp_path, [fact]))
    assert (line, ident, fld) == (3, "v2", "period")
    assert "g1 on line 1" in msg


def test_one_live_value_per_period_and_several_where_many(
    compiled: CompiledRuleset, tmp_path: Path
) -> None:
    facts = [
        # a correction is not a second live value
        {"id": "v2", "type": "revenue_completion", "subject": "nanyue", "period": "2025Q1",
         "data": {"value": 99}, "supersedes": "g1"},
        # another period is another value
        {"id": "v3", "type": "revenue_completion", "subject": "nanyue", "period": "2025Q2",
         "data": {"value": 99}},
        # `period many`: one rating per rater
        {"id": "r1", "type": "rating", "subject": "nanyue", "period": "2025Q1",
         "data": {"rater_group": "peer", "value": 80}},
        {"id": "r2", "type": "rating", "subject": "nanyue", "period": "2025Q1",
         "data": {"rater_group": "peer", "value": 90}},
    ]  # fmt: skip
    path = write_facts(tmp_path / "facts.jsonl", GOOD + facts)
    assert load_inputs(compiled, ORG, path).skipped == []


def test_duplicate_id(compiled: CompiledRuleset, tmp_path: Path) -> None:
    line, ident, fld, msg = only(problems(compiled, tmp_path, [issue(id="g2")]))
    assert (line, ident, fld) == (3, "g2", "id")
    assert "line 2" in msg


def test_broken_json(compiled: CompiledRuleset, tmp_path: Path) -> None:
    path = tmp_path / "facts.jsonl"
    write_facts(path, GOOD)
    with path.open("a", encoding="utf-8") as fh:
        fh.write('{"id": "x1", "type": "overdue_document", "subject": "nanyue", "data": {}\n')
        fh.write("\n")  # a blank line is skipped, not a problem, and still counts
        fh.write(json.dumps(issue(id="x2")) + "\n")
    with pytest.raises(InputError) as info:
        load_inputs(compiled, ORG, path)
    (p,) = info.value.problems
    # JSON that does not parse has no reliable id or field: the line number is what locates it
    assert (p.line, p.ident, p.field) == (3, "-", "-")
    assert "not valid JSON" in p.message
    assert str(p).startswith(f"{path}:3: ")


def test_not_an_object(compiled: CompiledRuleset, tmp_path: Path) -> None:
    path = tmp_path / "facts.jsonl"
    path.write_text('["x1", "overdue_document"]\n', encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_inputs(compiled, ORG, path)
    assert [(p.line, p.message) for p in info.value.problems] == [(1, "not a JSON object")]


def test_every_problem_of_a_fact_is_listed(compiled: CompiledRuleset, tmp_path: Path) -> None:
    fact = issue(subject="nowhere", data={"level": "county", "extra": 1})
    found = problems(compiled, tmp_path, [fact])
    assert sorted((line, ident, fld) for line, ident, fld, _ in found) == [
        (3, "x1", "data.extra"),
        (3, "x1", "data.level"),
        (3, "x1", "subject"),
    ]


# ---- the command line ---------------------------------------------------------------------

BAD: list[dict[str, Any]] = [
    issue(id="b1", type="inspection_isue"),
    {"id": "b2", "type": "satisfaction", "subject": "nanyue", "period": "2025Q1",
     "data": {"value": 101}},
    issue(id="b3", subject="nanyue-levy-1"),
]  # fmt: skip
# the valid facts around them
REST: list[dict[str, Any]] = [
    {"id": "k1", "type": "revenue_completion", "subject": "hengshan", "period": "2025Q1",
     "data": {"value": 95}},
    issue(id="k2", data={"level": "municipal"}),
]  # fmt: skip


def _score_args(facts: Path, *extra: str) -> list[str | Path]:
    return ["score", RULES_2025, "--org", ORG, "--facts", facts, "--period", "2025Q1", *extra]


def test_score_rejects_a_file_with_invalid_facts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_facts(tmp_path / "facts.jsonl", [REST[0], *BAD, REST[1]])
    code, out, err = run_cli(capsys, *_score_args(path))
    assert code == 1
    assert out == ""  # nothing scored
    assert "3 invalid facts (nothing was scored" in err
    assert f"{path}:2: b1: type: " in err
    assert f"{path}:3: b2: data.value: " in err
    assert f"{path}:4: b3: subject: " in err
    assert "Traceback" not in err


def test_skip_invalid_scores_the_rest_and_lists_each_skipped_fact(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_facts(tmp_path / "facts.jsonl", [REST[0], *BAD, REST[1]])
    code, out, err = run_cli(capsys, *_score_args(path, "--skip-invalid", "--format", "json"))
    assert code == 0
    skipped = [line for line in err.splitlines() if line.startswith("skipped: ")]
    assert [s.split(": ")[1:4] for s in skipped] == [
        [f"{path}:2", "b1", "type"],
        [f"{path}:3", "b2", "data.value"],
        [f"{path}:4", "b3", "subject"],
    ]
    got = json.loads(out)

    # the same as scoring the valid facts alone
    alone = write_facts(tmp_path / "rest.jsonl", REST)
    code, out_rest, _ = run_cli(capsys, *_score_args(alone, "--format", "json"))
    assert code == 0
    assert got == json.loads(out_rest)
    by = {r["subject"]: r for r in got["results"]}
    # k1: 30 − 3 × (100 − 95) = 15; k2: 30 − 1.5; b2 (satisfaction 101) was not used
    assert by["hengshan"]["indicators"]["K1"] == "15.00"
    assert by["nanyue"]["indicators"]["K4"] == "28.50"
    assert by["nanyue"]["indicators"]["K2"] == "0.00"
    assert "K2" in by["nanyue"]["missing"]


def test_superseded_facts_are_ignored(capsys: pytest.CaptureFixture[str]) -> None:
    got = score_json(capsys, RULES_2025, HANDWORKED, "2025Q1")
    nanyue = next(r for r in got["results"] if r["subject"] == "nanyue")
    # f2 (98.5) supersedes f1 (97): 30 − 3 × 1.5 = 25.50, not 30 − 3 × 3 = 21
    assert nanyue["indicators"]["K1"] == "25.50"


def test_without_the_correction_the_first_value_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = (HANDWORKED / "facts.jsonl").read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if json.loads(line)["id"] != "f2"]
    (tmp_path / "facts.jsonl").write_text("\n".join(kept) + "\n", encoding="utf-8")
    (tmp_path / "org.json").write_text(ORG.read_text(encoding="utf-8"), encoding="utf-8")
    got = score_json(capsys, RULES_2025, tmp_path, "2025Q1")
    nanyue = next(r for r in got["results"] if r["subject"] == "nanyue")
    assert nanyue["indicators"]["K1"] == "21.00"


def test_a_correction_of_a_correction(compiled: CompiledRuleset, tmp_path: Path) -> None:
    facts = [
        {"id": "c2", "type": "revenue_completion", "subject": "nanyue", "period": "2025Q1",
         "data": {"value": 99}, "supersedes": "g1"},
        {"id": "c3", "type": "revenue_completion", "subject": "nanyue", "period": "2025Q1",
         "data": {"value": 100.5}, "supersedes": "c2"},
    ]  # fmt: skip
    path = write_facts(tmp_path / "facts.jsonl", [facts[1], *GOOD, facts[0]])
    inputs = load_inputs(compiled, ORG, path)
    assert inputs.skipped == []
    ev = evaluate(compiled, inputs.org, inputs.facts, Period.parse("2025Q1"))
    nanyue = next(r for r in ev.results if r.subject == "nanyue")
    assert nanyue.indicators["K1"] == 30  # only c3 (100.5 ≥ 100) is live


@pytest.mark.parametrize(
    ("workload", "message"),
    [("lots", "expected a number, got 'lots'"), (0, "0 is below the allowed range (> 0)")],
)
def test_person_attributes_are_checked_against_their_declaration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], workload: object, message: str
) -> None:
    org = json.loads((HANDWORKED / "org.json").read_text(encoding="utf-8"))
    org["persons"][1]["attrs"]["workload"] = workload
    path = tmp_path / "org.json"
    path.write_text(json.dumps(org, ensure_ascii=False), encoding="utf-8")
    code, out, err = run_cli(
        capsys, "score", RULES_2025, "--org", path, "--facts", HANDWORKED / "facts.jsonl",
        "--period", "2025Q1",
    )  # fmt: skip
    assert code == 1 and out == ""
    assert f"nanyue-levy-2: attrs.workload: {message}" in err
    assert "Traceback" not in err
