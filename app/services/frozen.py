"""Approved periods are frozen: a fact that would belong to one is refused.

A cycle approved (审定) for a quarter freezes the facts of that quarter; one approved for a
year, the facts of the year. Writers (imports, posted batches, corrections, retractions, a
ruling's facts) ask `refuse_frozen` with the (year, quarter) of every row they are about to
write, inside the transaction that writes them, so a batch is refused whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict
from app.store.bulk import DATE, ID, QUARTER, TYPE, YEAR, Row
from app.store.models import Cycle, Ruleset

Slot = tuple[int, int | None]  # (year, quarter or None for a yearly value)


def approved_cycles(session: Session, years: Iterable[int]) -> list[tuple[Cycle, str]]:
    """The approved cycles of these years, with their ruleset's name."""
    wanted = sorted(set(years))
    if not wanted:
        return []
    prefixes = [str(y) for y in wanted]
    q = select(Cycle, Ruleset.name).join(Ruleset, Ruleset.digest == Cycle.ruleset_digest)
    if session.get_bind().dialect.name == "postgresql":
        # A writer shares the lock an approval takes on its cycle (FOR UPDATE): a batch either
        # commits before the approval reads what is recorded, or sees the period approved.
        q = q.with_for_update(read=True, of=Cycle)
    rows = session.execute(q).all()
    return [(c, name) for c, name in rows if c.state == "approved" and c.period[:4] in prefixes]


def covers(period: str, slot: Slot) -> bool:
    """True when a fact of `slot` belongs to the period (`2025Q1` or `2025`)."""
    year, quarter = slot
    if int(period[:4]) != year:
        return False
    if len(period) == 4:
        return True
    return quarter == int(period[5])


def refuse_frozen(session: Session, slots: Mapping[Slot, Sequence[str]]) -> None:
    """Conflict naming the approved cycle (who approved it and when) and the facts, when any
    slot belongs to an approved period."""
    cycles = approved_cycles(session, (y for y, _ in slots))
    if not cycles:
        return
    details: list[dict[str, Any]] = []
    first: tuple[Cycle, str] | None = None
    for slot, ids in sorted(slots.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        for c, name in cycles:
            if covers(c.period, slot):
                first = first or (c, name)
                for ident in ids:
                    details.append(
                        {"field": "id", "id": ident, "message": _why(c, name)},
                    )
                break
    if first is None:
        return
    c, name = first
    err = Conflict(f"{_why(c, name)}; {len(details)} fact(s) refused, none recorded")
    err.details = details
    raise err


def _why(c: Cycle, name: str) -> str:
    at = c.approved_at.isoformat(timespec="seconds") if c.approved_at else "?"
    return (
        f"period {c.period} of '{name}' (cycle {c.id}, ruleset {c.ruleset_digest[:12]}) was "
        f"approved by {c.approved_by} at {at}: its facts are frozen"
    )


def refuse_frozen_rows(session: Session, rows: Sequence[Row]) -> None:
    """`refuse_frozen` for fact rows (`app.store.bulk.ROW` tuples): the rows' slots and ids are
    only gathered when an approved cycle of their years is there (a large write's rows seldom
    meet one, and gathering a million ids is not free)."""
    years = {int(r[YEAR]) for r in rows}
    if approved_cycles(session, years):
        refuse_frozen(session, slots_of(rows))


def slots_of(rows: Iterable[Row]) -> dict[Slot, list[str]]:
    """The (year, quarter) of each fact row (`app.store.bulk.ROW` tuples), with the ids in it."""
    out: dict[Slot, list[str]] = {}
    for r in rows:
        out.setdefault((int(r[YEAR]), r[QUARTER]), []).append(str(r[ID]))
    return out


def slots_of_rows(rows: Iterable[Mapping[str, Any]]) -> dict[Slot, list[str]]:
    """The (year, quarter) of each fact row (`fact_row`'s dicts), with the ids in it."""
    out: dict[Slot, list[str]] = {}
    for r in rows:
        out.setdefault((int(r["year"]), r["quarter"]), []).append(str(r["client_id"]))
    return out


def next_open(cycles: Sequence[tuple[Cycle, str]], year: int, quarter: int) -> Slot:
    """The first quarter after (year, quarter) that no approved cycle covers."""
    y, q = year, quarter
    while True:
        y, q = (y, q + 1) if q < 4 else (y + 1, 1)
        if not any(covers(c.period, (y, q)) for c, _ in cycles):
            return y, q


def place_late(session: Session, rows: list[Row], movable: frozenset[str] | set[str]) -> None:
    """Rows (`app.store.bulk.ROW` tuples) of dated fact types declared `counts_in next open
    period` whose quarter is approved are placed in the next open quarter (their `year` and
    `quarter`; the date is kept); other rows are left for `refuse_frozen`."""
    late = [i for i, r in enumerate(rows) if r[TYPE] in movable and r[DATE] is not None]
    if not late:
        return
    years = {int(rows[i][YEAR]) for i in late}
    cycles = approved_cycles(session, {y + k for y in years for k in range(0, 4)})
    if not cycles:
        return
    for i in late:
        r = rows[i]
        slot = (int(r[YEAR]), r[QUARTER])
        if any(covers(c.period, slot) for c, _ in cycles):
            rows[i] = (*r[:YEAR], *next_open(cycles, slot[0], int(slot[1])), *r[QUARTER + 1 :])
