"""`jixiao cycle`, `jixiao appeal` and `jixiao webhooks` end to end on the handworked example:
an import into an approved quarter is refused whole, and the receipts replay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.app.conftest import EXAMPLES, empty_url  # noqa: F401  (fixture)
from tests.dsl.helpers import run_cli, write_facts

REPO = Path(__file__).resolve().parents[3]
HANDWORKED = EXAMPLES / "handworked"


@pytest.fixture
def db(empty_url: str, monkeypatch: pytest.MonkeyPatch) -> str:  # noqa: F811
    """The configured database with the handworked example imported."""
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("JIXIAO_DATABASE_URL", empty_url)
    monkeypatch.setenv("JIXIAO_USER", "绩效办")
    return empty_url


def test_cycle_commands(db: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run_cli(capsys, "db", "upgrade")[0] == 0
    assert run_cli(capsys, "import", "org", HANDWORKED / "org.json")[0] == 0
    assert run_cli(capsys, "import", "facts", HANDWORKED / "facts.jsonl")[0] == 0

    code, out, err = run_cli(capsys, "cycle", "publish", "2025Q1", "--ruleset", "rules/2025")
    assert code == 0, err
    published = json.loads(out)
    assert published["state"] == "published"

    code, out, err = run_cli(
        capsys, "appeal", "file", "2025Q1", "--ruleset", "2025", "--subject", "nanyue",
        "--indicator", "K4", "--facts", "f17", "--reason", "市级督察问题已整改",
        "--evidence", "衡税督〔2025〕3号",
    )  # fmt: skip
    assert code == 0, err
    appeal = json.loads(out)["id"]
    code, _, err = run_cli(capsys, "cycle", "approve", "2025Q1")
    assert code == 1 and "still open" in err

    # Upheld: f17 (municipal, −1.5) retracted. K4 = 30 − 3 = 27: key = 25.5 + 19 + 12 + 27 =
    # 83.5, final = 0.7 × 83.5 + 0.3 × 86.775 + 4 − 0.5 = 58.45 + 26.0325 + 3.5 = 87.9825.
    bad = tmp_path / "bad.json"
    bad.write_text("[{", encoding="utf-8")
    code, _, err = run_cli(capsys, "appeal", "rule", str(appeal), "upheld", "--reason", "x",
                           "--corrections", bad)  # fmt: skip
    assert code == 1 and "not JSON" in err
    fixes = tmp_path / "fixes.json"
    fixes.write_text(json.dumps([{"retract": "f17"}]), encoding="utf-8")
    code, out, err = run_cli(
        capsys, "appeal", "rule", str(appeal), "upheld", "--reason", "复核属实",
        "--corrections", fixes,
    )  # fmt: skip
    assert code == 0, err
    effect = {e["subject"]: e for e in json.loads(out)["ruling"]["effect"]}
    assert effect["nanyue"]["new"]["final"] == "87.98"

    code, out, err = run_cli(capsys, "appeal", "list", "--state", "upheld")
    assert [a["id"] for a in json.loads(out)["appeals"]] == [appeal]

    code, out, err = run_cli(capsys, "cycle", "approve", "2025Q1")
    assert code == 0, err
    approved = json.loads(out)["receipt"]

    # An import with one fact of the approved quarter records nothing.
    late = write_facts(
        tmp_path / "late.jsonl",
        [
            {"id": "n1", "type": "overdue_document", "subject": "hengshan", "date": "2025-05-02"},
            {"id": "n2", "type": "overdue_document", "subject": "hengshan", "date": "2025-03-02"},
        ],
    )
    code, _, err = run_cli(capsys, "import", "facts", late)
    assert code == 1 and "approved by 绩效办" in err
    code, out, err = run_cli(capsys, "facts", "history", "hengshan")
    assert "f3" in out and "n1" not in out

    for receipt in (published["receipt"], approved):
        code, out, err = run_cli(capsys, "replay", str(receipt))
        assert code == 0 and "same results" in out, err

    code, _, err = run_cli(capsys, "cycle", "reopen", "2025Q1")
    assert code == 1 and "--reason" in err
    assert run_cli(capsys, "cycle", "reopen", "2025Q1", "--reason", "补录")[0] == 0
    code, out, err = run_cli(capsys, "cycle", "status", "2025Q1")
    assert code == 0, err
    assert "cycle 2025Q1" in out and ": open" in out and "补录" in out
    assert "cycle.approved" in out and "绩效办 (admin)" in out

    code, out, err = run_cli(capsys, "webhooks", "deliver")
    assert code == 0 and "delivered 0" in out
