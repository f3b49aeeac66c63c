"""Unit attributes: the ruleset's `unit attrs` (a bureau's class, its staff count) kept with each
unit version, as person attributes are, so scoring from the database reads what the
organisation file gives. Versions recorded before this revision have none (`{}`).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Applies this revision."""
    with op.batch_alter_table("unit_versions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("attributes", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )


def downgrade() -> None:
    """Reverts this revision."""
    with op.batch_alter_table("unit_versions", schema=None) as batch_op:
        batch_op.drop_column("attributes")
