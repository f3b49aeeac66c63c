"""Jobs: long work on one province and period, kept in the `jobs` table.

A job is submitted (`submit`: state `queued`), then run by a worker (`run`: `running`, with
its progress as done/total), and ends `done` (with its result) or `failed` (with the error of
its last attempt). A run that fails is tried again up to MAX_ATTEMPTS runs in all; `attempts`
counts the runs begun. Who runs it is `app.jobs`: the workers of a message broker
(`jixiao worker`), or the submitting process itself when no broker is configured.

Kinds (`KINDS`):
- `score`: scores a province's period from the database and keeps its results (the job's
  `results` document, the same results JSON `jixiao score` prints);
- `rescore`: the same, after a burst of facts (it names the watermark it read);
- `import`: records a facts file on the server's disk (`params.path`), checked against the
  ruleset of the period's year, with the organisation as recorded. With `params.rescore`,
  the burst is followed by a `rescore` job for each province and quarter it added facts to
  (`result.rescore_jobs`; the runner sends them on: `Outcome.follow`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from app import exactjson
from app.errors import AppError, Invalid, NotFound
from app.services import trail
from app.services.cache import read_watermark
from app.services.facts import import_facts
from app.services.org import org_at
from app.services.receipts import results_digest
from app.services.registry import Registry
from app.services.scoring import load_period, provinces
from app.store.db import transaction
from app.store.models import Fact, Job, JobResult
from dsl.engine.evaluate import evaluate
from dsl.engine.report import results_json
from dsl.facts.periods import Period

KINDS = ("score", "rescore", "import")
STATES = ("queued", "running", "done", "failed")
MAX_ATTEMPTS = 3
# A drill: the first this-many runs of a job fail on purpose (`params.drill_failures`), so
# that retries can be seen working end to end (tests, an operator's rehearsal).
DRILL = "drill_failures"

Report = Callable[[int, int], None]  # (done, total)


class DrillFailure(RuntimeError):
    """The failure a drill asked for."""


def _now() -> datetime:
    return datetime.now(UTC)


def submit(
    engine: Engine,
    registry: Registry,
    kind: str,
    by: str,
    *,
    ruleset: str | None = None,
    period: str | None = None,
    province: str | None = None,
    params: dict[str, Any] | None = None,
) -> Job:
    """Checks and records a job to run (state `queued`); the ruleset is fixed now (its
    digest), so that a reload meanwhile does not change what the job computes."""
    params = dict(params or {})
    if kind not in KINDS:
        raise _invalid("kind", f"unknown job kind '{kind}' (one of {', '.join(KINDS)})")
    if period is None:
        raise _invalid("period", "a job needs a period (YYYY or YYYYQn)")
    try:
        p = Period.parse(period)
    except ValueError as e:
        raise _invalid("period", str(e)) from e
    loaded = registry.for_year(p.year) if ruleset is None else registry.resolve(ruleset)
    if loaded is None:
        raise _invalid("ruleset", f"no ruleset in service for {p.year}; name one")
    if kind == "import":
        path = params.get("path")
        if not isinstance(path, str) or not Path(path).is_file():
            raise _invalid("params.path", "an import job names a facts file on the server")
    elif province is None:
        raise _invalid("province", "a scoring job names its province (a root unit's id)")
    if province is not None:
        with Session(engine) as session:
            org, _ = org_at(session, date.max, closed=True)
        if province not in provinces(org):
            raise _invalid("province", f"'{province}' is not a province (a root unit)")
    drill = params.get(DRILL, 0)
    if not isinstance(drill, int) or isinstance(drill, bool) or not 0 <= drill < MAX_ATTEMPTS:
        raise _invalid(f"params.{DRILL}", f"a whole number from 0 to {MAX_ATTEMPTS - 1}")
    job = Job(
        kind=kind,
        ruleset=loaded.compiled.digest,
        period=str(p),
        province=province,
        params=params,
        state="queued",
        done=0,
        total=0,
        attempts=0,
        created_by=by,
        created_at=_now(),
    )
    with transaction(engine) as session:
        session.add(job)
        session.flush()
        change: dict[str, object] = {
            "kind": kind,
            "ruleset": job.ruleset,
            "period": job.period,
            "province": province,
        }
        trail.note(session, "job.submit", f"job:{job.id}", change, by)
    return job


def _invalid(field: str, message: str) -> Invalid:
    err = Invalid(message)
    err.details = [{"field": field, "message": message}]
    return err


def get(engine: Engine, job_id: int) -> Job:
    """A job, or NotFound."""
    with Session(engine) as session:
        job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"no job {job_id}")
    return job


def results(engine: Engine, job_id: int) -> str:
    """The results document a finished scoring job kept (JSON text), or NotFound."""
    with Session(engine) as session:
        doc = session.scalar(select(JobResult.document).where(JobResult.job_id == job_id))
    if doc is None:
        raise NotFound(f"job {job_id} has kept no results (not a finished scoring job)")
    return doc


def claim(engine: Engine, job_id: int) -> Job | None:
    """Marks a job running and counts the attempt; None when it is finished (a message
    delivered twice) or unknown."""
    with transaction(engine) as session:
        job = session.get(Job, job_id, with_for_update=True)
        if job is None or job.state in ("done", "failed"):
            return None
        job.state = "running"
        job.attempts += 1
        job.started_at = _now()
        job.done = 0
        return job


def report(engine: Engine, job_id: int, done: int, total: int) -> None:
    """Records a job's progress."""
    with transaction(engine) as session:
        session.execute(update(Job).where(Job.id == job_id).values(done=done, total=total))


