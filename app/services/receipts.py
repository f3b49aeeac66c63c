"""Evaluation receipts: what a kept evaluation used and produced, and replaying it.

A receipt names the ruleset digest, the period, the organisation revision (and the digest of
the organisation read from it), the exact set of facts by sequence number (and a digest of
their content) and the digest of the published results. Replaying reads all of that back,
proves each digest, scores again and compares the results digest.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.errors import NotFound, ReplayMismatch
from app.services import rulesets
from app.services.scoring import PeriodInputs, load_period
from app.services.texts import require_text
from app.store import seqcodec
from app.store.db import transaction
from app.store.models import Receipt, ReceiptResult
from dsl.compile.ir import CompiledRuleset
from dsl.engine.evaluate import Evaluation, evaluate
from dsl.engine.report import results_json
from dsl.facts.limits import MAX_TEXT
from dsl.facts.periods import Period


def results_digest(ev: Evaluation) -> str:
    """sha256 of the published results JSON, canonically serialised."""
    text = json.dumps(results_json(ev), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def keep(
    engine: Engine,
    ev: Evaluation,
    inputs: PeriodInputs,
    by: str,
    published: bool = False,
    note: str | None = None,
) -> int:
    """Stores a receipt of an evaluation made from the database; returns its id."""
    if note is not None:
        require_text(note, "note", MAX_TEXT)
    with transaction(engine) as session:
        receipt = Receipt(
            ruleset_digest=ev.compiled.digest,
            period=str(ev.period),
            org_revision_id=inputs.org_revision,
            org_digest=inputs.org_digest,
            fact_count=len(inputs.seqs),
            fact_seqs=seqcodec.encode(inputs.seqs),
            facts_digest=inputs.facts_digest,
            results_digest=results_digest(ev),
            published=published,
            note=note,
            created_by=by,
            created_at=datetime.now(UTC),
        )
        session.add(receipt)
        session.flush()
        session.add_all(_result_rows(receipt.id, ev))
        return receipt.id


def keep_period(
    engine: Engine,
    compiled: CompiledRuleset,
    period: Period,
    by: str,
    published: bool = False,
    note: str | None = None,
) -> tuple[int, Evaluation, PeriodInputs]:
    """Scores a period from the database now and keeps a receipt of it."""
    from app.services.scoring import score

    ev, inputs = score(engine, compiled, period)
    return keep(engine, ev, inputs, by, published, note), ev, inputs


def listing(engine: Engine, limit: int = 200) -> list[Receipt]:
    """The newest receipts first."""
    from sqlalchemy import select

    with Session(engine) as session:
        return list(session.scalars(select(Receipt).order_by(Receipt.id.desc()).limit(limit)))


def _result_rows(receipt_id: int, ev: Evaluation) -> list[ReceiptResult]:
    c = ev.compiled
    rows = []
    for r in ev.results:
        shown: dict[str, Any] = r.as_json(c.places, c.round_mode)
        final = shown.get("final")
        rows.append(
            ReceiptResult(
                receipt_id=receipt_id,
                scorecard=r.scorecard,
                subject=r.subject,
                final=Decimal(final) if final is not None else None,
                rank=r.rank,
                band=r.tier or r.grade,
            )
        )
    return rows


@dataclass(frozen=True)
class Replay:
    """A replayed receipt: the results digest it holds and the one recomputed."""

    receipt: int
    ruleset: str
    period: str
    facts: int
    expected: str
    got: str

    @property
    def same(self) -> bool:
        """True when the recomputed results are the receipt's."""
        return self.expected == self.got


def replay(engine: Engine, receipt_id: int) -> Replay:
    """Recomputes a receipt's evaluation from what it names; ReplayMismatch if its inputs
    cannot be read back as they were. The results digests are compared by the caller."""
    with Session(engine) as session:
        receipt = session.get(Receipt, receipt_id)
        if receipt is None:
            raise NotFound(f"no receipt {receipt_id}")
    compiled = rulesets.load(engine, receipt.ruleset_digest)
    period = Period.parse(receipt.period)
    wanted = set(seqcodec.decode(receipt.fact_seqs))
    with Session(engine) as session, session.begin():
        inputs = load_period(
            session, compiled, period, org_cutoff=receipt.org_revision_id, only=wanted
        )
    if inputs.org_digest != receipt.org_digest:
        raise ReplayMismatch(f"receipt {receipt_id}: the organisation reads back differently")
    if len(inputs.seqs) != len(wanted) or inputs.facts_digest != receipt.facts_digest:
        raise ReplayMismatch(
            f"receipt {receipt_id}: {len(wanted)} facts named, {len(inputs.seqs)} read back "
            "or with other content"
        )
    ev = evaluate(compiled, inputs.org, inputs.facts, period, org_at=inputs.org_of)
    return Replay(
        receipt_id,
        compiled.digest,
        str(period),
        len(inputs.seqs),
        receipt.results_digest,
        results_digest(ev),
    )
