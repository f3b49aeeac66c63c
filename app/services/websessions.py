"""Browser sessions: an API token exchanged for a cookie, ended by sign-out or expiry.

The cookie holds a random secret; the database keeps only its sha256, the token it stands
for, and when it ends. A session answers only while its token is not revoked.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from app.services import tokens
from app.services.tokens import Principal
from app.store.db import reading, transaction
from app.store.models import ApiToken, WebSession

LIFETIME = timedelta(hours=10)  # a working day; then sign in again


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def sign_in(engine: Engine, token_secret: str, now: datetime | None = None) -> str | None:
    """A new session's cookie secret for a valid token; None when the token is not valid."""
    who = tokens.authenticate(engine, token_secret.strip())
    if who is None or who.token_id is None:
        return None
    secret = secrets.token_urlsafe(32)
    now = now or datetime.now(UTC)
    with transaction(engine) as session:
        session.add(
            WebSession(
                secret_sha256=_digest(secret),
                token_id=who.token_id,
                created_at=now,
                expires_at=now + LIFETIME,
            )
        )
    return secret


def principal(engine: Engine, secret: str, now: datetime | None = None) -> Principal | None:
    """Who a session cookie signs in: None when it is unknown, ended, expired or revoked."""
    now = now or datetime.now(UTC)
    with reading(engine) as session:  # one round trip: every page asks this first
        row = session.execute(
            select(WebSession, ApiToken)
            .join(ApiToken, ApiToken.id == WebSession.token_id)
            .where(WebSession.secret_sha256 == _digest(secret))
        ).first()
    if row is None:
        return None
    web, token = row
    if web.ended_at is not None or web.expires_at <= now or token.revoked_at is not None:
        return None
    return tokens.principal_of(token)


def sign_out(engine: Engine, secret: str) -> None:
    """Ends the session of a cookie (an unknown or ended one: nothing to do)."""
    with transaction(engine) as session:
        web = session.scalar(select(WebSession).where(WebSession.secret_sha256 == _digest(secret)))
        if web is not None and web.ended_at is None:
            web.ended_at = datetime.now(UTC)
