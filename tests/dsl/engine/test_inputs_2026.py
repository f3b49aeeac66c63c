"""《衡阳市税务局2026年度绩效考评办法》§8: input errors stop scoring, naming the person or fact."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.dsl.helpers import EXAMPLES, REPO, run_cli

RULES = REPO / "rules" / "2026"
EXAMPLE = EXAMPLES / "handworked-2026"


def _score(capsys: pytest.CaptureFixture[str], tmp_path: Path, org: Any, extra: str = "") -> str:
    (tmp_path / "org.json").write_text(json.dumps(org, ensure_ascii=False), encoding="utf-8")
    facts = (EXAMPLE / "facts.jsonl").read_text(encoding="utf-8") + extra
    (tmp_path / "facts.jsonl").write_text(facts, encoding="utf-8")
    code, out, err = run_cli(
        capsys,
        "score",
        RULES,
        "--org",
        tmp_path / "org.json",
        "--facts",
        tmp_path / "facts.jsonl",
        "--period",
        "2026",
    )
    assert (code, out) == (1, "")
    assert "Traceback" not in err
    return err


def _org() -> Any:
    return json.loads((EXAMPLE / "org.json").read_text(encoding="utf-8"))


def _person(org: Any, pid: str) -> Any:
    return next(p for p in org["persons"] if p["id"] == pid)


def test_persons_in_no_population_and_bad_attributes_are_all_listed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    org = _org()
    _person(org, "hengshan-levy-1")["unit"] = "hengshan"  # a county bureau itself
    _person(org, "hengdong-levy-1")["attrs"].pop("workload")
    _person(org, "hengdong-levy-2")["attrs"]["workload"] = "eighty"
    _person(org, "hengdong-levy-3")["attrs"]["workload"] = 0
    _person(org, "hy-policy-1")["attrs"]["post"] = "manager"
    _person(org, "hy-policy-2")["attrs"].pop("post")
    _person(org, "nanyue-levy-1")["attrs"].pop("post")  # a county person needs no post
    err = _score(capsys, tmp_path, org)
    assert "6 invalid organisation records" in err
    assert (
        "hengshan-levy-1: unit: 赵强's unit 'hengshan' (county_bureau) places them in none of"
        in err
    )
    assert "hengdong-levy-1: attrs.workload: required attribute is missing" in err
    assert "hengdong-levy-2: attrs.workload:" in err
    assert "hengdong-levy-3: attrs.workload: 0 is below the allowed range (> 0)" in err
    assert "hy-policy-1: attrs.post: 'manager' is not in the table 岗位系数" in err
    assert "hy-policy-2: attrs.post: required for 机关人员 by the table 岗位系数" in err
    assert "nanyue-levy-1" not in err


def test_assigned_tasks_of_any_period_are_checked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = [
        {
            "id": "x1",
            "type": "assigned_task",
            "subject": "hy-policy-1",
            "date": "2025-12-30",
            "data": {"outcome": "lost"},
        },
        {
            "id": "x2",
            "type": "assigned_task",
            "subject": "hy-policy",
            "date": "2026-05-01",
            "data": {"outcome": "late"},
        },
    ]
    extra = "".join(json.dumps(f, ensure_ascii=False) + "\n" for f in bad)
    err = _score(capsys, tmp_path, _org(), extra)
    values = "completed (按时完成), late (逾期完成), failed (未完成)"
    assert f"x1: data.outcome: 'lost' is not one of {values}" in err
    assert "x2: subject: 'hy-policy' is a unit; assigned_task facts are on person" in err
