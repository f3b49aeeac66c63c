"""POST /v1/jobs and GET /v1/jobs/{id}: 202 with the job, its state and progress, its kept
results; who may submit; invalid bodies named by field, never a 500."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from app.services.scoring import score
from dsl.engine.report import results_json
from dsl.facts.periods import Period
from tests.app.api.conftest import EXAMPLES, Client, load_example, token


@pytest.fixture
def loaded(api: Client) -> Client:
    load_example(api, "handworked")
    return api


def _root(api: Client) -> str:
    units = api.get("/v1/org").json()["units"]
    roots = [u["id"] for u in units if u.get("parent") is None]
    assert len(roots) == 1
    return str(roots[0])


def test_a_scoring_job_answers_202_then_done_with_the_scores(app: FastAPI, loaded: Client) -> None:
    root = _root(loaded)
    body = {"kind": "score", "ruleset": "2025", "period": "2025Q1", "province": root}
    r = loaded.post("/v1/jobs", json=body)
    assert r.status_code == 202, r.text
    job = r.json()
    assert r.headers["Location"] == f"/v1/jobs/{job['id']}"
    assert job["kind"] == "score" and job["province"] == root
    got = loaded.get(f"/v1/jobs/{job['id']}")  # run in-process after the answer
    assert got.status_code == 200
    done = got.json()
    assert done["state"] == "done", done
    assert done["progress"] == {"done": 3, "total": 3}
    assert done["attempts"] == 1 and done["error"] is None
    kept = loaded.get(f"/v1/jobs/{job['id']}/results")
    assert kept.status_code == 200
    # one province: the whole organisation of the example, scored from the database
    svc = app.state.services
    ev, _ = score(svc.engine, svc.registry.resolve("2025").compiled, Period.parse("2025Q1"))
    assert kept.json() == json.loads(json.dumps(results_json(ev)))
    assert done["result"]["results_digest"] == hashlib.sha256(kept.content).hexdigest()


def test_roles_who_may_submit(app: FastAPI, loaded: Client) -> None:
    root = _root(loaded)
    body = {"kind": "score", "period": "2025Q1", "province": root}
    reader = Client(app, token(app, "reader"))
    assert reader.post("/v1/jobs", json=body).status_code == 403
    auditor = Client(app, token(app, "auditor"))
    r = auditor.post("/v1/jobs", json=body)
    assert r.status_code == 202
    assert reader.get(f"/v1/jobs/{r.json()['id']}").status_code == 200
    path = {"kind": "import", "period": "2025", "params": {"path": "/etc/hostname"}}
    assert auditor.post("/v1/jobs", json=path).status_code == 403
    # an admin's import names a file of the import folder, and the server has none
    refused = Client(app, token(app, "admin")).post("/v1/jobs", json=path)
    assert refused.status_code == 422
    assert "JIXIAO_IMPORT_DIR" in refused.json()["message"]
    assert Client(app, None).post("/v1/jobs", json=body).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "sing", "period": "2025Q1"}, "kind"),
        ({"kind": "score", "period": "2025Q9", "province": "x"}, "period"),
        ({"kind": "score", "period": "2025Q1"}, "province"),
        ({"kind": "score", "period": "2025Q1", "province": "nowhere"}, "province"),
        ({"kind": "score", "period": "2025Q1", "province": "x", "extra": 1}, "extra"),
        ({"kind": "import", "period": "2025"}, "JIXIAO_IMPORT_DIR"),
        ({"kind": "score", "period": "2025Q1", "params": {"drill_failures": 9}}, "drill"),
    ],
)
def test_invalid_jobs_name_the_field(loaded: Client, body: dict[str, Any], field: str) -> None:
    r = loaded.post("/v1/jobs", json=body)
    assert r.status_code in (400, 422), r.text
    assert field in json.dumps(r.json(), ensure_ascii=False)


def test_unknown_jobs_are_404(loaded: Client) -> None:
    assert loaded.get("/v1/jobs/12345").status_code == 404
    assert loaded.get("/v1/jobs/12345/results").status_code == 404
    assert loaded.get("/v1/jobs/0").status_code in (400, 422)
    assert loaded.get("/v1/jobs/abc").status_code in (400, 422)


def test_an_import_job_records_a_file_of_the_import_folder(tmp_path: Path, db_url: str) -> None:
    from app.main import create_app
    from app.settings import Settings
    from tests.app.api.conftest import RULES, example_org

    folder = tmp_path / "imports"
    folder.mkdir()
    facts = (EXAMPLES / "handworked" / "facts.jsonl").read_text(encoding="utf-8")
    (folder / "facts.jsonl").write_text(facts, encoding="utf-8")
    app = create_app(Settings(database_url=db_url, rules_dir=RULES, import_dir=folder))
    try:
        api = Client(app, token(app, "admin"))
        assert api.put("/v1/org", json=example_org("handworked")).status_code == 200
        path = str(folder / "facts.jsonl")
        r = api.post(
            "/v1/jobs", json={"kind": "import", "period": "2025", "params": {"path": path}}
        )
        assert r.status_code == 202, r.text
        job = api.get(f"/v1/jobs/{r.json()['id']}").json()
        assert job["state"] == "done", job
        lines = sum(1 for x in facts.splitlines() if x.strip())
        assert (job["result"]["added"], job["result"]["skipped"]) == (lines, 0)
        assert job["progress"] == {"done": 1000, "total": 1000}
        assert len(api.get("/v1/facts", params={"limit": 1000}).json()["facts"]) == lines
        outside = {"kind": "import", "period": "2025", "params": {"path": "/etc/hostname"}}
        assert api.post("/v1/jobs", json=outside).status_code == 422
    finally:
        app.state.services.engine.dispose()
