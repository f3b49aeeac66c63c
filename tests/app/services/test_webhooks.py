"""Webhooks: the outbox is written with its event (and rolled back with it), deliveries are
signed, retried with exponential backoff until they succeed or run out, and only subscribed
events of live subscriptions are sent."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.services import webhooks
from app.store.db import transaction
from app.store.models import WebhookDelivery

T0 = datetime(2025, 4, 1, 8, 0, tzinfo=UTC)


def _noop(session: Any, **kw: Any) -> None:
    pass


class Target:
    """A receiver behind httpx's mock transport: answers from a list of statuses."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.seen: list[httpx.Request] = []

    def client(self) -> httpx.Client:
        def handle(request: httpx.Request) -> httpx.Response:
            self.seen.append(request)
            status = self.statuses.pop(0) if self.statuses else 200
            return httpx.Response(status)

        return httpx.Client(transport=httpx.MockTransport(handle))


def _emit(engine: Engine, event: str, data: dict[str, Any]) -> str:
    with transaction(engine) as session:
        return webhooks.emit(session, event, data, T0)


def test_signature() -> None:
    body = b'{"id":"e1"}'
    sig = webhooks.sign("whsec_k", body)
    # HMAC-SHA256 of the body with the key, computed independently
    import hashlib
    import hmac

    assert sig == "sha256=" + hmac.new(b"whsec_k", body, hashlib.sha256).hexdigest()
    assert webhooks.verify("whsec_k", body, sig)
    assert not webhooks.verify("whsec_other", body, sig)
    assert not webhooks.verify("whsec_k", body + b" ", sig)


def test_backoff_doubles_until_delivered(engine: Engine) -> None:
    sub = webhooks.subscribe(engine, "http://hook.test/in", None, "t", "admin", _noop)
    event_id = _emit(engine, "cycle.published", {"period": "2025Q1"})
    target = Target([503, 500, 502])
    with target.client() as client:
        now = T0
        waits = []
        for _ in range(3):
            sent = webhooks.deliver_due(engine, now, timedelta(seconds=10), client=client)
            assert sent.retried == 1
            with Session(engine) as session:
                d = session.scalars(select(WebhookDelivery)).one()
            waits.append(d.next_at - now)
            # not due before its time
            assert (
                webhooks.deliver_due(
                    engine, d.next_at - timedelta(seconds=1), client=client
                ).retried
                == 0
            )
            now = d.next_at
        assert waits == [timedelta(seconds=10), timedelta(seconds=20), timedelta(seconds=40)]
        assert webhooks.deliver_due(engine, now, client=client).delivered == 1
    assert len(target.seen) == 4
    last = target.seen[-1]
    assert last.headers["x-jixiao-event-id"] == event_id
    assert last.headers["x-jixiao-event"] == "cycle.published"
    assert webhooks.verify(sub["secret"], last.content, last.headers["x-jixiao-signature"])
    assert json.loads(last.content)["data"] == {"period": "2025Q1"}
    log = webhooks.deliveries(engine, sub["id"])["deliveries"][0]
    assert log["state"] == "delivered" and log["attempts"] == 4
    assert [a["status"] for a in log["log"]] == [503, 500, 502, 200]


def test_attempts_run_out(engine: Engine) -> None:
    webhooks.subscribe(engine, "http://hook.test/in", ["appeal.filed"], "t", "admin", _noop)
    _emit(engine, "appeal.filed", {})
    target = Target([500] * 10)
    with target.client() as client:
        now = T0
        for _ in range(3):
            webhooks.deliver_due(engine, now, timedelta(seconds=1), max_attempts=3, client=client)
            now += timedelta(hours=1)
        assert webhooks.deliver_due(engine, now, client=client, max_attempts=3).failed == 0
    with Session(engine) as session:
        d = session.scalars(select(WebhookDelivery)).one()
    assert (d.state, d.attempts) == ("failed", 3)
    assert len(target.seen) == 3


def test_only_subscribed_events_of_live_subscriptions(engine: Engine) -> None:
    a = webhooks.subscribe(engine, "http://a.test/", ["cycle.approved"], "t", "admin", _noop)
    b = webhooks.subscribe(engine, "http://b.test/", None, "t", "admin", _noop)
    _emit(engine, "appeal.filed", {})
    _emit(engine, "cycle.approved", {})
    with Session(engine) as session:
        rows = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        got = sorted((r.subscription_id, r.event) for r in rows)
    assert got == sorted(
        [(b["id"], "appeal.filed"), (a["id"], "cycle.approved"), (b["id"], "cycle.approved")]
    )
    webhooks.unsubscribe(engine, b["id"], "t", "admin", _noop)
    target = Target([])
    with target.client() as client:
        sent = webhooks.deliver_due(engine, T0, client=client)
    assert sent.delivered == 1 and [str(r.url) for r in target.seen] == ["http://a.test/"]
    assert [s["id"] for s in webhooks.listing(engine)] == [a["id"]]


def test_an_event_rolled_back_is_never_sent(engine: Engine) -> None:
    webhooks.subscribe(engine, "http://a.test/", None, "t", "admin", _noop)
    with pytest.raises(RuntimeError), transaction(engine) as session:
        webhooks.emit(session, "cycle.reopened", {}, T0)
        raise RuntimeError("the step failed")
    with Session(engine) as session:
        assert session.scalars(select(WebhookDelivery)).all() == []


def test_bad_subscriptions_are_refused(engine: Engine) -> None:
    from app.errors import Invalid

    with pytest.raises(Invalid) as e:
        webhooks.subscribe(engine, "ftp://x/", None, "t", "admin", _noop)
    assert e.value.details[0]["field"] == "body.url"
    with pytest.raises(Invalid) as e:
        webhooks.subscribe(engine, "http://x.test/", ["cycle.eaten"], "t", "admin", _noop)
    assert e.value.details[0]["field"] == "body.events"


def test_the_worker_thread_delivers(engine: Engine) -> None:
    """What `jixiao serve` runs beside the server: rounds until stopped."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    got: list[bytes] = []
    arrived = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.end_headers()
            arrived.set()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        webhooks.subscribe(engine, url, None, "t", "admin", _noop)
        with transaction(engine) as session:
            event_id = webhooks.emit(session, "cycle.approved", {}, datetime.now(UTC))
        worker = webhooks.Worker(engine, interval=0.05)
        worker.start()
        try:
            assert arrived.wait(30)
        finally:
            worker.stop()
            worker.join(30)
        assert not worker.is_alive()
        assert [json.loads(b)["id"] for b in got] == [event_id]
    finally:
        server.shutdown()
        server.server_close()
        serving.join()
