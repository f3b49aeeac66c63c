"""Webhooks: other systems subscribe to cycle and appeal events and receive them by HTTP POST.

An event is written to the outbox (`webhook_deliveries`, one row per subscriber) in the same
transaction as the change it reports, so an event is never announced for a change that was
rolled back, nor lost for one that was committed. The delivery worker (`deliver_due`: a
background thread of `jixiao serve`, or `jixiao webhooks deliver` once) posts each due
delivery; a receiver that does not answer 2xx is tried again after an exponentially growing
wait (`backoff` × 2^(attempts − 1)) until `max_attempts`. Delivery is at least once: a receiver
deduplicates by the event id (`X-Jixiao-Event-Id`, also `id` in the body). Each body is signed:
`X-Jixiao-Signature: sha256=<hex HMAC-SHA256 of the raw body with the subscriber's secret>`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.errors import Invalid, NotFound
from app.store.db import transaction
from app.store.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

EVENTS = (
    "cycle.published",
    "appeal.filed",
    "appeal.ruled",
    "cycle.approved",
    "cycle.reopened",
)
SIGNATURE = "X-Jixiao-Signature"
EVENT_ID = "X-Jixiao-Event-Id"
EVENT = "X-Jixiao-Event"
BACKOFF = timedelta(seconds=30)
MAX_ATTEMPTS = 10
LEASE = timedelta(seconds=60)  # a claimed delivery is not claimed again meanwhile
BATCH = 50

Recorder = Callable[..., None]  # `_on_record` of the cycle service (keyword arguments)


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for a body: `sha256=<hex HMAC-SHA256>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """True when the header is the body's signature with this secret (constant time)."""
    return hmac.compare_digest(sign(secret, body), header)


def emit(session: Session, event: str, data: dict[str, Any], at: datetime) -> str:
    """Writes the event to the outbox of every live subscriber of it, in the session's
    transaction; returns the event id."""
    assert event in EVENTS, event
    event_id = uuid.uuid4().hex
    body = json.dumps(
        {"id": event_id, "event": event, "at": at.isoformat(), "data": data},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    subs = session.scalars(
        select(WebhookSubscription).where(WebhookSubscription.deleted_at.is_(None))
    ).all()
    for s in subs:
        if event in s.events:
            session.add(
                WebhookDelivery(
                    subscription_id=s.id,
                    event_id=event_id,
                    event=event,
                    body=body,
                    state="pending",
                    attempts=0,
                    next_at=at,
                    created_at=at,
                    delivered_at=None,
                )
            )
    return event_id


# ---- subscriptions --------------------------------------------------------------------------


def _invalid(field: str, message: str) -> Invalid:
    err = Invalid(message)
    err.details = [{"field": field, "message": message}]
    return err


def subscribe(
    engine: Engine, url: str, events: list[str] | None, by: str, role: str, record: Recorder
) -> dict[str, Any]:
    """A new subscription; its secret is in the answer once (the receiver keeps it)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _invalid("body.url", "an http:// or https:// URL is needed")
    wanted = list(EVENTS) if not events else list(dict.fromkeys(events))
    unknown = [e for e in wanted if e not in EVENTS]
    if unknown:
        msg = f"unknown event(s) {', '.join(unknown)} (one of {', '.join(EVENTS)})"
        raise _invalid("body.events", msg)
    secret = "whsec_" + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with transaction(engine) as session:
        row = WebhookSubscription(
            url=url, events=wanted, secret=secret, created_by=by, created_at=now, deleted_at=None
        )
        session.add(row)
        session.flush()
        record(
            session,
            actor=by,
            role=role,
            kind="webhook.subscribed",
            target=f"webhook/{row.id}",
            change={"url": url, "events": wanted},
            request_id=None,
        )
        return {**as_json(row), "secret": secret}


def unsubscribe(
    engine: Engine, sub_id: int, by: str, role: str, record: Recorder
) -> dict[str, Any]:
    """Deletes a subscription (its deliveries stay on record; pending ones are not sent)."""
    with transaction(engine) as session:
        row = session.get(WebhookSubscription, sub_id)
        if row is None or row.deleted_at is not None:
            raise NotFound(f"no subscription {sub_id}")
        row.deleted_at = datetime.now(UTC)
        record(
            session,
            actor=by,
            role=role,
            kind="webhook.deleted",
            target=f"webhook/{row.id}",
            change={"url": row.url},
            request_id=None,
        )
        return as_json(row)


def as_json(s: WebhookSubscription) -> dict[str, Any]:
    """A subscription without its secret."""
    return {
        "id": s.id,
        "url": s.url,
        "events": s.events,
        "created_by": s.created_by,
        "created_at": s.created_at.isoformat(),
        "deleted_at": s.deleted_at.isoformat() if s.deleted_at else None,
    }


def listing(engine: Engine) -> list[dict[str, Any]]:
    """The live subscriptions, oldest first."""
    with Session(engine) as session:
        rows = session.scalars(
            select(WebhookSubscription)
            .where(WebhookSubscription.deleted_at.is_(None))
            .order_by(WebhookSubscription.id)
        ).all()
    return [as_json(r) for r in rows]


def deliveries(engine: Engine, sub_id: int, limit: int = 200) -> dict[str, Any]:
    """A subscriber's delivery log, newest first, each with its attempts."""
    with Session(engine) as session:
        sub = session.get(WebhookSubscription, sub_id)
        if sub is None:
            raise NotFound(f"no subscription {sub_id}")
        rows = session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.subscription_id == sub_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        ).all()
        ids = [d.id for d in rows]
        tries: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        if ids:
            for a in session.scalars(
                select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id.in_(ids))
                .order_by(WebhookAttempt.id)
            ):
                tries[a.delivery_id].append(
                    {"at": a.at.isoformat(), "status": a.status, "error": a.error}
                )
        items = [
            {
                "id": d.id,
                "event_id": d.event_id,
                "event": d.event,
                "state": d.state,
                "attempts": d.attempts,
                "next_at": d.next_at.isoformat() if d.state == "pending" else None,
                "created_at": d.created_at.isoformat(),
                "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
                "log": tries[d.id],
            }
            for d in rows
        ]
        return {"subscription": as_json(sub), "deliveries": items}


