"""Initial schema: organisation history, append-only facts, rulesets, evaluation receipts.

Revision ID: 0001
Revises:
Create Date: 2026-11-21 21:12:09.844387
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Applies this revision."""
    op.create_table(
        "facts",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column("client_id", sa.String(length=200), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("date", sa.Date(), nullable=True),
        sa.Column("period", sa.String(length=6), nullable=True),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("quarter", sa.SmallInteger(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("supersedes_id", sa.String(length=200), nullable=True),
        sa.Column("content_digest", sa.String(length=64), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(date IS NULL) <> (period IS NULL)", name=op.f("ck_facts_date_or_period")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["facts.client_id"], name=op.f("fk_facts_supersedes_id_facts")
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_facts")),
        sa.UniqueConstraint("client_id", name=op.f("uq_facts_client_id")),
        sa.UniqueConstraint("supersedes_id", name=op.f("uq_facts_supersedes_id")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("facts", schema=None) as batch_op:
        batch_op.create_index("ix_facts_subject_seq", ["subject", "seq"], unique=False)
        batch_op.create_index(
            "ix_facts_year_quarter_type_subject",
            ["year", "quarter", "type", "subject"],
            unique=False,
        )

    op.create_table(
        "org_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=1000), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_revisions")),
    )
    op.create_table(
        "persons",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_persons")),
    )
    op.create_table(
        "rulesets",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("commit", sa.String(length=40), nullable=True),
        sa.Column("registered_by", sa.String(length=200), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_rulesets")),
    )
    op.create_table(
        "units",
        sa.Column("id", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
    )
    op.create_table(
        "person_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=200), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("unit_id", sa.String(length=200), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_person_versions_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["org_revisions.id"],
            name=op.f("fk_person_versions_revision_id_org_revisions"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_person_versions_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_versions")),
        sa.UniqueConstraint(
            "person_id", "revision_id", name=op.f("uq_person_versions_person_id_revision_id")
        ),
    )
    with op.batch_alter_table("person_versions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_versions_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ruleset_digest", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=6), nullable=False),
        sa.Column("org_revision_id", sa.Integer(), nullable=True),
        sa.Column("org_digest", sa.String(length=64), nullable=False),
        sa.Column("fact_count", sa.Integer(), nullable=False),
        sa.Column("fact_seqs", sa.LargeBinary(), nullable=False),
        sa.Column("facts_digest", sa.String(length=64), nullable=False),
        sa.Column("results_digest", sa.String(length=64), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_revision_id"],
            ["org_revisions.id"],
            name=op.f("fk_receipts_org_revision_id_org_revisions"),
        ),
        sa.ForeignKeyConstraint(
            ["ruleset_digest"],
            ["rulesets.digest"],
            name=op.f("fk_receipts_ruleset_digest_rulesets"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
    )
    op.create_table(
        "retractions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fact_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["fact_seq"], ["facts.seq"], name=op.f("fk_retractions_fact_seq_facts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retractions")),
        sa.UniqueConstraint("fact_seq", name=op.f("uq_retractions_fact_seq")),
    )
    op.create_table(
        "ruleset_files",
        sa.Column("ruleset_digest", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ruleset_digest"],
            ["rulesets.digest"],
            name=op.f("fk_ruleset_files_ruleset_digest_rulesets"),
        ),
        sa.PrimaryKeyConstraint("ruleset_digest", "path", name=op.f("pk_ruleset_files")),
    )
    op.create_table(
        "unit_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.String(length=200), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("kind", sa.String(length=100), nullable=False),
        sa.Column("parent_id", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["units.id"], name=op.f("fk_unit_versions_parent_id_units")
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["org_revisions.id"],
            name=op.f("fk_unit_versions_revision_id_org_revisions"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_unit_versions_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_versions")),
        sa.UniqueConstraint(
            "unit_id", "revision_id", name=op.f("uq_unit_versions_unit_id_revision_id")
        ),
    )
    with op.batch_alter_table("unit_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_unit_versions_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "receipt_results",
        sa.Column("receipt_id", sa.Integer(), nullable=False),
        sa.Column("scorecard", sa.String(length=100), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column(
            "final", sa.Numeric().with_variant(sa.String(length=80), "sqlite"), nullable=True
        ),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("band", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["receipt_id"], ["receipts.id"], name=op.f("fk_receipt_results_receipt_id_receipts")
        ),
        sa.PrimaryKeyConstraint(
            "receipt_id", "scorecard", "subject", name=op.f("pk_receipt_results")
        ),
    )


def downgrade() -> None:
    """Reverts this revision."""
    op.drop_table("receipt_results")
    with op.batch_alter_table("unit_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unit_versions_unit_id"))

    op.drop_table("unit_versions")
    op.drop_table("ruleset_files")
    op.drop_table("retractions")
    op.drop_table("receipts")
    with op.batch_alter_table("person_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_versions_person_id"))

    op.drop_table("person_versions")
    op.drop_table("units")
    op.drop_table("rulesets")
    op.drop_table("persons")
    op.drop_table("org_revisions")
    with op.batch_alter_table("facts", schema=None) as batch_op:
        batch_op.drop_index("ix_facts_year_quarter_type_subject")
        batch_op.drop_index("ix_facts_subject_seq")

    op.drop_table("facts")
