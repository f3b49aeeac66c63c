"""The database: organisation history, append-only facts, rulesets and evaluation receipts,
the audit trail.

Nothing here is updated in place or deleted (facts, retractions and audit entries: the
database refuses it, by triggers; a token's revocation and a web session's end are the
exceptions). The organisation changes by revisions: each revision records new versions of
the units and persons that changed, valid from a date. A fact is corrected by a newer fact
that supersedes it and withdrawn by a retraction. Receipts name the exact facts, organisation
revision and ruleset an evaluation used.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from app.store.types import ExactDecimal, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite makes an INTEGER PRIMARY KEY the rowid (and AUTOINCREMENT keeps it monotonic);
# PostgreSQL gets a 64-bit identity column.
SeqInt = BigInteger().with_variant(Integer(), "sqlite")

ID = String(200)
NAME = String(400)


class Base(DeclarativeBase):
    """Declarative base: the naming convention and the column types of annotations."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        Decimal: ExactDecimal(),
        dict[str, Any]: JSON(),
        date: Date(),
    }


metadata = Base.metadata


# ---- organisation ---------------------------------------------------------------------------


class OrgRevision(Base):
    """One change of the organisation: new versions of units and persons, valid from a date."""

    __tablename__ = "org_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    valid_from: Mapped[date]
    digest: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(1000))
    recorded_by: Mapped[str] = mapped_column(ID)
    recorded_at: Mapped[datetime]


class Unit(Base):
    """A unit's identity; what it is at a date is in its versions."""

    __tablename__ = "units"

    id: Mapped[str] = mapped_column(ID, primary_key=True)


class UnitVersion(Base):
    """A unit as it was from its revision's `valid_from` (`active` false: it was closed)."""

    __tablename__ = "unit_versions"
    __table_args__ = (UniqueConstraint("unit_id", "revision_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"), index=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("org_revisions.id"))
    name: Mapped[str] = mapped_column(NAME)
    kind: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("units.id"))
    active: Mapped[bool]
    # the ruleset's `unit attrs` (a bureau's class, its staff), as the organisation file gives
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))


class Person(Base):
    """A person's identity; their unit and attributes at a date are in their versions."""

    __tablename__ = "persons"

    id: Mapped[str] = mapped_column(ID, primary_key=True)


class PersonVersion(Base):
    """A person as they were from the revision's `valid_from` (`active` false: they left)."""

    __tablename__ = "person_versions"
    __table_args__ = (UniqueConstraint("person_id", "revision_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("persons.id"), index=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("org_revisions.id"))
    name: Mapped[str] = mapped_column(NAME)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.id"))
    attributes: Mapped[dict[str, Any]]
    active: Mapped[bool]


# ---- facts ----------------------------------------------------------------------------------


class Fact(Base):
    """A recorded fact. `seq` orders the recording; `client_id` is the sender's id.

    `year` and `quarter` say which periods the fact belongs to: a dated fact to its quarter (and
    year), a quarterly value to its quarter, a yearly value to the year alone (quarter NULL).
    `province` is the root unit of the subject's tree (a provincial bureau; '' for a subject
    not in the organisation): on PostgreSQL the table is partitioned by province, then year
    (`app.store.partitions`, docs/scale.md).
    """

    __tablename__ = "facts"
    __table_args__ = (
        CheckConstraint("(date IS NULL) <> (period IS NULL)", name="date_or_period"),
        Index("ix_facts_year_quarter_type_subject", "year", "quarter", "type", "subject"),
        Index("ix_facts_subject_seq", "subject", "seq"),
        # One live value per single-valued period fact, subject and period (`value_slot`).
        Index(
            "uq_facts_live_value_slot",
            "type",
            "subject",
            "period",
            "value_slot",
            unique=True,
            sqlite_where=text("value_slot IS NOT NULL"),
            postgresql_where=text("value_slot IS NOT NULL"),
        ),
        {"sqlite_autoincrement": True},
    )

    seq: Mapped[int] = mapped_column(SeqInt, Identity(), primary_key=True)
    client_id: Mapped[str] = mapped_column(ID, unique=True)
    type: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(ID)
    date: Mapped[date | None]
    period: Mapped[str | None] = mapped_column(String(6))
    year: Mapped[int] = mapped_column(SmallInteger)
    quarter: Mapped[int | None] = mapped_column(SmallInteger)
    data: Mapped[dict[str, Any]]
    evidence: Mapped[str | None] = mapped_column(Text)
    supersedes_id: Mapped[str | None] = mapped_column(ForeignKey("facts.client_id"), unique=True)
    content_digest: Mapped[str] = mapped_column(String(64))
    recorded_by: Mapped[str] = mapped_column(ID)
    recorded_at: Mapped[datetime]
    # A single-valued period fact that starts a chain of corrections: the how-many-th such
    # chain of its (type, subject, period), from 0; NULL for corrections and other facts.
    value_slot: Mapped[int | None] = mapped_column(Integer)
    # the hash chain (app.store.chain): the previous fact's row hash, and this row's
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))
    # the partition (not hashed: derived from the organisation, like `value_slot`)
    province: Mapped[str] = mapped_column(ID, server_default="")

    retraction: Mapped[Retraction | None] = relationship(lazy="raise", back_populates="fact")


