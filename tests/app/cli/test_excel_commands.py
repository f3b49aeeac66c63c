"""Workbooks through the command line, on SQLite and PostgreSQL: a template filled in by
another library imports to the published scores, twice as once; one bad cell records
nothing; --skip-invalid records the rest; exports and the organisation's template."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from app.excel.columns import vocabulary_of
from dsl.compile.compiler import compile_path
from dsl.facts.records import read_org
from tests.app.conftest import EXAMPLES, empty_url  # noqa: F401  (fixture)
from tests.app.excel.test_roundtrip import fill
from tests.dsl.helpers import run_cli

REPO = Path(__file__).resolve().parents[3]
HANDWORKED = EXAMPLES / "handworked"


@pytest.fixture
def db(empty_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:  # noqa: F811
    """A migrated database with the hand-worked organisation."""
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("JIXIAO_DATABASE_URL", empty_url)
    assert run_cli(capsys, "db", "upgrade")[0] == 0
    assert run_cli(capsys, "import", "org", HANDWORKED / "org.json")[0] == 0
    return empty_url


def _facts() -> list[dict[str, Any]]:
    lines = (HANDWORKED / "facts.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in lines if x.strip()]


def test_a_filled_template_imports_to_the_published_scores(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = tmp_path / "模板.xlsx"
    code, _, err = run_cli(capsys, "template", "rules/2025", "--xlsx", template, "--db")
    assert code == 0, err
    compiled = compile_path(REPO / "rules" / "2025")
    org = read_org(HANDWORKED / "org.json")
    ledger = tmp_path / "台账.xlsx"
    ledger.write_bytes(fill(template.read_bytes(), vocabulary_of(compiled, org), _facts(), org))
    code, _, err = run_cli(capsys, "import", "facts", ledger)
    assert code == 0, err
    assert "69 fact(s) recorded, 0 already recorded" in err
    code, _, err = run_cli(capsys, "import", "facts", ledger)
    assert "0 fact(s) recorded, 69 already recorded" in err
    code, out, err = run_cli(
        capsys, "score", "rules/2025", "--db", "--period", "2025Q1", "--format", "json"
    )
    got = {r["subject"]: r for r in json.loads(out)["results"]}
    expected = json.loads((HANDWORKED / "expected-2025Q1.json").read_text(encoding="utf-8"))
    for row in expected["results"]:
        assert got[row["subject"]]["final"] == row["final"]

    book = tmp_path / "结果.xlsx"
    code, _, err = run_cli(
        capsys, "export", "results", "rules/2025", "--db", "--period", "2025Q1",
        "--xlsx", book, "--explain", "nanyue",
    )  # fmt: skip
    assert code == 0, err
    wb = openpyxl.load_workbook(io.BytesIO(book.read_bytes()))
    county = wb["县区局组织绩效"]
    finals = {r[1]: r[3] for r in county.iter_rows(min_row=3, values_only=True)}
    assert finals == {"hengshan": 104.55, "nanyue": 86.93, "hengdong": 60}
    assert "说明-南岳区税务局" in wb.sheetnames


def test_one_bad_cell_records_nothing(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "台账.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "督察发现问题"
    for row in (
        ["编号", "单位", "日期", "level"],
        ["x1", "南岳区税务局", "2025-02-14", "省级"],
        ["x2", "衡山县税务局", "2025-02-15", "县级"],
        ["x3", "衡东县税务局", "2025-02-16", "市级"],
    ):
        ws.append(row)
    wb.save(ledger)
    code, _, err = run_cli(capsys, "import", "facts", ledger)
    assert code == 1
    assert "督察发现问题!D3: level: '县级' is not one of 省级, 市级" in err
    assert "nothing was imported" in err
    code, out, _ = run_cli(capsys, "facts", "history", "nanyue")
    assert "x1" not in out

    code, _, err = run_cli(capsys, "import", "facts", ledger, "--skip-invalid")
    assert code == 0, err
    assert "skipped: 督察发现问题!D3: level: '县级' is not one of 省级, 市级" in err
    assert "2 fact(s) recorded" in err
    code, out, _ = run_cli(capsys, "facts", "history", "nanyue")
    assert "x1" in out


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_csv_files(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], encoding: str
) -> None:
    csv = tmp_path / "税收收入完成率.csv"
    text = (
        "单位,期间,value,证据\n"
        "南岳区税务局,2025Q1,98.5,衡税函〔2025〕31号\n"
        "衡山县税务局,2025Q1,101,\n"
    )
    csv.write_bytes(text.encode(encoding))
    code, _, err = run_cli(capsys, "import", "facts", csv)
    assert code == 0, err
    assert "2 fact(s) recorded" in err
    code, out, _ = run_cli(capsys, "facts", "history", "nanyue")
    item = json.loads(out.splitlines()[0])
    assert (item["id"], item["data"], item["evidence"]) == (
        "revenue_completion-2025-r2",
        {"value": "98.5"},
        "衡税函〔2025〕31号",
    )


def test_the_organisation_through_its_template(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    book = tmp_path / "组织.xlsx"
    code, _, err = run_cli(
        capsys, "template", "rules/2025", "--xlsx", book, "--db", "--organisation"
    )
    assert code == 0, err
    code, _, err = run_cli(capsys, "import", "org", book)
    assert code == 0, err
    assert "organisation unchanged" in err
    wb = openpyxl.load_workbook(book)
    wb["人员"]["B3"] = "李明明"
    wb.save(book)
    code, _, err = run_cli(capsys, "import", "org", book, "--from", "2025-04-01")
    assert code == 0, err
    assert "organisation revision 2: 0 unit and 1 person version(s)" in err


def test_export_lost_points_from_files_and_the_database(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 《衡阳市税务局2025年度绩效考评办法》: the county scorecard's indicators and their points
    points = {"K1": 30, "K2": 20, "K3": 20, "K4": 30, "G1": 40, "G2": 30, "G3": 30}
    expected = json.loads((HANDWORKED / "expected-2025Q1.json").read_text(encoding="utf-8"))
    county = {r["subject"]: r for r in expected["results"] if r["scorecard"] == "county"}
    files: list[str | Path] = [
        "--org",
        HANDWORKED / "org.json",
        "--facts",
        HANDWORKED / "facts.jsonl",
    ]
    assert run_cli(capsys, "import", "facts", HANDWORKED / "facts.jsonl")[0] == 0
    books = []
    sources: list[tuple[str, list[str | Path]]] = [("files", files), ("db", ["--db"])]
    for name, source in sources:
        out = tmp_path / f"失分-{name}.xlsx"
        code, _, err = run_cli(
            capsys, "export", "lost-points", "rules/2025", *source, "--period", "2025Q1",
            "--scorecard", "county", "--xlsx", out,
        )  # fmt: skip
        assert code == 0, err
        wb = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))
        ws = wb["失分汇总"]
        head = [c.value for c in ws[1]]
        rows = {r[1]: r for r in ws.iter_rows(min_row=3, values_only=True)}
        assert set(rows) == set(county)
        for subject, r in county.items():
            for ind, pts in points.items():
                lost = float(pts) - float(r["indicators"][ind])
                title = next(h for h in head if str(h).startswith(f"{ind} "))
                assert rows[subject][head.index(title)] == pytest.approx(lost, abs=1e-9)
        books.append([[c for c in row] for ws in wb for row in ws.iter_rows(values_only=True)])
    # the same numbers from the files and from the database (the watermark aside)
    files_book, db_book = ([r for r in b if r[0] != "事实水位"] for b in books)
    assert files_book == db_book
    code, _, err = run_cli(
        capsys, "export", "lost-points", "rules/2025", *files, "--period", "2025Q1",
        "--scorecard", "nothing", "--xlsx", tmp_path / "x.xlsx",
    )  # fmt: skip
    assert code != 0 and "nothing" in err
