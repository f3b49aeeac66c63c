"""The broker and the one actor: `run_job(job_id)` runs an attempt of a job in a worker.

A failed attempt raises, and Dramatiq's retries send it again after a short backoff; the
job's row counts the attempts and says when to stop (`app.services.jobs.MAX_ATTEMPTS`), so a
message delivered twice, or after the job ended, does nothing.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from functools import cache

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import Engine

from app.services import jobs
from app.services.registry import Registry
from app.settings import Settings
from app.store.db import make_engine

BROKER_ENV = "JIXIAO_BROKER_URL"
QUEUE_ENV = "JIXIAO_JOB_QUEUE"
DEFAULT_QUEUE = "jixiao"
ACTOR = "jixiao_run_job"
TIME_LIMIT_MS = 6 * 3600 * 1000  # a nation's year is long work; a stuck job still ends
BACKOFF_MS = (200, 5000)


class AttemptFailed(RuntimeError):
    """An attempt of a job failed and it is to be tried again (its error is in its row)."""


def broker_url() -> str | None:
    """The configured broker (JIXIAO_BROKER_URL), or None: jobs run in-process."""
    return os.environ.get(BROKER_ENV) or None


def queue_name() -> str:
    """The queue jobs are sent to (JIXIAO_JOB_QUEUE, default `jixiao`)."""
    return os.environ.get(QUEUE_ENV) or DEFAULT_QUEUE


def make_broker(url: str) -> dramatiq.Broker:
    """A Dramatiq broker for a `redis://` or `amqp://` URL."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBroker(url=url)  # type: ignore[no-untyped-call]
    if url.startswith(("amqp://", "amqps://")):
        return RabbitmqBroker(url=url)
    raise ValueError(f"{BROKER_ENV} must be a redis:// or amqp:// URL, not {url!r}")


@cache
def _context() -> tuple[Engine, Registry]:
    """The worker's engine and rulesets (loaded once per process)."""
    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    registry = Registry(engine, settings.rules_dir, settings.user)
    registry.reload()
    return engine, registry


def perform(job_id: int) -> None:
    """One attempt of a job in this worker; raises AttemptFailed when it is to be retried."""
    engine, registry = _context()
    outcome = jobs.run(engine, registry, job_id)
    for follow in outcome.follow:
        declare_for_sending().send(follow)
    if outcome.retry:
        raise AttemptFailed(f"job {job_id}: the attempt failed and will be tried again")


def declare(broker: dramatiq.Broker) -> dramatiq.Actor[[int], None]:
    """The actor that runs jobs, on this broker and the configured queue."""
    decorate = dramatiq.actor(
        actor_name=ACTOR,
        queue_name=queue_name(),
        broker=broker,
        max_retries=jobs.MAX_ATTEMPTS,
        min_backoff=BACKOFF_MS[0],
        max_backoff=BACKOFF_MS[1],
        time_limit=TIME_LIMIT_MS,
    )
    actor = decorate(perform)
    _DECLARED.append(actor)
    return actor


_DECLARED: list[dramatiq.Actor[[int], None]] = []


def dispatcher() -> Callable[[int], None] | None:
    """What sends a job to the workers, or None when no broker is configured."""
    url = broker_url()
    if url is None:
        return None
    actor = declare(make_broker(url))

    def send(job_id: int) -> None:
        actor.send(job_id)

    return send


def declare_for_sending() -> dramatiq.Actor[[int], None]:
    """The actor last declared in this process (a worker's: the one `serve` declared)."""
    return _DECLARED[-1]


def run_here(engine: Engine, registry: Registry, job_id: int) -> str:
    """Runs a job in this process until it ends (its retries, and the jobs it submits,
    too); returns its state."""
    for attempt in range(jobs.MAX_ATTEMPTS):
        outcome = jobs.run(engine, registry, job_id)
        for follow in outcome.follow:
            run_here(engine, registry, follow)
        if not outcome.retry:
            return outcome.state
        time.sleep(BACKOFF_MS[0] / 1000 * 2**attempt)
    return jobs.get(engine, job_id).state