class Retraction(Base):
    """The withdrawal of a fact: who withdrew it, when and why."""

    __tablename__ = "retractions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fact_seq: Mapped[int] = mapped_column(ForeignKey("facts.seq"), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(ID)
    recorded_at: Mapped[datetime]

    fact: Mapped[Fact] = relationship(lazy="raise", back_populates="retraction")


# ---- rulesets and receipts ------------------------------------------------------------------


class Ruleset(Base):
    """A compiled ruleset, known by its digest, with the files it was compiled from."""

    __tablename__ = "rulesets"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(NAME)
    year: Mapped[int | None]
    commit: Mapped[str | None] = mapped_column(String(40))
    registered_by: Mapped[str] = mapped_column(ID)
    registered_at: Mapped[datetime]

    files: Mapped[list[RulesetFile]] = relationship(lazy="raise", order_by="RulesetFile.path")


class RulesetFile(Base):
    """One source file of a ruleset, as compiled."""

    __tablename__ = "ruleset_files"

    ruleset_digest: Mapped[str] = mapped_column(ForeignKey("rulesets.digest"), primary_key=True)
    path: Mapped[str] = mapped_column(String(1000), primary_key=True)
    content: Mapped[str] = mapped_column(Text)


class Receipt(Base):
    """A kept evaluation: ruleset, period, organisation revision, the facts used, the results.

    `fact_seqs` is the sorted set of fact sequence numbers, delta-encoded and compressed
    (`app.store.seqcodec`); `facts_digest` covers those numbers and the facts' content digests.
    """

    __tablename__ = "receipts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ruleset_digest: Mapped[str] = mapped_column(ForeignKey("rulesets.digest"))
    period: Mapped[str] = mapped_column(String(6))
    org_revision_id: Mapped[int | None] = mapped_column(ForeignKey("org_revisions.id"))
    org_digest: Mapped[str] = mapped_column(String(64))
    fact_count: Mapped[int]
    fact_seqs: Mapped[bytes] = mapped_column(LargeBinary)
    facts_digest: Mapped[str] = mapped_column(String(64))
    results_digest: Mapped[str] = mapped_column(String(64))
    published: Mapped[bool]
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(ID)
    created_at: Mapped[datetime]

    results: Mapped[list[ReceiptResult]] = relationship(lazy="raise")


class ReceiptResult(Base):
    """A published final of one subject in a receipt, rank and band (tier or grade)."""

    __tablename__ = "receipt_results"

    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipts.id"), primary_key=True)
    scorecard: Mapped[str] = mapped_column(String(100), primary_key=True)
    subject: Mapped[str] = mapped_column(ID, primary_key=True)
    final: Mapped[Decimal | None]
    rank: Mapped[int | None]
    band: Mapped[str | None] = mapped_column(String(100))


class StoredEvaluation(Base):
    """An evaluation kept across processes (`app.services.stored`): the score cache's second
    level. One row per ruleset, period and scorecards scored (`cards`: their ids, comma
    separated; empty for every scorecard) and day (`as_of`: the period as of that day, from the
    facts dated by then; empty for the whole period), replaced by a newer evaluation of the
    same: like a revoked token, a cache row is the exception to nothing being updated in place,
    and rows of days gone stale are deleted. `basis` is
    what it is valid for (`w:<watermark>` or `r:<approved receipt id>`), `code` the version of
    the code that made it, `body` the results pickled and compressed."""

    __tablename__ = "stored_evaluations"

    ruleset_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(6), primary_key=True)
    cards: Mapped[str] = mapped_column(String(1000), primary_key=True)
    as_of: Mapped[str] = mapped_column(String(10), primary_key=True)
    basis: Mapped[str] = mapped_column(String(100))
    # the latest date of the facts a whole period's evaluation read (as of any day from then
    # on it is the day's too); None when none is dated, or for the other rows
    last_day: Mapped[str | None] = mapped_column(String(10))
    code: Mapped[str] = mapped_column(String(64))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime]


# ---- API tokens -----------------------------------------------------------------------------


