"""A cap per year scored from the database: a quarter reads the quarters of its year before it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.app.conftest import EXAMPLES, empty_url  # noqa: F401  (fixture)
from tests.dsl.engine.test_caps import EXAMPLE, FACTS
from tests.dsl.helpers import RULES_2025, copy_rules, run_cli, write_facts

REPO = Path(__file__).resolve().parents[3]


def test_a_quarter_from_the_database_sees_what_the_year_gave_before(
    empty_url: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("JIXIAO_DATABASE_URL", empty_url)
    rules = copy_rules(RULES_2025, tmp_path / "2025")
    (rules / "capped.jx").write_text(EXAMPLE, encoding="utf-8")
    facts = write_facts(tmp_path / "facts.jsonl", FACTS)
    assert run_cli(capsys, "db", "upgrade")[0] == 0
    assert run_cli(capsys, "import", "org", EXAMPLES / "handworked" / "org.json")[0] == 0
    code, _, err = run_cli(capsys, "import", "facts", facts, "--ruleset", rules)
    assert code == 0, err

    def capped(period: str) -> tuple[str, str]:
        code, out, err = run_cli(
            capsys, "score", rules, "--db", "--period", period, "--format", "json"
        )
        assert code == 0, err
        r = next(
            r
            for r in json.loads(out)["results"]
            if r["scorecard"] == "capped" and r["subject"] == "nanyue"
        )
        return r["bonus"], r["final"]

    # Q2: 1.5, but 3 − 2 (Q1's) is left of the year's bonus: 90 + 1 − 2
    assert capped("2025Q2") == ("1.00", "89.00")
    assert capped("2025Q3") == ("0.00", "90.00")
