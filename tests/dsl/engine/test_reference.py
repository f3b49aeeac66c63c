"""Every worked example is reproduced exactly through the CLI; `jixiao test` guards the rules."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.dsl.helpers import EXAMPLES, HANDWORKED, REPO, copy_rules, edit, run_cli, score_json

EXPECTED_FILES = sorted(EXAMPLES.glob("*/expected-*.json"))
# Every field an expected result may carry; anything else in a file would go unchecked.
FIELDS = (
    "final",
    "base",
    "bonus",
    "penalty",
    "joint",
    "rank",
    "tier",
    "grade",
    "categories",
    "indicators",
    "components",
    "missing",
    "quarters",
    "bonus_amount",
    # a pool's result (《衡阳市税务局2026年度绩效考评办法》§7)
    "group",
    "head_count",
    "excellent_quota",
    "per_head",
    "tier_coefficient",
    "amount",
    "allocated",
)


def rules_and_period(expected: Path) -> tuple[Path, str]:
    """As shared/tools/check-reference: `expected-2025Q1-under-2024-rules` → rules/2024, 2025Q1."""
    period = expected.stem.removeprefix("expected-")
    year = period[:4]
    if period.endswith("-under-2024-rules"):
        period, year = period.split("-", 1)[0], "2024"
    return REPO / "rules" / year, period


def test_the_examples_are_all_found() -> None:
    names = {f"{p.parent.name}/{p.name}" for p in EXPECTED_FILES}
    assert len(names) == 13
    assert "handworked/expected-2025Q1-under-2024-rules.json" in names
    assert rules_and_period(HANDWORKED / "expected-2025Q1-under-2024-rules.json") == (
        REPO / "rules" / "2024",
        "2025Q1",
    )
    assert rules_and_period(EXAMPLES / "random-2024" / "expected-2024Q2.json") == (
        REPO / "rules" / "2024",
        "2024Q2",
    )


def _differences(exp: dict[str, Any], got: dict[str, Any]) -> list[str]:
    diffs: list[str] = []
    for key, want in exp.items():
        if key in ("subject", "scorecard"):
            continue
        have = got.get(key)
        if key == "missing":
            want, have = sorted(want), sorted(have or [])
        if isinstance(want, dict):
            have = have or {}
            diffs += [
                f"{key}.{k}: {have.get(k)!r} ≠ {v!r}" for k, v in want.items() if have.get(k) != v
            ]
            diffs += [f"{key}.{k}: unexpected {have[k]!r}" for k in have if k not in want]
        elif have != want:
            diffs.append(f"{key}: {have!r} ≠ {want!r}")
    return diffs


@pytest.mark.parametrize(
    "expected", EXPECTED_FILES, ids=[f"{p.parent.name}/{p.stem}" for p in EXPECTED_FILES]
)
def test_example_is_reproduced_exactly(expected: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules, period = rules_and_period(expected)
    want = json.loads(expected.read_text(encoding="utf-8"))
    got = score_json(capsys, rules, expected.parent, period)

    assert got["period"] == want["period"] == period
    by_subject = {(r["subject"], r["scorecard"]): r for r in got["results"]}
    assert set(by_subject) == {(r["subject"], r["scorecard"]) for r in want["results"]}
    problems: list[str] = []
    for exp in want["results"]:
        assert set(exp) - {"subject", "scorecard"} <= set(FIELDS), exp.keys()
        diffs = _differences(exp, by_subject[exp["subject"], exp["scorecard"]])
        problems += [f"{exp['subject']}: {d}" for d in diffs]
    assert problems == []


def test_missing_is_distinct_from_zero(capsys: pytest.CaptureFixture[str]) -> None:
    got = score_json(capsys, REPO / "rules" / "2025", HANDWORKED, "2025Q1")
    hengdong = next(r for r in got["results"] if r["subject"] == "hengdong")
    # K1: no revenue_completion fact at all → 0 and missing; K3: no risk step → a count of 0.
    assert hengdong["indicators"]["K1"] == "0.00"
    assert hengdong["indicators"]["K3"] == "0.00"
    assert hengdong["missing"] == ["G3", "K1"]
    levy2 = next(r for r in got["results"] if r["subject"] == "nanyue-levy-2")
    # no ability_rating → missing; attitude has one (70) → not missing
    assert levy2["components"]["ability"] == "0.00"
    assert levy2["components"]["attitude"] == "70.00"
    assert levy2["missing"] == ["ability"]


@pytest.mark.parametrize("year", ["2026", "2025", "2024"])
def test_jixiao_test_passes_on_the_rulesets(
    year: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    code, out, err = run_cli(capsys, "test", f"rules/{year}")
    assert (code, err) == (0, "")
    count = {"2026": 5, "2025": 6, "2024": 3}[year]
    assert out.strip().splitlines()[-1] == f"{count} passed, 0 failed"


@pytest.fixture
def broken_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """rules/2025 with its tests and the examples they read, under tmp_path (the new cwd)."""
    copy_rules(REPO / "rules" / "2025", tmp_path / "rules" / "2025", with_tests=True)
    shutil.copytree(EXAMPLES, tmp_path / "tests" / "examples")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def test_a_broken_expect_line_fails_with_its_location(
    broken_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tests_file = broken_copy / "rules" / "2025" / "tests" / "examples.jx"
    edit(tests_file, "expect nanyue.final == 86.93", "expect nanyue.final == 86.94")
    line = _line_of(tests_file, "expect nanyue.final == 86.94")

    code, out, err = run_cli(capsys, "test", "rules/2025")

    assert code == 1
    assert out.strip().splitlines()[-1] == "5 passed, 1 failed"
    failures = err.strip().splitlines()
    assert len(failures) == 1
    assert re.match(rf"rules/2025/tests/examples\.jx:{line}:\d+: test handworked_q1: ", failures[0])
    assert "nanyue.final: expected 86.94, got 86.93" in failures[0]


def test_a_broken_expected_file_fails_naming_the_rule(
    broken_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = broken_copy / "tests" / "examples" / "precision" / "expected-2025Q1.json"
    edit(expected, '"ability": "71.33"', '"ability": "71.34"')
    tests_file = broken_copy / "rules" / "2025" / "tests" / "examples.jx"
    line = _line_of(tests_file, "precision/expected-2025Q1.json")
    person = broken_copy / "rules" / "2025" / "person.jx"
    rule_line = _line_of(person, 'component ability "能力"')

    code, out, err = run_cli(capsys, "test", "rules/2025")

    assert code == 1
    assert out.strip().splitlines()[-1] == "5 passed, 1 failed"
    failures = err.strip().splitlines()
    assert len(failures) == 1
    assert re.match(rf"rules/2025/tests/examples\.jx:{line}:\d+: test precision_q1: ", failures[0])
    assert "nanyue-levy-1.ability: expected 71.34, got 71.33" in failures[0]
    assert failures[0].endswith(f"(rule at rules/2025/person.jx:{rule_line})")
