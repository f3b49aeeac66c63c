"""Stored evaluations: a period's evaluation kept across processes (the score cache's second
level), so that a process starting cold reads what another already scored instead of scoring
it again, while it is valid (the same watermark, or an approved receipt).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Applies this revision."""
    op.create_table(
        "stored_evaluations",
        sa.Column("ruleset_digest", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=6), nullable=False),
        sa.Column("cards", sa.String(length=1000), nullable=False),
        sa.Column("as_of", sa.String(length=10), nullable=False),
        sa.Column("basis", sa.String(length=100), nullable=False),
        sa.Column("last_day", sa.String(length=10), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "ruleset_digest", "period", "cards", "as_of", name=op.f("pk_stored_evaluations")
        ),
    )


def downgrade() -> None:
    """Reverts this revision."""
    op.drop_table("stored_evaluations")
