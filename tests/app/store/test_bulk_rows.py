"""The bulk write (`app.store.bulk`) stores what a plain row-by-row write stores.

The bulk path turns rows into tuples, hashes them in one loop (`chain.FactHasher`) and hands
them to the driver (COPY on PostgreSQL). Here the same checked rows are also written one at a
time through the ORM, each hashed with the generic `chain.row_hash`: the two databases must
hold the same rows (ids, numbers, values, hashes) and the same chain head, on SQLite and on
PostgreSQL.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, Text, cast, select
from sqlalchemy.orm import Session

from app import exactjson
from app.services import trail
from app.services.factcheck import FactChecker
from app.services.facts import import_records
from app.services.org import import_org
from app.store import bulk, chain, partitions
from app.store.db import make_engine, upgrade
from app.store.models import ChainHead, Fact
from tests.app.conftest import EXAMPLES, pg_schema_url
from tests.app.util import USER, org_now, rules
from tests.conftest import PG_ENV, PG_SKIP_REASON

AT = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)

# Text a JSON encoder must escape, or must leave alone: quotes, backslashes, control and
# line-separator characters, CJK.
ODD = 'a "quoted" \\ back\tslash\x01 \u2028 中文 证据'


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two_engines(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    """Two empty, migrated databases of the same kind."""
    if request.param == "sqlite":
        urls = [f"sqlite:///{tmp_path / f'{n}.db'}" for n in ("bulk", "rows")]
        yield _engines(urls)
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(PG_SKIP_REASON)
    first, second = pg_schema_url(base), pg_schema_url(base)
    urls = [next(first), next(second)]
    try:
        yield _engines(urls)
    finally:
        for gen in (first, second):
            next(gen, None)


def _engines(urls: list[str]) -> tuple[Engine, Engine]:
    engines = []
    for url in urls:
        upgrade(url)
        engines.append(make_engine(url))
    return engines[0], engines[1]


def _records() -> list[tuple[int, int, Any]]:
    """The random 2025 example's facts, a correction, and facts with odd evidence text."""
    lines = (EXAMPLES / "random-2025" / "facts.jsonl").read_text(encoding="utf-8").splitlines()
    objs = [json.loads(x) for x in lines if x.strip()]
    dated = next(o for o in objs if "date" in o and o["type"] == "work_item")
    objs.append({**dated, "id": "odd-1", "evidence": ODD})
    objs.append({**dated, "id": "odd-2", "evidence": ODD, "supersedes": "odd-1"})
    objs.append({**dated, "id": '"q"\\id', "date": "2025-02-28", "evidence": None})
    return [(i, i, o) for i, o in enumerate(objs, 1)]


def _load_org(engine: Engine) -> Any:
    raw = json.loads((EXAMPLES / "random-2025" / "org.json").read_text(encoding="utf-8"))
    import_org(engine, raw, "org.json", USER)
    return org_now(engine)[0]


def _row_by_row(engine: Engine, rows: list[dict[str, Any]]) -> None:
    """Each row in a transaction of its own, as the ORM writes it, hashed the generic way."""
    for row in rows:
        with Session(engine) as session, session.begin():
            conn = session.connection()
            head = chain.lock_head(conn, "facts")
            partitions.ensure(conn, [(str(row.get("province", "")), int(row["year"]))])
            seq = head.last + 1
            values = {**row, "seq": seq, "data": exactjson.dumps(row["data"])}
            digest = chain.row_hash(head.hash, values, chain.FACT_HASHED)
            session.add(Fact(**{**row, "seq": seq, "prev_hash": head.hash, "row_hash": digest}))
            session.flush()
            chain.move_head(conn, "facts", chain.Head(seq, digest))


def _stored(engine: Engine) -> tuple[list[tuple[Any, ...]], tuple[int, str]]:
    t: Any = Fact.__table__
    cols = [cast(c, Text) if c.name == "data" else c for c in t.c]
    with Session(engine) as session:
        rows = [tuple(r) for r in session.execute(select(*cols).order_by(t.c.seq))]
        head = session.scalars(select(ChainHead).where(ChainHead.chain == "facts")).one()
        return rows, (head.last_id, head.hash)


