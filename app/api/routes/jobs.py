"""Jobs: hand long work (scoring a province's period, rescoring, importing) to the workers,
and follow it (docs/scale.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Response
from fastapi import Path as PathParam

from app.api.deps import Anyone, ExactRoute, Reader, Svc, out
from app.api.schemas import ERRORS, JobIn
from app.api.schemas_out import JobOut
from app.errors import Invalid
from app.services import jobs
from app.services.context import Services

router = APIRouter(prefix="/jobs", tags=["jobs"], route_class=ExactRoute, responses=ERRORS)
JobId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]
CAPABILITY = {"score": "audit", "rescore": "audit", "import": "admin"}


def _run_in_process(svc: Services, job_id: int) -> None:
    for _ in range(jobs.MAX_ATTEMPTS):
        outcome = jobs.run(svc.engine, svc.registry, job_id)
        for follow in outcome.follow:
            _run_in_process(svc, follow)
        if not outcome.retry:
            return


def _inside_import_dir(svc: Services, path: object) -> None:
    """An import job of the API names a file inside JIXIAO_IMPORT_DIR, nowhere else."""
    root = svc.settings.import_dir
    if root is None:
        msg = "import jobs are off: the server has no JIXIAO_IMPORT_DIR"
    elif isinstance(path, str) and Path(path).resolve().is_relative_to(root.resolve()):
        return
    else:
        msg = f"an import job names a facts file inside {root}"
    err = Invalid(msg)
    err.details = [{"field": "body.params.path", "message": msg}]
    raise err


@router.post("", summary="Hand long work to the workers", response_model=JobOut, status_code=202)
def submit_job(
    svc: Svc,
    who: Anyone,
    body: JobIn,
    background: BackgroundTasks,
) -> Response:
    """Records a job and sends it to the workers (without a broker: runs it here after the
    answer). Scoring and rescoring need an auditor's or admin's token, an import an admin's.
    Answers 202 with the job: follow it with GET /v1/jobs/{id}."""
    who.require(CAPABILITY[body.kind])
    by = who.name if who.token_id is not None else svc.settings.user
    params = {}
    if body.params is not None:
        params = body.params.model_dump(exclude_none=True, exclude_defaults=True)
    if body.kind == "import":
        _inside_import_dir(svc, params.get("path"))
    job = jobs.submit(
        svc.engine,
        svc.registry,
        body.kind,
        by,
        ruleset=body.ruleset,
        period=body.period,
        province=body.province,
        params=params,
    )
    if svc.dispatch is not None:
        svc.dispatch(job.id)
    else:
        background.add_task(_run_in_process, svc, job.id)
    return out(jobs.as_json(job), 202, {"Location": f"/v1/jobs/{job.id}"})


@router.get("/{job_id}", summary="A job's state and progress", response_model=JobOut)
def get_job(svc: Svc, who: Reader, job_id: JobId) -> Response:
    """The job: queued, running (with done/total), done (with its result) or failed (with
    the error of its last attempt)."""
    return out(jobs.as_json(jobs.get(svc.engine, job_id)))


@router.get("/{job_id}/results", summary="The results a scoring job kept")
def get_job_results(svc: Svc, who: Reader, job_id: JobId) -> Response:
    """The results JSON of a finished scoring job (what `jixiao score --json` prints)."""
    return Response(jobs.results(svc.engine, job_id), media_type="application/json")
