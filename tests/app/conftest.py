"""Database fixtures: every test runs on a fresh SQLite file and, when configured, PostgreSQL.

On PostgreSQL each test gets its own schema (dropped afterwards), named on the connection's
search_path, so tests never see each other's tables.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from app.store.db import make_engine, upgrade
from tests.conftest import PG_ENV, PG_SKIP_REASON

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
RULES = Path(__file__).resolve().parent.parent.parent / "rules"


def pg_schema_url(base: str) -> Iterator[str]:
    """A fresh PostgreSQL schema on `base`, named on the search_path; dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, poolclass=NullPool)  # nothing pooled: nothing left open
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'jixiao.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(PG_SKIP_REASON)
    yield from pg_schema_url(base)


@pytest.fixture
def db_url(empty_url: str) -> str:
    """The URL of a database migrated to the head revision."""
    upgrade(empty_url)
    return empty_url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on the migrated database."""
    eng = make_engine(db_url)
    yield eng
    eng.dispose()