@dataclass
class Outcome:
    """What one run of a job came to: its state afterwards, and whether to run it again."""

    state: str
    retry: bool = False
    follow: list[int] = field(default_factory=list)  # jobs this one submitted, to run next


def run(engine: Engine, registry: Registry, job_id: int) -> Outcome:
    """Runs one attempt of a job. A failure leaves it `queued` to be tried again (`retry`)
    while attempts remain, else `failed`; an invalid job (AppError) is not tried again."""
    job = claim(engine, job_id)
    if job is None:
        return Outcome("skipped")

    def progress(done: int, total: int) -> None:
        report(engine, job_id, done, total)

    try:
        if job.attempts <= int(job.params.get(DRILL, 0)):
            raise DrillFailure(f"drill: attempt {job.attempts} fails on purpose")
        wall, cpu = time.perf_counter(), time.process_time()
        result, document, ref = _WORK[job.kind](engine, registry, job, progress)
        # what the run cost (CPU of the whole worker process: one job at a time in it)
        result["seconds"] = {
            "wall": round(time.perf_counter() - wall, 3),
            "cpu": round(time.process_time() - cpu, 3),
        }
    except Exception as e:  # the job's error is kept; the worker goes on
        final = isinstance(e, AppError) or job.attempts >= MAX_ATTEMPTS
        state = "failed" if final else "queued"
        with transaction(engine) as session:
            row = session.get(Job, job_id)
            assert row is not None
            row.state = state
            row.error = f"{type(e).__name__}: {e}"[:4000]
            if final:
                row.finished_at = _now()
        return Outcome(state, retry=not final)
    with transaction(engine) as session:
        row = session.get(Job, job_id)
        assert row is not None
        row.state, row.result, row.result_ref = "done", result, ref
        row.error, row.finished_at = None, _now()
        if document is not None:
            session.merge(JobResult(job_id=job_id, document=document))
    return Outcome("done", follow=list(result.get("rescore_jobs", [])))


Work = Callable[[Engine, Registry, Job, Report], tuple[dict[str, Any], str | None, str | None]]


def _score(
    engine: Engine, registry: Registry, job: Job, progress: Report
) -> tuple[dict[str, Any], str | None, str | None]:
    compiled = registry.resolve(str(job.ruleset)).compiled
    period = Period.parse(str(job.period))
    progress(0, 3)
    with Session(engine) as session, session.begin():
        watermark = read_watermark(session)
        inputs = load_period(session, compiled, period, province=job.province)
    progress(1, 3)
    ev = evaluate(compiled, inputs.org, inputs.facts, period, (), org_at=inputs.org_of)
    progress(2, 3)
    doc = results_json(ev)
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    result = {
        "facts": len(inputs.seqs),
        "units": len(inputs.org.units),
        "persons": len(inputs.org.persons),
        "facts_digest": inputs.facts_digest,
        "org_digest": inputs.org_digest,
        "results_digest": results_digest(ev),
        "watermark": str(watermark),
    }
    progress(3, 3)
    return result, text, f"job:{job.id}/results"


def _import(
    engine: Engine, registry: Registry, job: Job, progress: Report
) -> tuple[dict[str, Any], str | None, str | None]:
    compiled = registry.resolve(str(job.ruleset)).compiled
    with Session(engine) as session:
        org, _ = org_at(session, date.max, closed=True)
        before = session.scalar(select(func.coalesce(func.max(Fact.seq), 0))) or 0

    def stage(name: str, done: int, total: int) -> None:
        # in thousandths: checking (bytes read) is the first half, writing (rows) the second
        half = HALF * done // total if total else HALF
        progress(half + (HALF if name == "written" else 0), 2 * HALF)

    got = import_facts(
        engine,
        Path(str(job.params["path"])),
        compiled.schema,
        org,
        job.created_by,
        bool(job.params.get("skip_invalid", False)),
        stage,
    )
    progress(2 * HALF, 2 * HALF)
    result: dict[str, Any] = {
        "added": got.added,
        "unchanged": got.unchanged,
        "skipped": len(got.skipped),
    }
    if job.params.get("rescore") and got.added:
        result["rescore_jobs"] = _rescore_after(engine, registry, job, before)
    return result, None, None


def _rescore_after(engine: Engine, registry: Registry, job: Job, before: int) -> list[int]:
    """A rescore job for each province and quarter that facts after `before` belong to."""
    with Session(engine) as session:
        touched = session.execute(
            select(Fact.province, Fact.year, Fact.quarter)
            .where(Fact.seq > before, Fact.quarter.is_not(None), Fact.province != "")
            .distinct()
        ).all()
    made = []
    for province, year, quarter in sorted(touched):
        follow = submit(
            engine, registry, "rescore", job.created_by,
            ruleset=job.ruleset, period=f"{year}Q{quarter}", province=province,
        )  # fmt: skip
        made.append(follow.id)
    return made


HALF = 500  # an import's progress is in thousandths


_WORK: dict[str, Work] = {"score": _score, "rescore": _score, "import": _import}


def as_json(job: Job) -> dict[str, Any]:
    """A job as the API shows it."""
    return {
        "id": job.id,
        "kind": job.kind,
        "ruleset": job.ruleset,
        "period": job.period,
        "province": job.province,
        "state": job.state,
        "progress": {"done": job.done, "total": job.total},
        "attempts": job.attempts,
        "error": job.error,
        "result": exactjson.loads(exactjson.dumps(job.result)) if job.result else None,
        "result_ref": job.result_ref,
        "created_by": job.created_by,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }
