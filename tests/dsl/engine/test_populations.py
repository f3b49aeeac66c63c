"""Person sequences by unit kind, unions of sequences, `match` over a union, `persons A | B`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.dsl.helpers import HANDWORKED, RULES_2025, copy_rules, edit, run_cli, score_json

AGENCY: Mapping[str, object] = {
    "id": "hy-policy-9",
    "name": "陈静",
    "unit": "hy-policy",
    "attrs": {"workload": 100},
}


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    """rules/2025 whose persons are county staff or agency staff, each with their unit's final."""
    dest = copy_rules(RULES_2025, tmp_path / "rules")
    edit(
        dest / "ruleset.jx",
        'sequence staff "全体人员" = person',
        "sequence county_staff = person in county_dept under county_bureau\n"
        "sequence agency_staff = person in municipal_dept\n"
        "sequence staff = county_staff | agency_staff",
    )
    edit(dest / "ruleset.jx", "    post: text\n", "    post: text?\n")
    edit(
        dest / "ruleset.jx",
        "number > 0  # standard work points per quarter\n  }",
        "number > 0\n  }\n  persons county_staff | agency_staff",
    )
    edit(
        dest / "person.jx",
        "0.1 * county[ancestor(county_bureau)].final",
        "0.1 * match staff {\n    county_staff: county[ancestor(county_bureau)].final\n"
        "    agency_staff: dept[ancestor(municipal_dept)].final\n  }",
    )
    return dest


def _example(tmp_path: Path, *persons: Mapping[str, object]) -> Path:
    folder = tmp_path / "example"
    folder.mkdir()
    org = json.loads((HANDWORKED / "org.json").read_text(encoding="utf-8"))
    org["persons"].extend(persons)
    (folder / "org.json").write_text(json.dumps(org, ensure_ascii=False), encoding="utf-8")
    facts = (HANDWORKED / "facts.jsonl").read_text(encoding="utf-8")
    (folder / "facts.jsonl").write_text(facts, encoding="utf-8")
    return folder


def test_agency_staff_take_their_departments_final(
    rules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    got = score_json(capsys, rules, _example(tmp_path, AGENCY), "2025Q1")
    by = {(r["subject"], r["scorecard"]): r for r in got["results"]}
    # no fact of their own: 0.9 × 0 + 0.1 × hy-policy's published 87.50
    assert by["hy-policy-9", "person"]["final"] == "8.75"
    assert by["hy-policy", "dept"]["final"] == "87.50"
    # county staff as before: nanyue-levy-1's 2025Q1 final of the worked example
    assert by["nanyue-levy-1", "person"]["final"] == "87.26"


def test_a_person_in_no_population_stops_scoring_with_their_name(
    rules: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stray: Mapping[str, object] = {
        "id": "nanyue-9",
        "name": "赵六",
        "unit": "nanyue",
        "attrs": {"workload": 100},
    }
    folder = _example(tmp_path, stray)
    code, out, err = run_cli(
        capsys,
        "score",
        rules,
        "--org",
        folder / "org.json",
        "--facts",
        folder / "facts.jsonl",
        "--period",
        "2025Q1",
    )
    assert code != 0 and out == ""
    assert "nanyue-9: unit: 赵六's unit 'nanyue' (county_bureau) places them in none of" in err
    assert "county_staff (persons in county_dept under county_bureau)" in err
    assert "Traceback" not in err
