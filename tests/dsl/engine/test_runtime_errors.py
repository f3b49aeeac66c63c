"""A failure inside a rule names its file and line, the subject and the facts; no traceback;
that subject's result is the error, the others are scored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dsl.compile.compiler import compile_path
from dsl.engine.evaluate import evaluate
from dsl.facts.inputs import load_inputs
from dsl.facts.periods import Period
from tests.dsl.helpers import HANDWORKED, RULES_2025, copy_rules, edit, run_cli, write_facts

K1_RULE = "score if v >= 100 then 30 else max(0, 30 - 3 * (100 - v))"
# revenue_completion.value is `number >= 0`, so 0 is a valid fact value
K1_DIVIDING = "score min(30, 30 * 100 / v)"


@pytest.fixture
def dividing_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, int]:
    """rules/2025 copied to tmp_path (the cwd) with K1 dividing by the completion rate."""
    rules = copy_rules(RULES_2025, tmp_path / "rules")
    county = rules / "county.jx"
    edit(county, K1_RULE, K1_DIVIDING)
    lines = county.read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(lines, 1) if K1_DIVIDING in text)
    monkeypatch.chdir(tmp_path)
    return rules, line


def _facts(tmp_path: Path) -> Path:
    return write_facts(
        tmp_path / "facts.jsonl",
        [
            {"id": "ok1", "type": "revenue_completion", "subject": "hengshan",
             "period": "2025Q1", "data": {"value": 50}},
            {"id": "zero1", "type": "revenue_completion", "subject": "nanyue",
             "period": "2025Q1", "data": {"value": 0}},
            {"id": "doc1", "type": "overdue_document", "subject": "nanyue",
             "date": "2025-02-01", "data": {}},
        ],
    )  # fmt: skip


def test_division_by_zero_in_a_rule_is_reported_at_the_rule(
    dividing_rules: tuple[Path, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules, line = dividing_rules
    facts = _facts(tmp_path)
    argv: list[str | Path] = ["score", rules, "--org", HANDWORKED / "org.json", "--facts", facts]
    code, out, err = run_cli(capsys, *argv, "--period", "2025Q1")
    assert code == 1
    # nanyue's result is the error; hengshan is scored: min(30, 3000 / 50) = 30
    results = {(r["scorecard"], r["subject"]): r for r in json.loads(out)["results"]}
    assert results[("county", "nanyue")]["final"] is None
    assert results[("county", "nanyue")]["error"]["facts"] == ["zero1"]
    assert results[("county", "hengshan")]["indicators"]["K1"] == "30.00"
    assert "Traceback" not in err
    assert err.count("\n") == 1  # one line, not a stack
    assert f"rules/county.jx:{line}:" in err
    assert "division by zero" in err
    assert "subject nanyue" in err
    assert "zero1" in err
    # only the fact the failing rule read: not hengshan's value, not nanyue's overdue document
    assert "ok1" not in err
    assert "doc1" not in err


def test_the_error_carries_the_rule_subject_and_facts(
    dividing_rules: tuple[Path, int], tmp_path: Path
) -> None:
    rules, line = dividing_rules
    compiled = compile_path(rules)
    inputs = load_inputs(compiled, HANDWORKED / "org.json", _facts(tmp_path))
    ev = evaluate(compiled, inputs.org, inputs.facts, Period.parse("2025Q1"))
    [failed] = ev.failed()
    assert (failed.scorecard, failed.subject) == ("county", "nanyue")
    assert failed.error is not None
    assert failed.error["at"].startswith(f"rules/county.jx:{line}:")
    assert failed.error["facts"] == ["zero1"]
    assert "division by zero" in failed.error["message"]
    assert (failed.final, failed.rank, failed.tier) == (None, None, None)
    assert failed.why_missing is not None and "left out of rankings" in failed.why_missing
    # the other counties are scored and ranked among themselves: 1..n without nanyue
    others = [r for r in ev.results if r.scorecard == "county" and r.subject != "nanyue"]
    assert others and all(r.final is not None for r in others)
    assert sorted(r.rank for r in others if r.rank is not None) == list(range(1, len(others) + 1))


def test_the_same_rules_score_when_nothing_is_zero(
    dividing_rules: tuple[Path, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules, _ = dividing_rules
    facts = write_facts(
        tmp_path / "facts.jsonl",
        [{"id": "v1", "type": "revenue_completion", "subject": "nanyue", "period": "2025Q1",
          "data": {"value": 250}}],
    )  # fmt: skip
    org = HANDWORKED / "org.json"
    argv: list[str | Path] = ["score", rules, "--org", org, "--facts", facts, "--period", "2025Q1"]
    code, out, err = run_cli(capsys, *argv)
    assert (code, err) == (0, "")
    # min(30, 3000 / 250) = 12
    assert '"K1": "12.00"' in out