def test_the_bulk_path_stores_what_a_row_by_row_write_stores(
    two_engines: tuple[Engine, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow = two_engines
    monkeypatch.setattr(bulk, "BULK_ROWS", 10)  # SQLite: also without the secondary indexes
    schema = rules(2025).schema
    records = _records()

    org = _load_org(fast)
    checker = FactChecker(schema, org, "facts.jsonl", USER, AT)
    got = import_records(
        fast, records, len(records), "facts.jsonl", schema, org, USER, chunk=300, checker=checker
    )
    assert got.added == len(records) and not got.skipped

    org = _load_org(slow)
    checker = FactChecker(schema, org, "facts.jsonl", USER, AT)
    with Session(slow) as session:
        checked = checker.check(session, [(line, obj) for line, _, obj in records])
    assert not checked.problems and len(checked.rows) == len(records)
    _row_by_row(slow, checked.rows)

    bulk_rows, bulk_head = _stored(fast)
    plain_rows, plain_head = _stored(slow)
    assert len(bulk_rows) == len(records)
    assert bulk_rows == plain_rows
    row_hash = [c.name for c in Fact.__table__.c].index("row_hash")
    assert bulk_head == plain_head == (len(records), bulk_rows[-1][row_hash])
    odd = [r for r in bulk_rows if r[1] in ("odd-1", "odd-2")]
    assert [r[Fact.__table__.c.keys().index("evidence")] for r in odd] == [ODD, ODD]
    assert trail.verify(fast).ok


_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)


@settings(max_examples=200, deadline=None)
@given(
    st.text(max_size=64, alphabet="0123456789abcdef"),
    st.integers(1, 10**12),
    st.lists(
        st.tuples(
            _text,
            _text,
            _text,
            st.one_of(st.none(), st.dates(date(1, 1, 1), date(9999, 12, 31))),
            st.one_of(st.none(), _text),
            st.integers(-(2**15), 2**15),
            st.one_of(st.none(), st.integers(1, 4)),
            st.dictionaries(_text, st.one_of(_text, st.integers()), max_size=3).map(json.dumps),
            st.one_of(st.none(), _text),
            st.one_of(st.none(), _text),
            _text,
            _text,
            st.datetimes(timezones=st.just(UTC)),
        ),
        max_size=8,
    ),
)
def test_the_tight_loop_hashes_as_fact_hash(
    prev: str, first: int, rows: list[tuple[Any, ...]]
) -> None:
    """`FactHasher.hashes` gives, row by row, what `fact_hash` (and the generic `row_hash`)
    gives for the same values."""
    got = chain.FactHasher().hashes(prev, first, rows)
    names = chain.FACT_HASHED[1:]
    expected: list[str] = []
    last = prev
    for n, row in enumerate(rows, first):
        values = {"seq": n, **dict(zip(names, row, strict=True))}
        last = chain.fact_hash(last, values)
        assert last == chain.row_hash(expected[-1] if expected else prev, values, chain.FACT_HASHED)
        expected.append(last)
    assert got == expected


def test_content_digests_are_the_joined_text_of_what_a_fact_says() -> None:
    """The digest of every fact of an example (data or none, evidence, corrections) is sha256
    of its type, subject, date or period, evidence, supersedes, then its data's keys and
    values in key order, joined by U+001F: the digests recorded so far stay valid."""
    import hashlib
    from decimal import Decimal

    from app.services.factcheck import content_digest
    from dsl.facts.records import read_org
    from dsl.facts.validate import FactValidator

    validator = FactValidator(rules(2025).schema, read_org(EXAMPLES / "random-2025" / "org.json"))
    records = [(line, obj) for line, _, obj in _records()]
    facts = validator.validate(records, "facts.jsonl", frozenset()).facts
    assert len(facts) == len(records)
    shared: dict[int, str] = {}
    for f in facts:
        when = f.date.isoformat() if f.date is not None else str(f.period)
        parts = [f.type, f.subject, when, f.evidence or "", f.supersedes or ""]
        for key in sorted(f.data):
            v = f.data[key]
            assert isinstance(v, Decimal | str)
            parts += [key, "s" + v if isinstance(v, str) else "n" + format(v.normalize(), "f")]
        expected = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
        assert content_digest(f) == expected == content_digest(f, shared)
