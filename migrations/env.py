"""Alembic environment: migrates the database named by JIXIAO_DATABASE_URL.

The URL comes from, in order: `sqlalchemy.url` set on the Alembic config by a caller (tests do
this), the JIXIAO_DATABASE_URL environment variable, then `sqlite:///jixiao.db`. SQLite runs in
batch mode, since it can alter a table only by copying it.
"""

from __future__ import annotations

import importlib
import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import MetaData, create_engine, pool

DEFAULT_URL = "sqlite:///jixiao.db"
MODEL_MODULES = ("app.store.models",)

config = context.config
if config.config_file_name is not None:
    # Keep the loggers that already exist (pytest's, the app's) working.
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def database_url() -> str:
    """The URL to migrate: the config's, else the environment's, else the SQLite default."""
    return (
        config.get_main_option("sqlalchemy.url")
        or os.environ.get("JIXIAO_DATABASE_URL")
        or DEFAULT_URL
    )


def target_metadata() -> MetaData | None:
    """The models' metadata for autogenerate, or None while the app has no models module."""
    for name in MODEL_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            # Only the module's own absence is tolerated; a broken import inside it is not.
            if e.name is not None and (name == e.name or name.startswith(e.name + ".")):
                continue
            raise
        metadata = getattr(module, "metadata", None)
        if metadata is None and hasattr(module, "Base"):
            metadata = module.Base.metadata
        if isinstance(metadata, MetaData):
            return metadata
    return None


def run_offline(url: str) -> None:
    """Emits the migrations as SQL without connecting (`alembic upgrade head --sql`)."""
    context.configure(
        url=url,
        target_metadata=target_metadata(),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online(url: str) -> None:
    """Connects and runs the migrations in one transaction."""
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # A new database's page size is set before its first table (`app.store.db`).
            from app.store.db import SQLITE_PAGE_SIZE

            connection.exec_driver_sql(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
            connection.commit()  # (the migrations' transaction is Alembic's own)
        context.configure(
            connection=connection,
            target_metadata=target_metadata(),
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_offline(database_url())
else:
    run_online(database_url())
