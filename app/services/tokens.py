"""Bearer tokens of the HTTP API: created once, stored as the sha256 of the secret, with a role.

Roles, and what each may do (an admin may do everything):

- `reader`: read scores, rankings and explanations;
- `recorder`: record, correct and retract facts, only of its listed fact types and only on
  subjects under its listed units (no list: no limit); read facts back;
- `auditor`: read scores, facts and their history, rulesets, diff and impact; keep receipts;
- `admin`: the organisation, tokens, reloading rulesets.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.errors import Forbidden, Invalid, NotFound
from app.services.texts import require_text
from app.store.db import transaction
from app.store.models import ApiToken
from dsl.facts.limits import MAX_ID
from dsl.facts.records import Org

ROLES = ("reader", "recorder", "auditor", "admin")
PREFIX = "jx_"

# What each capability needs; `admin` has them all.
CAPABILITIES: dict[str, frozenset[str]] = {
    "scores": frozenset({"reader", "auditor", "admin"}),
    "facts:write": frozenset({"recorder", "admin"}),
    "facts:read": frozenset({"recorder", "auditor", "admin"}),
    "audit": frozenset({"auditor", "admin"}),
    "admin": frozenset({"admin"}),
    "any": frozenset(ROLES),
}


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's id, name and role, and a recorder's scope."""

    token_id: int | None
    name: str
    role: str
    fact_types: frozenset[str] | None = None
    units: frozenset[str] | None = None

    def can(self, capability: str) -> bool:
        """True when the role grants the capability."""
        return self.role in CAPABILITIES[capability]

    def require(self, capability: str) -> None:
        """Raises Forbidden unless the role grants the capability."""
        if not self.can(capability):
            raise Forbidden(f"the role '{self.role}' may not do this ({capability})")

    def may_write(self, fact_type: str, subject: str, org: Org) -> str | None:
        """Why this principal may not record this fact (None: it may)."""
        if self.fact_types is not None and fact_type not in self.fact_types:
            return f"this token may not record '{fact_type}' facts"
        if self.units is not None and not self.units.intersection(org.chain(subject)):
            return f"'{subject}' is not under this token's units"
        return None


DEMO = Principal(None, "demo", "admin")


def digest(secret: str) -> str:
    """sha256 of a token's secret: what is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def create(
    engine: Engine,
    role: str,
    name: str,
    by: str,
    fact_types: Sequence[str] | None = None,
    units: Sequence[str] | None = None,
) -> tuple[int, str]:
    """Creates a token; returns its id and its secret (shown once, never stored)."""
    if role not in ROLES:
        raise Invalid(f"unknown role '{role}' (one of {', '.join(ROLES)})")
    if role != "recorder" and (fact_types or units):
        raise Invalid("only a recorder's token is limited to fact types and units")
    # The name is each fact's `recorded_by` (an id's length).
    require_text(name, "name", MAX_ID)
    if not name.strip():
        raise Invalid("a token needs a name")
    for key, values in (("fact_types", fact_types), ("units", units)):
        for i, v in enumerate(values or ()):
            require_text(v, f"{key}[{i}]", MAX_ID)
    secret = PREFIX + secrets.token_urlsafe(32)
    with transaction(engine) as session:
        row = ApiToken(
            secret_sha256=digest(secret),
            name=name,
            role=role,
            fact_types=sorted(set(fact_types)) if fact_types else None,
            units=sorted(set(units)) if units else None,
            created_by=by,
            created_at=datetime.now(UTC),
        )
        session.add(row)
        session.flush()
        return row.id, secret


def authenticate(engine: Engine, secret: str) -> Principal | None:
    """The principal of a valid, unrevoked token; None otherwise."""
    with Session(engine) as session:
        row = session.scalar(select(ApiToken).where(ApiToken.secret_sha256 == digest(secret)))
    if row is None or row.revoked_at is not None:
        return None
    return principal_of(row)


def principal_of(row: ApiToken) -> Principal:
    """The principal a token row stands for."""
    return Principal(
        row.id,
        row.name,
        row.role,
        frozenset(row.fact_types) if row.fact_types is not None else None,
        frozenset(row.units) if row.units is not None else None,
    )


def listing(engine: Engine) -> list[dict[str, Any]]:
    """Every token without its secret, oldest first."""
    with Session(engine) as session:
        rows = session.scalars(select(ApiToken).order_by(ApiToken.id)).all()
    return [as_json(r) for r in rows]


def as_json(r: ApiToken) -> dict[str, Any]:
    """A token's public form."""
    return {
        "id": r.id,
        "name": r.name,
        "role": r.role,
        "fact_types": r.fact_types,
        "units": r.units,
        "created_by": r.created_by,
        "created_at": r.created_at.isoformat(),
        "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
    }


def revoke(engine: Engine, token_id: int) -> dict[str, Any]:
    """Revokes a token (again: no change); returns its public form."""
    with transaction(engine) as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            raise NotFound(f"no token {token_id}")
        if row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)
        return as_json(row)
