"""Migrations: one head; empty to head; models match the migrated schema; down and up again."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from app.store.db import SQLITE_PAGE_SIZE, alembic_config, downgrade, make_engine, upgrade
from app.store.models import metadata

TABLES = {
    "facts",
    "retractions",
    "org_revisions",
    "units",
    "unit_versions",
    "persons",
    "person_versions",
    "rulesets",
    "ruleset_files",
    "receipts",
    "receipt_results",
    "api_tokens",
    "web_sessions",
    "audit_entries",
    "chain_heads",
    "cycles",
    "cycle_records",
    "appeals",
    "webhook_subscriptions",
    "webhook_deliveries",
    "webhook_attempts",
    "jobs",
    "job_results",
    "stored_evaluations",
}


# On PostgreSQL `facts` is partitioned (app/store/partitions.py): its unique keys include the
# partition keys, and no foreign key points into it. The models keep SQLite's shape.
PARTITIONED = {
    ("remove_constraint", "uq_facts_client_id"),
    ("add_constraint", "uq_facts_client_id"),
    ("remove_index", "uq_facts_supersedes_id"),  # for corrections alone (revision 0010)
    ("add_constraint", "uq_facts_supersedes_id"),
    ("remove_index", "uq_facts_live_value_slot"),
    ("add_index", "uq_facts_live_value_slot"),
    ("add_fk", "fk_facts_supersedes_id_facts"),
    ("add_fk", "fk_retractions_fact_seq_facts"),
}


def _diff(url: str) -> list[object]:
    """What differs between the models and the migrated schema (on PostgreSQL, less the
    partitioned table's keys, each of which must be there: with the partition keys)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = list(compare_metadata(ctx, metadata))
    finally:
        engine.dispose()
    if not url.startswith("postgresql"):
        return diff
    keyed = {(d[0], str(getattr(d[1], "name", ""))): d for d in diff if isinstance(d, tuple)}
    assert set(keyed) >= PARTITIONED, sorted(set(keyed))
    for (op, _), d in keyed.items():
        if op.startswith("remove_"):
            assert {"province", "year"} <= {c.name for c in d[1].columns}
    return [
        d
        for d in diff
        if not (isinstance(d, tuple) and (d[0], str(getattr(d[1], "name", ""))) in PARTITIONED)
    ]


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_single_head() -> None:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1


def test_upgrade_from_empty_matches_the_models(empty_url: str) -> None:
    upgrade(empty_url)
    assert _tables(empty_url) == TABLES | {"alembic_version"}
    assert _diff(empty_url) == []


def test_downgrade_to_base_and_upgrade_again(empty_url: str) -> None:
    upgrade(empty_url)
    downgrade(empty_url, "base")
    assert _tables(empty_url) == {"alembic_version"}
    upgrade(empty_url)
    assert _tables(empty_url) == TABLES | {"alembic_version"}
    assert _diff(empty_url) == []


def test_constraint_names_follow_the_convention(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        insp = inspect(engine)
        uniques = {u["name"] for u in insp.get_unique_constraints("facts")}
        indexes = {i["name"] for i in insp.get_indexes("facts")}
        unique_indexes = {i["name"] for i in insp.get_indexes("facts") if i["unique"]}
        fks = {f["name"] for f in insp.get_foreign_keys("retractions")}
    finally:
        engine.dispose()
    # PostgreSQL: no foreign key into the partitioned facts (the services check it), and
    # the key of corrections a partial unique index (revision 0010)
    partitioned = engine.dialect.name == "postgresql"
    assert "uq_facts_client_id" in uniques
    assert "uq_facts_supersedes_id" in (unique_indexes if partitioned else uniques)
    assert "ix_facts_year_quarter_type_subject" in indexes
    assert fks == (set() if partitioned else {"fk_retractions_fact_seq_facts"})


def _page_size(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA page_size").fetchone()[0])


def test_a_new_sqlite_database_has_16_kb_pages_and_an_old_one_keeps_its_own(
    tmp_path: Path,
) -> None:
    new = tmp_path / "new.db"
    upgrade(f"sqlite:///{new}")
    assert _page_size(new) == SQLITE_PAGE_SIZE == 16384
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as conn:  # made before, with SQLite's default pages
        conn.execute("PRAGMA page_size=4096")
        conn.execute("CREATE TABLE kept (x)")
    upgrade(f"sqlite:///{old}")
    engine = make_engine(f"sqlite:///{old}")
    try:
        with engine.connect() as conn:  # the pragmas of every connection leave it as it is
            assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 4096
    finally:
        engine.dispose()
    assert _page_size(old) == 4096 and "facts" in _tables(f"sqlite:///{old}")