class ApiToken(Base):
    """A bearer token of the HTTP API, stored as the sha256 of its secret, with a role.

    A recorder's token may be limited to some fact types and to subjects under some units
    (`fact_types`, `units`: JSON lists; NULL means no limit).
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(NAME)
    role: Mapped[str] = mapped_column(String(20))
    fact_types: Mapped[list[str] | None] = mapped_column(JSON)
    units: Mapped[list[str] | None] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(ID)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


# ---- Web sessions -----------------------------------------------------------------------------


class WebSession(Base):
    """A signed-in browser: the sha256 of its cookie's secret, for one API token, until
    `expires_at` or sign-out (`ended_at`). A token revoked ends its sessions too."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


# ---- the audit trail ----------------------------------------------------------------------------


class AuditEntry(Base):
    """One write: who (token name and role), when, in which request, what kind of write, on
    what, and what changed (`change`: JSON text). Chained by hash like facts."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_kind_id", "kind", "id"),
        Index("ix_audit_entries_actor_id", "actor", "id"),
        Index("ix_audit_entries_at", "at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(SeqInt, Identity(), primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(ID)
    role: Mapped[str] = mapped_column(String(20))
    request_id: Mapped[str | None] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(1000))
    change: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))


class ChainHead(Base):
    """The last row and hash of a hash chain (`facts`, `audit_entries`); its writers lock it."""

    __tablename__ = "chain_heads"

    chain: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


# ---- evaluation cycles (公示 → 申诉 → 复核 → 审定) and webhooks --------------------------------


class Cycle(Base):
    """A ruleset and a period on their way to approval: open, published (公示, with a notice
    period) or approved (审定, frozen). `receipt_id` is the receipt of the current state (the
    published or approved results); earlier receipts stay named in the cycle's records."""

    __tablename__ = "cycles"
    __table_args__ = (UniqueConstraint("ruleset_digest", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ruleset_digest: Mapped[str] = mapped_column(ForeignKey("rulesets.digest"))
    period: Mapped[str] = mapped_column(String(6), index=True)
    state: Mapped[str] = mapped_column(String(20))
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("receipts.id"))
    notice_until: Mapped[date | None]
    approved_by: Mapped[str | None] = mapped_column(ID)
    approved_at: Mapped[datetime | None]
    watermark: Mapped[str | None] = mapped_column(String(100))


class CycleRecord(Base):
    """One write of the cycle's work (a transition, an appeal, a ruling, a subscription): who,
    in which role, what kind of change, on what, the change itself and when."""

    __tablename__ = "cycle_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id"), index=True)
    kind: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(ID)
    role: Mapped[str] = mapped_column(String(20))
    change: Mapped[dict[str, Any]]
    request_id: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime]


class Appeal(Base):
    """An appeal (申诉) against a line of a published result, and its ruling (裁定)."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id"), index=True)
    subject: Mapped[str] = mapped_column(ID)
    indicator: Mapped[str | None] = mapped_column(String(100))
    facts: Mapped[list[str]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20))
    filed_by: Mapped[str] = mapped_column(ID)
    filed_at: Mapped[datetime]
    decision: Mapped[str | None] = mapped_column(String(20))
    ruling_reason: Mapped[str | None] = mapped_column(Text)
    ruled_by: Mapped[str | None] = mapped_column(ID)
    ruled_at: Mapped[datetime | None]
    corrections: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    effect: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)


class WebhookSubscription(Base):
    """A receiver of cycle and appeal events: its URL, the events it wants and the secret its
    deliveries are signed with (HMAC-SHA256). Deleted subscriptions stay, with `deleted_at`."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(ID)
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]


class WebhookDelivery(Base):
    """The outbox: one event for one subscriber, written with the event; the worker sends it
    until the receiver answers 2xx (`delivered_at`) or the attempts run out (`state` failed)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id"),
        Index("ix_webhook_deliveries_state_next_at", "state", "next_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id"))
    event_id: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(50))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int]
    next_at: Mapped[datetime]
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class WebhookAttempt(Base):
    """One attempt at a delivery: when, the receiver's status (None: no answer) and why not."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id"), index=True)
    at: Mapped[datetime]
    status: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(Text)


# ---- jobs ---------------------------------------------------------------------------------------


class Job(Base):
    """Long work handed to the workers (`app.jobs`): one kind of work on one province and
    period. `state` is queued, running, done or failed; `done`/`total` its progress; `attempts`
    counts the runs begun (a failed run is retried); `result` what it produced (counts and
    digests), `result_ref` where its results are kept (`receipt:ID`)."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_id", "state", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    ruleset: Mapped[str | None] = mapped_column(String(64))
    period: Mapped[str | None] = mapped_column(String(6))
    province: Mapped[str | None] = mapped_column(ID)
    params: Mapped[dict[str, Any]]
    state: Mapped[str] = mapped_column(String(20))
    done: Mapped[int]
    total: Mapped[int]
    attempts: Mapped[int]
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result_ref: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(ID)
    created_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class JobResult(Base):
    """The results document a finished scoring job kept (the results JSON, canonical text)."""

    __tablename__ = "job_results"

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
