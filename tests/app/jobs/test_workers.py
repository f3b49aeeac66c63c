"""Two real workers (`jixiao worker` subprocesses) on the broker of this machine (Redis at
127.0.0.1:6379) and PostgreSQL: a job per province, all done, each equal to the province
scored from its own files; a job failing its first attempt is retried and done."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.jobs.queue import BROKER_ENV, QUEUE_ENV, dispatcher
from app.services import jobs
from app.services.registry import Registry
from app.settings import DATABASE_ENV, RULES_ENV
from app.store.db import make_engine, upgrade
from tests.app.conftest import pg_schema_url
from tests.app.jobs.conftest import RULES, Province, load_nation, scored_from_files
from tests.conftest import REPO_ROOT

REDIS = ("127.0.0.1", 6379)
REDIS_URL = "redis://127.0.0.1:6379/0"
WAIT = 300  # seconds for every job to end, on a loaded 2-core machine

pytestmark = pytest.mark.postgres


def _broker_up() -> bool:
    try:
        socket.create_connection(REDIS, 2).close()
        return True
    except OSError:
        return False


@pytest.fixture
def pg_schema(pg_url: str) -> Iterator[str]:
    yield from pg_schema_url(pg_url)


@pytest.fixture
def workers(
    pg_schema: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[subprocess.Popen[str]]]:
    if not _broker_up():
        pytest.skip(f"the workers' test skipped: no Redis at {REDIS[0]}:{REDIS[1]}")
    upgrade(pg_schema)
    queue = f"jx-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        DATABASE_ENV: pg_schema,
        RULES_ENV: str(RULES),
        BROKER_ENV: REDIS_URL,
        QUEUE_ENV: queue,
    }
    monkeypatch.setenv(BROKER_ENV, REDIS_URL)
    monkeypatch.setenv(QUEUE_ENV, queue)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker"],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for p in procs:
            assert p.stdout is not None
            line = p.stdout.readline()
            assert line.startswith("jixiao worker:"), line
        yield procs
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            if p.stdout is not None:
                p.stdout.close()


def test_two_workers_score_each_province(
    workers: list[subprocess.Popen[str]], pg_schema: str, tmp_path: Path
) -> None:
    from tests.app.jobs.conftest import make_provinces

    provinces: list[Province] = make_provinces(tmp_path, ("w1_", "w2_", "w3_", "w4_"), 1500)
    engine = make_engine(pg_schema)
    registry = Registry(engine, RULES, "test")
    registry.reload()
    load_nation(engine, registry, provinces)
    send = dispatcher()
    assert send is not None
    made = {}
    for i, p in enumerate(provinces):
        params = {jobs.DRILL: 1} if i == 0 else {}
        job = jobs.submit(
            engine, registry, "score", "t", period="2025Q3", province=p.root, params=params
        )
        send(job.id)
        made[job.id] = p
    seen_states: set[str] = set()
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        states = {j: jobs.get(engine, j).state for j in made}
        seen_states |= set(states.values())
        if all(s in ("done", "failed") for s in states.values()):
            break
        time.sleep(0.5)
    for proc in workers:
        assert proc.poll() is None, "a worker died"
    compiled = registry.resolve("2025").compiled
    import json

    for job_id, p in made.items():
        job = jobs.get(engine, job_id)
        assert job.state == "done", (job.state, job.error)
        assert (job.done, job.total) == (3, 3)
        assert job.attempts == (2 if p is provinces[0] else 1)
        assert json.loads(jobs.results(engine, job_id)) == scored_from_files(compiled, p, "2025Q3")
    assert "done" in seen_states
    engine.dispose()
