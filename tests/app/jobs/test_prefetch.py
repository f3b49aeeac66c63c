"""A worker takes a message only when one of its threads is free: while it runs a long job,
the next job stays on the broker for another worker (Redis at 127.0.0.1:6379)."""

from __future__ import annotations

import socket
import threading
import uuid

import dramatiq
import pytest
import redis
from dramatiq.brokers.redis import RedisBroker

from app.jobs.queue import QUEUE_ENV, make_broker
from app.jobs.worker import make_worker

REDIS_URL = "redis://127.0.0.1:6379/0"


def _broker_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), 2).close()
        return True
    except OSError:
        return False


@pytest.mark.parametrize("threads", [1, 2])
def test_a_busy_worker_leaves_the_next_job_on_the_broker(
    monkeypatch: pytest.MonkeyPatch, threads: int
) -> None:
    if not _broker_up():
        pytest.skip("no Redis at 127.0.0.1:6379")
    queue = f"jx-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv(QUEUE_ENV, queue)
    broker = make_broker(REDIS_URL)
    assert isinstance(broker, RedisBroker)
    started = threading.Semaphore(0)
    release = threading.Event()

    @dramatiq.actor(queue_name=queue, broker=broker, max_retries=0)
    def long_job(n: int) -> None:
        started.release()
        release.wait(60)

    sent = threads + 3
    for n in range(sent):  # all on the broker before the worker asks for any
        long_job.send(n)
    client = redis.Redis.from_url(REDIS_URL)
    key = f"dramatiq:{queue}"
    assert client.llen(key) == sent
    worker = make_worker(broker, threads)
    worker.start()
    try:
        for _ in range(threads):  # every thread busy with a job
            assert started.acquire(timeout=30)
        # a prefetch of two a thread (Dramatiq's default) would have taken 2 × threads
        assert client.llen(key) == sent - threads
    finally:
        release.set()
        worker.join()
        worker.stop()
        broker.close()
        client.delete(key, f"{key}.msgs", f"dramatiq:{queue}.DQ", f"dramatiq:{queue}.DQ.msgs")
        client.close()
        broker.client.connection_pool.disconnect()  # RedisBroker.close leaves it open
