"""Jobs run in-process (no broker): one per province and period, results equal to scoring
each province from its own files, retries, progress, and the API's answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.errors import Invalid, NotFound
from app.jobs.queue import run_here
from app.services import jobs
from app.services.registry import Registry
from tests.app.jobs.conftest import Province, load_nation, scored_from_files


@pytest.fixture
def nation(engine: Engine, registry: Registry, provinces: list[Province]) -> list[Province]:
    load_nation(engine, registry, provinces)
    return provinces


def test_each_province_scores_as_from_its_own_files(
    engine: Engine, registry: Registry, nation: list[Province]
) -> None:
    compiled = registry.resolve("2025").compiled
    for period in ("2025Q2", "2025"):
        for p in nation:
            job = jobs.submit(engine, registry, "score", "t", period=period, province=p.root)
            assert run_here(engine, registry, job.id) == "done"
            got = jobs.get(engine, job.id)
            assert (got.done, got.total, got.attempts) == (3, 3, 1)
            assert got.result_ref == f"job:{job.id}/results"
            kept = json.loads(jobs.results(engine, job.id))
            assert kept == scored_from_files(compiled, p, period)
            # the province alone: its units and persons, none of another province
            subjects = {r["subject"] for r in kept["results"]}
            assert len(subjects) > 40
            assert all(s.startswith(p.root.split("_")[0] + "_") for s in subjects)


def test_a_failed_attempt_is_tried_again(
    engine: Engine, registry: Registry, nation: list[Province]
) -> None:
    root = nation[0].root
    params = {jobs.DRILL: 2}
    job = jobs.submit(engine, registry, "score", "t", period="2025Q1", province=root, params=params)
    first = jobs.run(engine, registry, job.id)
    assert (first.state, first.retry) == ("queued", True)
    after = jobs.get(engine, job.id)
    assert after.attempts == 1 and after.error is not None and "drill" in after.error
    assert run_here(engine, registry, job.id) == "done"
    done = jobs.get(engine, job.id)
    assert (done.attempts, done.error, done.state) == (3, None, "done")
    assert jobs.run(engine, registry, job.id).state == "skipped"  # delivered again: nothing


def test_a_job_failing_every_attempt_ends_failed(
    engine: Engine, registry: Registry, nation: list[Province], tmp_path: Path
) -> None:
    path = tmp_path / "gone.jsonl"
    path.write_text(nation[0].facts.read_text(encoding="utf-8"), encoding="utf-8")
    job = jobs.submit(engine, registry, "import", "t", period="2025", params={"path": str(path)})
    path.unlink()
    assert run_here(engine, registry, job.id) == "failed"
    got = jobs.get(engine, job.id)
    assert got.attempts == jobs.MAX_ATTEMPTS
    assert got.error is not None and "FileNotFoundError" in got.error


def test_import_job_reports_progress_and_counts(
    engine: Engine, registry: Registry, nation: list[Province]
) -> None:
    lines = nation[1].facts.read_text(encoding="utf-8").count("\n")
    params = {"path": str(nation[1].facts)}
    job = jobs.submit(engine, registry, "import", "t", period="2025", params=params)
    assert run_here(engine, registry, job.id) == "done"
    got = jobs.get(engine, job.id)
    assert got.result is not None
    counts = {k: got.result[k] for k in ("added", "unchanged", "skipped")}
    assert counts == {"added": 0, "unchanged": lines, "skipped": 0}  # already recorded
    assert (got.done, got.total) == (1000, 1000)


@pytest.mark.parametrize(
    ("kind", "period", "province", "field"),
    [
        ("sing", "2025Q1", None, "kind"),
        ("score", "2025Q9", "x", "period"),
        ("score", "2025Q1", None, "province"),
        ("score", "2025Q1", "nowhere", "province"),
        ("import", "2025", None, "params.path"),
    ],
)
def test_invalid_jobs_are_refused_naming_the_field(
    engine: Engine,
    registry: Registry,
    nation: list[Province],
    kind: str,
    period: str,
    province: str | None,
    field: str,
) -> None:
    with pytest.raises(Invalid) as e:
        jobs.submit(engine, registry, kind, "t", period=period, province=province)
    assert e.value.details[0]["field"] == field


def test_unknown_job(engine: Engine) -> None:
    with pytest.raises(NotFound):
        jobs.get(engine, 999)


def test_a_burst_of_facts_is_followed_by_rescoring_its_quarters(
    engine: Engine, registry: Registry, provinces: list[Province]
) -> None:
    load_nation(engine, registry, provinces[:1], org_of=provinces)
    burst = provinces[1]
    params = {"path": str(burst.facts), "rescore": True}
    job = jobs.submit(engine, registry, "import", "t", period="2025", params=params)
    assert run_here(engine, registry, job.id) == "done"
    got = jobs.get(engine, job.id)
    assert got.result is not None and got.result["added"] > 0
    follow = [int(i) for i in got.result["rescore_jobs"]]
    made = [jobs.get(engine, i) for i in follow]
    # one per quarter of the province the burst touched, none of the others
    assert [(j.kind, j.province, j.period) for j in made] == [
        ("rescore", burst.root, f"2025Q{q}") for q in (1, 2, 3, 4)
    ]
    compiled = registry.resolve("2025").compiled
    for j in made:
        assert j.state == "done"
        assert json.loads(jobs.results(engine, j.id)) == scored_from_files(
            compiled, burst, str(j.period)
        )
