"""Facts by province (partitioned by province, then year, on PostgreSQL) and the jobs table.

Each fact gets `province`: the root unit of its subject's tree in the organisation as last
recorded ('' for a subject outside it). On PostgreSQL `facts` becomes a partitioned table
(`app.store.partitions`): the rows are copied into it, partition by partition, and the old
table is dropped; the foreign keys into `facts` go (the services check them), the unique
keys include the partition keys. On SQLite the column is added and filled in place.
Downgrading copies the rows back into one table with the keys of revision 0006.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.store import chain, partitions

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FLAT_KEYS = [
    "ALTER TABLE facts ADD CONSTRAINT pk_facts PRIMARY KEY (seq)",
    "ALTER TABLE facts ADD CONSTRAINT uq_facts_client_id UNIQUE (client_id)",
    "ALTER TABLE facts ADD CONSTRAINT uq_facts_supersedes_id UNIQUE (supersedes_id)",
    "CREATE UNIQUE INDEX uq_facts_live_value_slot ON facts (type, subject, period, value_slot) "
    "WHERE value_slot IS NOT NULL",
    "CREATE INDEX ix_facts_year_quarter_type_subject ON facts (year, quarter, type, subject)",
    "CREATE INDEX ix_facts_subject_seq ON facts (subject, seq)",
    "ALTER TABLE facts ADD CONSTRAINT fk_facts_supersedes_id_facts FOREIGN KEY (supersedes_id) "
    "REFERENCES facts (client_id)",
    "ALTER TABLE retractions ADD CONSTRAINT fk_retractions_fact_seq_facts FOREIGN KEY (fact_seq) "
    "REFERENCES facts (seq)",
]
DROP_KEYS = [
    "ALTER TABLE retractions DROP CONSTRAINT IF EXISTS fk_retractions_fact_seq_facts",
    "ALTER TABLE facts DROP CONSTRAINT IF EXISTS fk_facts_supersedes_id_facts",
    "DROP INDEX IF EXISTS uq_facts_live_value_slot",
    "DROP INDEX IF EXISTS ix_facts_year_quarter_type_subject",
    "DROP INDEX IF EXISTS ix_facts_subject_seq",
    "ALTER TABLE facts DROP CONSTRAINT IF EXISTS uq_facts_client_id",
    "ALTER TABLE facts DROP CONSTRAINT IF EXISTS uq_facts_supersedes_id",
    "ALTER TABLE facts DROP CONSTRAINT IF EXISTS pk_facts",
]
COLUMNS = (*chain.FACT_HASHED, "prev_hash", "row_hash", "value_slot")


def _provinces(conn: sa.Connection) -> dict[str, str]:
    """Each unit and person id, with the root unit of its tree in the last revision."""
    parent: dict[str, str | None] = {}
    q = (
        "SELECT v.unit_id, v.parent_id FROM unit_versions v WHERE v.revision_id = "
        "(SELECT max(w.revision_id) FROM unit_versions w WHERE w.unit_id = v.unit_id)"
    )
    for unit, up in conn.execute(sa.text(q)):
        parent[str(unit)] = None if up is None else str(up)
    out: dict[str, str] = {}
    for unit in parent:
        cur, seen = unit, {unit}
        while (up := parent.get(cur)) is not None and up in parent and up not in seen:
            seen.add(up)
            cur = up
        out[unit] = cur
    q = (
        "SELECT v.person_id, v.unit_id FROM person_versions v WHERE v.revision_id = "
        "(SELECT max(w.revision_id) FROM person_versions w WHERE w.person_id = v.person_id)"
    )
    for person, unit in conn.execute(sa.text(q)):
        if str(unit) in out:
            out[str(person)] = out[str(unit)]
    return out


def _fill_map(conn: sa.Connection) -> None:
    """A temporary table of (subject, province)."""
    conn.execute(
        sa.text("CREATE TEMPORARY TABLE jx_provinces (subject VARCHAR(200) PRIMARY KEY, "
                "province VARCHAR(200) NOT NULL)")  # fmt: skip
    )
    rows = [{"s": s, "p": p} for s, p in sorted(_provinces(conn).items())]
    if rows:
        conn.execute(sa.text("INSERT INTO jx_provinces VALUES (:s, :p)"), rows)


def _jobs_table() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("ruleset", sa.String(length=64), nullable=True),
        sa.Column("period", sa.String(length=6), nullable=True),
        sa.Column("province", sa.String(length=200), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("result_ref", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index("ix_jobs_state_id", "jobs", ["state", "id"], unique=False)
    op.create_table(
        "job_results",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_job_results_job_id_jobs")),
        sa.PrimaryKeyConstraint("job_id", name=op.f("pk_job_results")),
    )


def upgrade() -> None:
    """Applies this revision."""
    conn = op.get_bind()
    dialect = conn.dialect.name
    _jobs_table()
    _fill_map(conn)
    if dialect != "postgresql":
        op.execute("ALTER TABLE facts ADD COLUMN province VARCHAR(200) DEFAULT '' NOT NULL")
        for statement in chain.drop_append_only_ddl(dialect, "facts"):
            op.execute(statement)
        op.execute(
            "UPDATE facts SET province = (SELECT m.province FROM jx_provinces m "
            "WHERE m.subject = facts.subject) "
            "WHERE subject IN (SELECT subject FROM jx_provinces)"
        )
        for statement in chain.append_only_ddl(dialect, "facts"):
            op.execute(statement)
        op.execute("DROP TABLE jx_provinces")
        return
    for statement in DROP_KEYS:
        op.execute(statement)
    op.execute("ALTER TABLE facts ADD COLUMN province VARCHAR(200) DEFAULT '' NOT NULL")
    op.execute("ALTER TABLE facts RENAME TO facts_flat")
    op.execute(
        "CREATE TABLE facts (LIKE facts_flat INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
        "INCLUDING IDENTITY) PARTITION BY LIST (province)"
    )
    keys = conn.execute(
        sa.text(
            "SELECT DISTINCT coalesce(m.province, ''), f.year FROM facts_flat f "
            "LEFT JOIN jx_provinces m ON m.subject = f.subject"
        )
    ).all()
    partitions.ensure(conn, [(str(p), int(y)) for p, y in keys])
    cols = ", ".join(COLUMNS)
    picked = ", ".join(f"f.{c}" for c in COLUMNS)
    op.execute(
        f"INSERT INTO facts ({cols}, province) SELECT {picked}, coalesce(m.province, '') "
        "FROM facts_flat f LEFT JOIN jx_provinces m ON m.subject = f.subject"
    )
    for statement in partitions.PG_KEYS:
        op.execute(statement)
    op.execute(
        "SELECT setval(pg_get_serial_sequence('facts', 'seq'), "
        "(SELECT coalesce(max(seq), 0) + 1 FROM facts), false)"
    )
    op.execute("DROP TABLE facts_flat")
    op.execute("DROP TABLE jx_provinces")
    for statement in chain.append_only_ddl(dialect, "facts"):
        op.execute(statement)
    op.execute("ANALYZE facts")


def downgrade() -> None:
    """Reverts this revision."""
    dialect = op.get_bind().dialect.name
    op.drop_table("job_results")
    op.drop_index("ix_jobs_state_id", table_name="jobs")
    op.drop_table("jobs")
    if dialect != "postgresql":
        op.execute("ALTER TABLE facts DROP COLUMN province")  # SQLite 3.35 and later
        return
    for statement in DROP_KEYS:
        op.execute(statement)
    op.execute("ALTER TABLE facts RENAME TO facts_parted")
    op.execute(
        "CREATE TABLE facts (LIKE facts_parted INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
        "INCLUDING IDENTITY)"
    )
    op.execute("ALTER TABLE facts DROP COLUMN province")
    cols = ", ".join(COLUMNS)
    op.execute(f"INSERT INTO facts ({cols}) SELECT {cols} FROM facts_parted ORDER BY seq")
    op.execute("DROP TABLE facts_parted")
    for statement in FLAT_KEYS:
        op.execute(statement)
    op.execute(
        "SELECT setval(pg_get_serial_sequence('facts', 'seq'), "
        "(SELECT coalesce(max(seq), 0) + 1 FROM facts), false)"
    )
    for statement in chain.append_only_ddl(dialect, "facts"):
        op.execute(statement)
