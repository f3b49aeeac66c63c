"""Migrations: one head; empty to head; models match the migrated schema; down and up again."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from app.store.db import alembic_config, downgrade, make_engine, upgrade
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
}


def _diff(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(ctx, metadata))
    finally:
        engine.dispose()


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
        fks = {f["name"] for f in insp.get_foreign_keys("retractions")}
    finally:
        engine.dispose()
    assert {"uq_facts_client_id", "uq_facts_supersedes_id"} <= uniques
    assert "ix_facts_year_quarter_type_subject" in indexes
    assert fks == {"fk_retractions_fact_seq_facts"}
