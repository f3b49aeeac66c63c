"""The audit trail: hash chains on facts and audit entries, append-only triggers.

Facts recorded before this revision are hashed here, in sequence order, with the functions
every later row is hashed with (`app.store.chain`); then the triggers that refuse UPDATE and
DELETE on facts, retractions and audit entries are created.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.store import chain

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def _backfill_facts(conn: sa.Connection) -> chain.Head:
    """Hashes the recorded facts in sequence order; returns the last one and its hash."""
    cols = ", ".join("CAST(data AS TEXT)" if c == "data" else c for c in chain.FACT_HASHED)
    rows = conn.execute(sa.text(f"SELECT {cols} FROM facts ORDER BY seq"))
    prev, last = chain.GENESIS, 0
    todo: list[dict[str, object]] = []
    for row in rows.all():
        values = dict(zip(chain.FACT_HASHED, row, strict=True))
        h = chain.fact_hash(prev, values)
        todo.append({"seq": values["seq"], "p": prev, "h": h})
        prev, last = h, int(values["seq"])  # type: ignore[call-overload]
    update = sa.text("UPDATE facts SET prev_hash = :p, row_hash = :h WHERE seq = :seq")
    for i in range(0, len(todo), BATCH):
        conn.execute(update, todo[i : i + BATCH])
    return chain.Head(last, prev)


def upgrade() -> None:
    """Applies this revision."""
    conn = op.get_bind()
    dialect = conn.dialect.name
    # NOT NULL with a default while the rows recorded so far are hashed
    for name in ("prev_hash", "row_hash"):
        op.add_column(
            "facts",
            sa.Column(name, sa.String(length=64), nullable=False, server_default=""),
        )
    op.create_table(
        "audit_entries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("target", sa.String(length=1000), nullable=False),
        sa.Column("change", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entries")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_entries_kind_id", "audit_entries", ["kind", "id"])
    op.create_index("ix_audit_entries_actor_id", "audit_entries", ["actor", "id"])
    op.create_index("ix_audit_entries_at", "audit_entries", ["at"])
    op.create_table(
        "chain_heads",
        sa.Column("chain", sa.String(length=40), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_chain_heads")),
    )
    head = _backfill_facts(conn)
    heads = sa.table(
        "chain_heads", sa.column("chain"), sa.column("last_id"), sa.column("hash")
    )
    op.bulk_insert(
        heads,
        [
            {"chain": "facts", "last_id": head.last, "hash": head.hash},
            {"chain": "audit_entries", "last_id": 0, "hash": chain.GENESIS},
        ],
    )
    if dialect == "postgresql":
        for name in ("prev_hash", "row_hash"):
            op.alter_column("facts", name, server_default=None)
        op.execute(chain.PG_FUNCTION)
    for table in chain.APPEND_ONLY:
        for statement in chain.append_only_ddl(dialect, table):
            op.execute(statement)


def downgrade() -> None:
    """Reverts this revision."""
    dialect = op.get_bind().dialect.name
    for table in chain.APPEND_ONLY:
        for statement in chain.drop_append_only_ddl(dialect, table):
            op.execute(statement)
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS jixiao_append_only()")
    op.drop_table("chain_heads")
    op.drop_index("ix_audit_entries_at", table_name="audit_entries")
    op.drop_index("ix_audit_entries_actor_id", table_name="audit_entries")
    op.drop_index("ix_audit_entries_kind_id", table_name="audit_entries")
    op.drop_table("audit_entries")
    with op.batch_alter_table("facts") as batch:
        batch.drop_column("row_hash")
        batch.drop_column("prev_hash")
