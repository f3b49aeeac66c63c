"""`jixiao job submit|show` without a broker (the jobs run in the command) and `jixiao
worker` refusing to start without one."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import Engine

from app.jobs.queue import BROKER_ENV
from app.services.registry import Registry
from tests.app.jobs.conftest import RULES, Province, load_nation, scored_from_files
from tests.conftest import REPO_ROOT
from tests.dsl.helpers import run_cli


def test_submit_for_every_province_then_show(
    db_url: str,
    engine: Engine,
    registry: Registry,
    provinces: list[Province],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load_nation(engine, registry, provinces)
    monkeypatch.chdir(REPO_ROOT)
    monkeypatch.setenv("JIXIAO_DATABASE_URL", db_url)
    monkeypatch.setenv("JIXIAO_RULES", str(RULES))
    monkeypatch.delenv(BROKER_ENV, raising=False)
    code, out, err = run_cli(
        capsys, "job", "submit", "score", "--period", "2025Q4", "--all-provinces"
    )
    assert code == 0, err
    shown = [json.loads(line) for line in out.splitlines()]
    assert [j["province"] for j in shown] == sorted(p.root for p in provinces)
    compiled = registry.resolve("2025").compiled
    by_root = {p.root: p for p in provinces}
    for j in shown:
        assert j["state"] == "done" and j["progress"] == {"done": 3, "total": 3}
        doc = scored_from_files(compiled, by_root[j["province"]], "2025Q4")
        text = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        assert j["result"]["results_digest"] == hashlib.sha256(text.encode()).hexdigest()
    code, out, _ = run_cli(capsys, "job", "show", str(shown[0]["id"]))
    assert code == 0 and json.loads(out)["id"] == shown[0]["id"]
    code, _, err = run_cli(capsys, "job", "show", "999")
    assert code == 1 and "no job 999" in err
    code, _, err = run_cli(
        capsys, "job", "submit", "score", "--period", "2025Q1", "--province", "nowhere"
    )
    assert code == 1 and "'nowhere' is not a province" in err


def test_worker_needs_a_broker(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(BROKER_ENV, raising=False)
    with pytest.raises(SystemExit, match="JIXIAO_BROKER_URL"):
        run_cli(capsys, "worker")
