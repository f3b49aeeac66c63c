"""Unit attributes kept in the database: `PUT /v1/org` and `jixiao import org` store them, and
scoring from the database (the API, `jixiao score --db`) gives what scoring from the files
gives. On SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from tests.app.api.conftest import Client, make_app, token
from tests.dsl.engine.test_unit_attrs import FACTS, ORG, RULES
from tests.dsl.helpers import run_cli, score_json, write_facts


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "rules"
    (folder / "2025").mkdir(parents=True)
    (folder / "2025" / "rules.jx").write_text(RULES, encoding="utf-8")
    return folder


@pytest.fixture
def classed(db_url: str, rules_dir: Path) -> Iterator[FastAPI]:
    application = make_app(db_url, rules_dir)
    yield application
    application.state.services.engine.dispose()


def _from_files(capsys: pytest.CaptureFixture[str], rules_dir: Path, tmp: Path) -> Any:
    data = tmp / "files"
    data.mkdir()
    (data / "org.json").write_text(json.dumps(ORG), encoding="utf-8")
    write_facts(data / "facts.jsonl", FACTS)
    return score_json(capsys, rules_dir / "2025", data, "2025Q1")["results"]


def _key(results: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["scorecard"], r["subject"]): r for r in results}


def test_the_api_keeps_unit_attributes_and_scores_as_the_files_do(
    classed: FastAPI,
    rules_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    api = Client(classed, token(classed, "admin"))
    r = api.put("/v1/org", json=ORG)
    assert r.status_code in (200, 201), r.text
    # stored and served back as given
    assert api.get("/v1/org/units/a").json()["attrs"] == {"class": "large", "staff": 80}
    assert api.get("/v1/org/units/e").json()["attrs"] == {}
    r = api.post("/v1/facts", json=FACTS)
    assert r.status_code == 201, r.text
    r = api.get("/v1/scores", params={"ruleset": "2025", "period": "2025Q1"})
    assert r.status_code == 200, r.text
    served = _key(r.json()["results"])
    files = _key(_from_files(capsys, rules_dir, tmp_path))
    assert set(served) == set(files)
    for k, want in files.items():
        got = served[k]
        for field in ("final", "base", "rank", "indicators", "categories", "not_applicable"):
            assert got.get(field) == want.get(field), (k, field)
    # by hand (tests/dsl/engine/test_unit_attrs.py): a large bureau of 80 staff scores 81.00,
    # b (large, 40 staff: G1 does not apply) 90.00, ranked 1 and 2 in the large class
    assert (served[("county", "a")]["final"], served[("county", "b")]["final"]) == (
        "81.00",
        "90.00",
    )
    assert (served[("county", "a")]["rank"], served[("county", "b")]["rank"]) == (2, 1)
    # the large bureaus alone are scored on `large` (its sequence reads the class)
    assert {s for c, s in served if c == "large"} == {"a", "b"}


def test_a_change_of_attributes_alone_is_a_new_revision(classed: FastAPI) -> None:
    api = Client(classed, token(classed, "admin"))
    assert api.put("/v1/org", json=ORG).status_code in (200, 201)
    moved = json.loads(json.dumps(ORG))
    moved["units"][1]["attrs"] = {"class": "small", "staff": 80}
    r = api.put("/v1/org", json=moved, params={"from": "2025-04-01"})
    assert r.status_code in (200, 201), r.text
    assert r.json()["units"] == 1  # a's version, and only a's
    a = api.get("/v1/org/units/a", params={"at": "2025-03-31"}).json()
    assert a["attrs"]["class"] == "large"
    assert api.get("/v1/org/units/a").json()["attrs"]["class"] == "small"


def test_score_db_reads_unit_attributes(
    db_url: str,
    rules_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = _key(_from_files(capsys, rules_dir, tmp_path))
    monkeypatch.setenv("JIXIAO_DATABASE_URL", db_url)
    data = tmp_path / "files"
    code, _, err = run_cli(capsys, "import", "org", data / "org.json")
    assert code == 0, err
    code, _, err = run_cli(
        capsys, "import", "facts", data / "facts.jsonl", "--ruleset", rules_dir / "2025"
    )
    assert code == 0, err
    code, out, err = run_cli(
        capsys, "score", rules_dir / "2025", "--db", "--period", "2025Q1", "--format", "json"
    )
    assert code == 0, err
    from_db = _key(json.loads(out)["results"])
    assert from_db.keys() == files.keys()
    for k, want in files.items():
        assert {f: from_db[k].get(f) for f in want} == want, k


def test_records_that_do_not_fit_the_rules_are_a_conflict_on_reading(classed: FastAPI) -> None:
    """An organisation is stored whatever the rulesets say; a read that scores it against a
    ruleset it does not fit answers 409 naming the unit and field (the request is not wrong)."""
    api = Client(classed, token(classed, "admin"))
    odd = json.loads(json.dumps(ORG))
    odd["units"][1]["attrs"] = {"class": "huge"}
    assert api.put("/v1/org", json=odd).status_code in (200, 201)
    r = api.get("/v1/scores", params={"ruleset": "2025", "period": "2025Q1"})
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["code"] == "records_invalid"
    assert any("huge" in d["message"] for d in body["details"]), body
