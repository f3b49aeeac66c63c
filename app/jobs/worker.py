"""`jixiao worker`: a process that runs jobs from the broker until it is stopped."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import dramatiq

from app.jobs.queue import BROKER_ENV, broker_url, declare, make_broker, queue_name


def make_worker(broker: dramatiq.Broker, threads: int) -> dramatiq.Worker:
    """A Dramatiq worker on the configured queue that takes a message only when a thread is
    free: a job is minutes of work, and a message fetched ahead would wait behind the job in
    hand while another worker sits idle (Dramatiq's default fetches two per thread)."""
    worker = dramatiq.Worker(broker, queues={queue_name()}, worker_threads=threads)
    worker.queue_prefetch = threads
    return worker


def serve(threads: int = 1, ready: threading.Event | None = None) -> int:
    """Runs jobs with `threads` threads until SIGTERM or SIGINT; returns an exit status."""
    url = broker_url()
    if url is None:
        raise SystemExit(f"jixiao worker: set {BROKER_ENV} (redis://… or amqp://…)")
    broker = make_broker(url)
    declare(broker)
    broker.emit_after("process_boot")
    worker = make_worker(broker, threads)
    stop = threading.Event()

    def on_signal(_sig: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    worker.start()
    print(f"jixiao worker: {threads} thread(s) on queue {queue_name()}", flush=True)
    if ready is not None:
        ready.set()
    stop.wait()
    worker.stop()
    broker.close()
    return 0
