"""One live value per single-valued period fact, subject and period, kept by the database.

A value that starts a chain of corrections (a first value, or one recorded after the last was
retracted) takes the next `value_slot` of its (type, subject, period); a unique index refuses a
second fact in the same slot, so two writers racing to record the first value cannot both
succeed. Corrections carry no slot (each fact is corrected once: `supersedes_id` is unique).
Facts recorded before this revision that start a chain get their slots in recording order.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "uq_facts_live_value_slot"
COLUMNS = ["type", "subject", "period", "value_slot"]
WHERE = "value_slot IS NOT NULL"


def upgrade() -> None:
    """Applies this revision."""
    with op.batch_alter_table("facts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("value_slot", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE facts SET value_slot = (SELECT count(*) FROM facts AS earlier"
        " WHERE earlier.type = facts.type AND earlier.subject = facts.subject"
        " AND earlier.period = facts.period AND earlier.supersedes_id IS NULL"
        " AND earlier.seq < facts.seq)"
        " WHERE period IS NOT NULL AND supersedes_id IS NULL"
    )
    op.create_index(
        INDEX,
        "facts",
        COLUMNS,
        unique=True,
        sqlite_where=sa.text(WHERE),
        postgresql_where=sa.text(WHERE),
    )


def downgrade() -> None:
    """Reverts this revision."""
    op.drop_index(INDEX, table_name="facts")
    with op.batch_alter_table("facts", schema=None) as batch_op:
        batch_op.drop_column("value_slot")
