"""Rulesets that `jixiao check` accepts score, or stop with a diagnostic: cases that crashed.

Each ruleset is rules/2025 with one change a rule author could make from docs/language.md; the
expected values are worked by hand from the handworked example (tests/examples/handworked).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dsl.check.checker import check
from dsl.syntax.program import load
from tests.dsl.helpers import HANDWORKED, RULES_2025, copy_rules, edit, run_cli, score_json

COUNTY_FINAL_IN_PERSON = (
    "final 0.9 * (base + bonus - penalty - joint) + 0.1 * county[ancestor(county_bureau)].final\n"
)


def _clean(rules: Path) -> None:
    """The ruleset checks without errors (warnings allowed): the engine must not crash on it."""
    errors = [d.headline() for d in check(load(rules)) if d.is_error]
    assert errors == []


def _by(results: list[dict[str, Any]], card: str) -> dict[str, dict[str, Any]]:
    return {r["subject"]: r for r in results if r["scorecard"] == card}


def test_a_link_to_an_ancestor_passes_to_the_subjects_unit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = copy_rules(RULES_2025, tmp_path / "rules")
    # The person scorecard reads the county's final, and person_liability makes person depend
    # on county: both go, so that county may receive from persons without a cycle.
    edit(rules / "person.jx", COUNTY_FINAL_IN_PERSON, "")
    text = (rules / "joint.jx").read_text("utf-8")
    text = text[: text.index("# §2.4 joint liability to persons")]
    text += (
        "joint up_liability into county {\n"
        "  link up: person fact discipline_violation -> ancestor(county_bureau) amount 1\n"
        "}\n"
    )
    (rules / "joint.jx").write_text(text, "utf-8")
    _clean(rules)
    out = score_json(capsys, rules, HANDWORKED, "2025Q1")
    county = _by(out["results"], "county")
    # f69: nanyue-levy-2 (of nanyue-levy, under nanyue) breaks discipline on 2025-03-03.
    # nanyue: 83.4325 + 4 − 0.5 − 1 = 85.9325 → 85.93; the other bureaus receive nothing.
    assert county["nanyue"]["joint"] == "1.00"
    assert county["nanyue"]["final"] == "85.93"
    assert county["hengshan"]["joint"] == "0.00"
    assert county["hengdong"]["joint"] == "0.00"


def test_a_rank_key_that_an_annual_result_lacks_counts_as_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = copy_rules(RULES_2025, tmp_path / "rules")
    edit(
        rules / "person.jx",
        "rank year within ancestor(county_bureau) by final desc",
        "rank by final desc, performance desc",
    )
    # A band condition reading a component of an annual result: missing, so false.
    edit(rules / "person.jx", 'incompetent "不称职": final < 60', "incompetent: performance >= 0")
    _clean(rules)
    year = _by(score_json(capsys, rules, HANDWORKED, "2025")["results"], "person")
    # Annual = mean of the published quarters: (87.26 + 3 × 6) / 4 = 26.315 → 26.32 and
    # (82.94 + 3 × 6) / 4 = 25.235 → 25.24; performance is 0 for both, so final decides.
    assert (year["nanyue-levy-1"]["final"], year["nanyue-levy-1"]["rank"]) == ("26.32", 1)
    assert (year["nanyue-levy-2"]["final"], year["nanyue-levy-2"]["rank"]) == ("25.24", 2)
    # n = 2: quota(20%) = 0.4 → 0, so nobody is excellent; `performance >= 0` is missing.
    assert year["nanyue-levy-1"]["grade"] == "competent"
    q1 = _by(score_json(capsys, rules, HANDWORKED, "2025Q1")["results"], "person")
    # In a quarter the key is there: 87.26 before 82.94.
    assert (q1["nanyue-levy-1"]["rank"], q1["nanyue-levy-2"]["rank"]) == (1, 2)
    assert q1["nanyue-levy-1"]["grade"] is None  # grades year: no grade in a quarter


def _where_rules(tmp_path: Path, in_file: str, optional: bool = False) -> Path:
    rules = copy_rules(RULES_2025, tmp_path / f"rules-{in_file}-{optional}")
    declared = 'sequence staff "全体人员" = person\n'
    edit(rules / "ruleset.jx", declared, "")
    where = 'sequence staff "全体人员" = person where attr(post) == "tax_officer"\n'
    target = rules / in_file
    target.write_text(where + target.read_text("utf-8"), "utf-8")
    if optional:
        edit(rules / "ruleset.jx", 'post "岗位": text', 'post "岗位": text?')
    _clean(rules)
    return rules


@pytest.mark.parametrize("in_file", ["ruleset.jx", "person.jx", "facts.jx"])
def test_where_applies_wherever_the_sequence_is_declared(
    in_file: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = _where_rules(tmp_path, in_file)
    person = _by(score_json(capsys, rules, HANDWORKED, "2025Q1")["results"], "person")
    # Only nanyue-levy-1 is a tax officer (nanyue-levy-2 is a clerk); its Q1 final is the
    # handworked one: 0.9 × (85.8 + 2 − 0 − 0.5) + 0.1 × 86.93 = 87.263 → 87.26.
    assert sorted(person) == ["nanyue-levy-1"]
    assert person["nanyue-levy-1"]["final"] == "87.26"


def test_a_where_whose_value_is_missing_does_not_hold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = _where_rules(tmp_path, "ruleset.jx", optional=True)
    org = json.loads((HANDWORKED / "org.json").read_text("utf-8"))
    for p in org["persons"]:
        del p["attrs"]["post"]
    (tmp_path / "org.json").write_text(json.dumps(org), "utf-8")
    code, out, err = run_cli(
        capsys, "score", rules, "--org", tmp_path / "org.json", "--facts",
        HANDWORKED / "facts.jsonl", "--period", "2025Q1",
    )  # fmt: skip
    assert code == 0, err
    assert _by(json.loads(out)["results"], "person") == {}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"results": [', "cannot read bad.json: "),
        ("[1, 2]", 'bad.json: expected an object with a list of "results"'),
        ('{"results": [{"final": 2}]}', 'bad.json: results[0] is not an object with a "subject"'),
    ],
)
def test_an_unreadable_expected_file_fails_the_test_at_its_line(
    content: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = copy_rules(RULES_2025, tmp_path / "rules")
    (rules / "tests").mkdir()
    (rules / "tests" / "bad.json").write_text(content, "utf-8")
    org, facts = HANDWORKED / "org.json", HANDWORKED / "facts.jsonl"
    (rules / "tests" / "t.jx").write_text(
        f'test t {{\n  org "{org}"\n  facts "{facts}"\n  period 2025Q1\n  expect "bad.json"\n}}\n',
        "utf-8",
    )
    _clean(rules)
    code, out, err = run_cli(capsys, "test", rules)
    assert code == 1
    assert out == "0 passed, 1 failed\n"
    assert f"{rules / 'tests' / 't.jx'}:5:10: test t: {message}" in err
    assert "Traceback" not in err


def test_a_result_expected_as_an_object_is_compared_entry_by_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = copy_rules(RULES_2025, tmp_path / "rules")
    (rules / "tests").mkdir()
    # `final` is a number, not an object: its entries are compared with nothing.
    (rules / "tests" / "odd.json").write_text(
        '{"results": [{"subject": "nanyue", "final": {"x": "1"}}]}', "utf-8"
    )
    org, facts = HANDWORKED / "org.json", HANDWORKED / "facts.jsonl"
    (rules / "tests" / "t.jx").write_text(
        f'test t {{\n  org "{org}"\n  facts "{facts}"\n  period 2025Q1\n  expect "odd.json"\n}}\n',
        "utf-8",
    )
    code, _, err = run_cli(capsys, "test", rules)
    assert code == 1
    assert "test t: nanyue.x: expected 1, got None" in err


OPTIONAL_RULES = """\
ruleset "optional fields" {
  year 2025
  periods quarter
  round 2 half_up
}