# ---- the delivery worker --------------------------------------------------------------------


@dataclass
class Sent:
    """What one run of the worker did."""

    delivered: int = 0
    retried: int = 0
    failed: int = 0


Claimed = tuple[int, str, str, str, str, str]  # delivery id, url, secret, event id, event, body


def _claim(engine: Engine, now: datetime) -> list[Claimed]:
    """Due deliveries, each claimed for a lease (another worker skips it meanwhile)."""
    with transaction(engine) as session:
        q = (
            select(WebhookDelivery, WebhookSubscription)
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .where(WebhookDelivery.state == "pending", WebhookDelivery.next_at <= now)
            .order_by(WebhookDelivery.id)
            .limit(BATCH)
        )
        if engine.dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True, of=WebhookDelivery)
        out: list[Claimed] = []
        for d, s in session.execute(q):
            if s.deleted_at is not None:
                d.state = "cancelled"
                continue
            d.next_at = now + LEASE
            out.append((d.id, s.url, s.secret, d.event_id, d.event, d.body))
        return out


def deliver_due(
    engine: Engine,
    now: datetime | None = None,
    backoff: timedelta = BACKOFF,
    max_attempts: int = MAX_ATTEMPTS,
    timeout: float = 10.0,
    client: httpx.Client | None = None,
) -> Sent:
    """Posts every due delivery once; records each attempt and when to try again."""
    now = now or datetime.now(UTC)
    sent = Sent()
    claimed = _claim(engine, now)
    if not claimed:
        return sent
    own = client is None
    http = client or httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False)
    try:
        for delivery_id, url, secret, event_id, event, body in claimed:
            raw = body.encode()
            status: int | None = None
            error: str | None = None
            headers = {
                "Content-Type": "application/json",
                SIGNATURE: sign(secret, raw),
                EVENT_ID: event_id,
                EVENT: event,
                "X-Jixiao-Delivery": str(delivery_id),
            }
            try:
                r = http.post(url, content=raw, headers=headers)
                status = r.status_code
                if not 200 <= status < 300:
                    error = f"HTTP {status}"
            except httpx.HTTPError as e:
                error = f"{type(e).__name__}: {e}"[:1000]
            _settle(engine, delivery_id, now, status, error, backoff, max_attempts, sent)
    finally:
        if own:
            http.close()
    return sent


def _settle(
    engine: Engine,
    delivery_id: int,
    now: datetime,
    status: int | None,
    error: str | None,
    backoff: timedelta,
    max_attempts: int,
    sent: Sent,
) -> None:
    with transaction(engine) as session:
        d = session.get(WebhookDelivery, delivery_id)
        assert d is not None
        d.attempts += 1
        session.add(WebhookAttempt(delivery_id=d.id, at=now, status=status, error=error))
        if error is None:
            d.state, d.delivered_at = "delivered", now
            sent.delivered += 1
        elif d.attempts >= max_attempts:
            d.state = "failed"
            sent.failed += 1
        else:
            d.next_at = now + backoff * (2 ** (d.attempts - 1))
            sent.retried += 1


class Worker(threading.Thread):
    """Delivers due events every `interval` seconds until stopped (what `jixiao serve` runs)."""

    def __init__(self, engine: Engine, interval: float = 5.0) -> None:
        super().__init__(name="jixiao-webhooks", daemon=True)
        self.engine = engine
        self.interval = interval
        self.stopping = threading.Event()

    def run(self) -> None:
        """Delivers, then waits, until `stop`."""
        import logging

        log = logging.getLogger("jixiao.webhooks")
        while not self.stopping.is_set():
            try:
                deliver_due(self.engine)
            except Exception:  # the worker outlives a bad round; the error is logged
                log.exception("webhook delivery round failed")
            self.stopping.wait(self.interval)

    def stop(self) -> None:
        """Ends the loop after the current round."""
        self.stopping.set()
