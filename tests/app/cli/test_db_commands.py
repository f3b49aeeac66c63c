"""The database commands end to end: db upgrade, import org/facts, score --db, replay."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.app.conftest import EXAMPLES, empty_url  # noqa: F401  (fixture)
from tests.dsl.helpers import run_cli

REPO = Path(__file__).resolve().parents[3]
HANDWORKED = EXAMPLES / "handworked"


@pytest.fixture
def db(empty_url: str, monkeypatch: pytest.MonkeyPatch) -> str:  # noqa: F811
    """The configured database (JIXIAO_DATABASE_URL), migrated by `jixiao db upgrade`."""
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("JIXIAO_DATABASE_URL", empty_url)
    return empty_url


def test_import_score_and_replay(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, "db", "upgrade")[0] == 0
    code, _, err = run_cli(capsys, "import", "org", HANDWORKED / "org.json")
    assert code == 0, err
    # No --ruleset: the year of the file's first fact (2025) picks rules/2025.
    code, _, err = run_cli(capsys, "import", "facts", HANDWORKED / "facts.jsonl")
    assert code == 0, err
    assert "69 fact(s) recorded, 0 already recorded" in err
    code, _, err = run_cli(capsys, "import", "facts", HANDWORKED / "facts.jsonl")
    assert "0 fact(s) recorded, 69 already recorded" in err

    code, out, err = run_cli(
        capsys, "score", "rules/2025", "--db", "--period", "2025Q1", "--format", "json", "--keep"
    )
    assert code == 0, err
    got = {r["subject"]: r for r in json.loads(out)["results"]}
    expected = json.loads((HANDWORKED / "expected-2025Q1.json").read_text(encoding="utf-8"))
    for row in expected["results"]:
        assert got[row["subject"]]["final"] == row["final"]
    receipt = re.search(r"receipt (\d+)", err)
    assert receipt is not None, err
    code, out, err = run_cli(capsys, "replay", receipt.group(1))
    assert code == 0, err


def test_a_bad_line_rejects_the_whole_import(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(capsys, "db", "upgrade")[0] == 0
    assert run_cli(capsys, "import", "org", HANDWORKED / "org.json")[0] == 0
    lines = (HANDWORKED / "facts.jsonl").read_text(encoding="utf-8").splitlines()
    bad = json.loads(lines[2])
    bad["data"]["value"] = "high"
    lines[2] = json.dumps(bad, ensure_ascii=False)
    facts = tmp_path / "facts.jsonl"
    facts.write_text("\n".join(lines) + "\n", encoding="utf-8")

    code, _, err = run_cli(capsys, "import", "facts", facts, "--ruleset", "rules/2025")
    assert code == 1
    assert f"{facts}:3: f3: data.value:" in err
    code, out, err = run_cli(capsys, "facts", "history", "nanyue")
    assert "f1" not in out  # nothing of the file was recorded

    code, _, err = run_cli(
        capsys, "import", "facts", facts, "--ruleset", "rules/2025", "--skip-invalid"
    )
    assert code == 0, err
    assert f"skipped: {facts}:3: f3: data.value:" in err
    assert "68 fact(s) recorded" in err