organisation {
  unit kinds {
    bureau
  }
}

sequence bureaus = unit bureau

fact fine dated on unit {
  amount: number >= 0?
  level: high | low?
}

scorecard s for bureaus {
  periods quarter
  category c weight 100% max 100 {
    indicator summed points 40 {
      score min(40, sum(fine, amount * 2))
    }
    indicator counted points 10 {
      score min(10, count(fine, amount > 1))
    }
    indicator deducted points 30 {
      deduct per fine by level { high: 5, low: 1 } floor 0
    }
    indicator filtered points 20 {
      deduct per fine where amount >= 3 4 floor 0
    }
  }
}
"""


def test_a_fact_lacking_an_optional_field_an_expression_reads_is_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules.jx"
    rules.write_text(OPTIONAL_RULES, "utf-8")
    _clean(rules)
    org = {"units": [{"id": "u1", "name": "u1", "kind": "bureau", "parent": None}], "persons": []}
    (tmp_path / "org.json").write_text(json.dumps(org), "utf-8")
    facts = [
        {"id": "a", "type": "fine", "subject": "u1", "date": "2025-01-10",
         "data": {"amount": 5, "level": "high"}},
        {"id": "b", "type": "fine", "subject": "u1", "date": "2025-01-11", "data": {"amount": 1}},
        {"id": "c", "type": "fine", "subject": "u1", "date": "2025-01-12",
         "data": {"level": "low"}},
        {"id": "d", "type": "fine", "subject": "u1", "date": "2025-01-13", "data": {}},
    ]  # fmt: skip
    (tmp_path / "facts.jsonl").write_text("".join(json.dumps(f) + "\n" for f in facts), "utf-8")
    result = score_json(capsys, rules, tmp_path, "2025Q1")["results"][0]
    assert result["indicators"] == {
        "summed": "12.00",  # 5 × 2 + 1 × 2: c and d have no amount
        "counted": "1.00",  # a alone has an amount above 1
        "deducted": "24.00",  # 30 − 5 (a, high) − 1 (c, low): b and d have no level
        "filtered": "16.00",  # 20 − 4 (a alone has an amount of 3 or more)
    }
    assert result["missing"] == []
    assert result["final"] == "53.00"


def test_a_final_reading_an_indicator_is_exact(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = copy_rules(RULES_2025, tmp_path / "rules")
    edit(
        rules / "county.jx",
        "  floor 60\n",
        "  final base + bonus - penalty - joint + 0.1 * K4\n  floor 60\n",
    )
    _clean(rules)
    county = _by(score_json(capsys, rules, HANDWORKED, "2025Q1")["results"], "county")
    # nanyue: 83.4325 + 4 − 0.5 − 0 + 0.1 × 25.5 (K4: 30 − 3 − 1.5) = 89.4825 → 89.48
    assert county["nanyue"]["final"] == "89.48"


def test_a_parts_where_decides_which_part_of_a_union_holds_a_subject(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = copy_rules(RULES_2025, tmp_path / "rules")
    edit(
        rules / "ruleset.jx",
        'sequence staff "全体人员" = person\n',
        'sequence officers = person where attr(post) == "tax_officer"\n'
        "sequence others = person\n"
        'sequence staff "全体人员" = officers | others\n',
    )
    edit(
        rules / "person.jx",
        "0.1 * county[ancestor(county_bureau)].final\n",
        "0.1 * county[ancestor(county_bureau)].final + match staff { officers: 0, others: 1 }\n",
    )
    _clean(rules)
    person = _by(score_json(capsys, rules, HANDWORKED, "2025Q1")["results"], "person")
    # nanyue-levy-1 is a tax officer: its handworked final, 87.26. nanyue-levy-2, a clerk, is
    # left out of `officers` by its where and so is in `others`:
    # 0.9 × (84.5 + 0 − 2 − 0) + 0.1 × 86.93 + 1 = 83.943 → 83.94.
    assert person["nanyue-levy-1"]["final"] == "87.26"
    assert person["nanyue-levy-2"]["final"] == "83.94"
