"""Engines, sessions and migrations for the configured database (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from app import exactjson
from app.settings import database_url

if TYPE_CHECKING:
    from alembic.config import Config

REPO_ROOT = Path(__file__).resolve().parents[2]


# Held until `dispose_all`: an engine dropped while its pool holds an open connection would
# leave that connection for the garbage collector to find, at some random later time.
_ENGINES: list[Engine] = []


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine whose JSON keeps decimals exact; SQLite gets foreign keys and WAL."""
    url = url or database_url()
    engine = create_engine(
        url, json_serializer=exactjson.dumps, json_deserializer=exactjson.loads, **kwargs
    )
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    _ENGINES.append(engine)
    return engine


def dispose_all() -> None:
    """Closes the pooled connections of every engine made here (a command's end)."""
    while _ENGINES:
        _ENGINES.pop().dispose()


# The page size a new SQLite database is made with (one made before keeps its own): a million
# facts imported in 22.5 s with 16 KB pages against 25.8 s with SQLite's 4 KB (8 KB: 23.9 s),
# the B-trees of rows of ~400 bytes and of their ids splitting a quarter as often.
SQLITE_PAGE_SIZE = 16384


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")  # (a database not empty keeps its own)
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to `engine` that keep loaded objects usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def reading(engine: Engine) -> Iterator[Session]:
    """A session for small reads outside any transaction (each statement sees what is
    committed when it runs): one round trip per statement, without the BEGIN before it and
    the ROLLBACK after that a transaction costs. On a loaded machine every round trip waits
    its turn for a CPU on both sides; a page's few lookups are most of its time."""
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        with Session(bind=conn) as session:
            yield session


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on error."""
    with session_factory(engine).begin() as session:
        yield session


def alembic_config(url: str | None = None) -> Config:
    """The project's Alembic configuration, pointed at `url` (or the configured database).
    (Alembic is imported here, not with the module: a command that reads or writes the
    database without migrating it does not load it.)"""
    from alembic.config import Config

    cfg = Config(str(REPO_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", (url or database_url()).replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Applies migrations up to `revision`."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str | None = None, revision: str = "-1") -> None:
    """Reverts migrations down to `revision` (one step by default; `base` for all)."""
    from alembic import command

    command.downgrade(alembic_config(url), revision)
