"""The unique key of corrections on PostgreSQL kept for corrections alone: `uq_facts_supersedes_id`
becomes a unique index on (supersedes_id, province, year) WHERE supersedes_id IS NOT NULL.

Most facts correct nothing: their NULL was an entry of the index all the same, written with
every row (a million-fact import: ~2.6 s of the server's CPU of ~18 s writing the rows). The
key refuses the same rows as before (NULLs never collide), and lookups of corrections by the
id they supersede (`= ANY(...)`, never NULL) use the partial index. SQLite keeps its
constraint (`app.store.models`).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 22:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Applies this revision."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE facts DROP CONSTRAINT uq_facts_supersedes_id")
    op.execute(
        "CREATE UNIQUE INDEX uq_facts_supersedes_id ON facts (supersedes_id, province, year) "
        "WHERE supersedes_id IS NOT NULL"
    )


def downgrade() -> None:
    """Reverts this revision."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX uq_facts_supersedes_id")
    op.execute(
        "ALTER TABLE facts ADD CONSTRAINT uq_facts_supersedes_id "
        "UNIQUE (supersedes_id, province, year)"
    )
