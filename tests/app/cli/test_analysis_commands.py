"""The analysis commands on the hand-worked example's files and, imported, its database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.app.conftest import EXAMPLES, empty_url  # noqa: F401  (fixture)
from tests.dsl.helpers import run_cli

REPO = Path(__file__).resolve().parents[3]
HANDWORKED = EXAMPLES / "handworked"
FILES = ("--org", HANDWORKED / "org.json", "--facts", HANDWORKED / "facts.jsonl")
Q1 = ("--period", "2025Q1")


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # --rules defaults to rules/<year>


def test_lost_points_json_and_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(
        capsys, "analysis", "lost-points", *FILES, *Q1, "--scorecard", "county"
    )
    assert code == 0, err
    nanyue = next(s for s in json.loads(out)["subjects"] if s["subject"] == "nanyue")
    k4 = next(i for i in nanyue["indicators"] if i["indicator"] == "K4")
    assert (k4["lost"], k4["facts"]) == ("4.50", ["f16", "f17"])
    code, out, _ = run_cli(capsys, "analysis", "lost-points", *FILES, *Q1, "--scorecard",
                           "county", "--format", "table")  # fmt: skip
    assert "南岳区税务局  得分 86.93  失分 16.57" in out
    code, _, err = run_cli(capsys, "analysis", "lost-points", *FILES, *Q1, "--scorecard", "x")
    assert code == 1 and "no scorecard 'x'" in err


def test_warnings_risk_trend_and_what_if(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run_cli(capsys, "analysis", "warnings", *FILES, *Q1, "--as-of", "2025-03-20")
    assert code == 0, err and json.loads(out)["days_left"] == 11
    code, out, _ = run_cli(capsys, "analysis", "risk", *FILES, *Q1, "--subject", "nanyue")
    assert [s["subject"] for s in json.loads(out)["subjects"]] == ["nanyue"]
    code, out, _ = run_cli(capsys, "analysis", "trend", *FILES, *Q1, "--subject", "nanyue")
    assert json.loads(out)["quarters"][-1]["final"] == "86.93"
    changes = tmp_path / "changes.json"
    changes.write_text(json.dumps({"retract": ["f16"]}), encoding="utf-8")
    code, out, err = run_cli(capsys, "what-if", *FILES, *Q1, "--changes", changes)
    assert code == 0, err
    nanyue = next(s for s in json.loads(out)["subjects"] if s["subject"] == "nanyue")
    assert nanyue["delta"] == "2.10"


def test_feedback_reports_one_and_all(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run_cli(capsys, "report", "feedback", *FILES, *Q1, "--subject", "nanyue",
                             "--format", "html")  # fmt: skip
    assert code == 0, err and "南岳区税务局2025年第一季度绩效反馈报告" in out
    folder = tmp_path / "reports"
    code, _, err = run_cli(capsys, "report", "feedback", *FILES, *Q1, "--all", "--format",
                           "json", "--out", folder)  # fmt: skip
    assert code == 0, err
    assert len(list(folder.glob("*.json"))) == 8 and "8/8 written" in err


def test_lost_points_from_the_database(
    empty_url: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("JIXIAO_DATABASE_URL", empty_url)
    assert run_cli(capsys, "db", "upgrade")[0] == 0
    assert run_cli(capsys, "import", "org", HANDWORKED / "org.json")[0] == 0
    assert run_cli(capsys, "import", "facts", HANDWORKED / "facts.jsonl")[0] == 0
    code, out, err = run_cli(capsys, "analysis", "lost-points", "--db", *Q1, "--scorecard", "dept")
    assert code == 0, err
    policy = next(s for s in json.loads(out)["subjects"] if s["subject"] == "hy-policy")
    assert (policy["final"], policy["lost"]) == ("87.50", "9.50")
