"""Reading a period's facts from the database: streamed a batch at a time (a server-side
cursor on PostgreSQL), the same rows as a whole read, and the same facts as the file gives."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from app.services.scoring import load_period
from app.store import repository
from app.store.db import reading
from app.store.models import Fact as FactRow
from dsl.compile.ir import CompiledRuleset
from dsl.facts.inputs import load_inputs
from dsl.facts.periods import Period
from dsl.facts.records import Fact
from tests.app.conftest import EXAMPLES
from tests.app.util import load_example, rules

YEAR = Period(2025, None)


def _fields(f: Fact) -> tuple[Any, ...]:
    """A fact without its `line` (the file's line number, the database's sequence number)."""
    return (f.id, f.type, f.subject, f.date, f.period, f.data, f.evidence, f.supersedes)


@pytest.fixture
def loaded(engine: Engine) -> tuple[CompiledRuleset, Any]:
    """The random 2025 example recorded in `engine`: its ruleset and the query of its year."""
    compiled = rules(2025)
    load_example(engine, "random-2025", compiled)
    return compiled, repository.period_query(YEAR, compiled.schema.types)


def test_a_streamed_read_gives_the_rows_of_a_whole_read(
    engine: Engine, loaded: tuple[CompiledRuleset, Any]
) -> None:
    compiled, query = loaded
    with Session(engine) as session, session.begin():
        whole = repository.driver_rows(session, query)
        # batches of 7 rows: many fetches, the last one short
        streamed = list(repository.driver_stream(session, query, size=7))
        # two streams open at once (two server-side cursors on PostgreSQL) read independently
        a = repository.driver_stream(session, query, size=5)
        b = repository.driver_stream(session, query, size=3)
        interleaved = [(next(a), next(b)) for _ in range(20)]
        if engine.dialect.name == "postgresql":  # the rows stay on the server until fetched
            declared = session.scalars(text("SELECT name FROM pg_cursors ORDER BY name"))
            assert [n.startswith("jixiao_stream_") for n in declared] == [True, True]
        # closed early (each with its next batch being fetched on a thread): no cursor left
        a.close()
        b.close()
        if engine.dialect.name == "postgresql":
            assert list(session.scalars(text("SELECT name FROM pg_cursors"))) == []
        count = session.scalar(
            select(func.count()).where(
                FactRow.year == 2025, FactRow.type.in_(sorted(compiled.schema.types))
            )
        )
    assert len(whole) == count and count > 100
    assert streamed == whole
    assert [x for x, _ in interleaved] == whole[:20] == [y for _, y in interleaved]
    seqs = [row[0] for row in whole]
    assert seqs == sorted(seqs)


def test_a_stream_outside_a_transaction_reads_the_same_rows(
    engine: Engine, loaded: tuple[CompiledRuleset, Any]
) -> None:
    _, query = loaded
    with Session(engine) as session, session.begin():
        whole = repository.driver_rows(session, query)
    with reading(engine) as session:  # autocommit: no transaction to declare a cursor in
        assert list(repository.driver_stream(session, query, size=7)) == whole


def test_the_years_facts_from_the_database_are_the_files(
    engine: Engine, loaded: tuple[CompiledRuleset, Any]
) -> None:
    compiled, _ = loaded
    folder = EXAMPLES / "random-2025"
    from_file = load_inputs(compiled, folder / "org.json", folder / "facts.jsonl").facts
    by_id = {f.id: f for f in from_file}
    superseded = {f.supersedes for f in from_file if f.supersedes is not None}
    with Session(engine) as session, session.begin():
        inputs = load_period(session, compiled, YEAR)
    got = inputs.facts
    # every live fact of the year, once, in recording (= file) order
    expected = [
        f for f in from_file if f.id not in superseded and (f.date or f.period or YEAR).year == 2025
    ]
    assert [f.id for f in got] == [f.id for f in expected]
    assert [_fields(f) for f in got] == [_fields(by_id[f.id]) for f in got]
    assert inputs.seqs == sorted(inputs.seqs) and len(set(inputs.seqs)) == len(got)
    assert [f.line for f in got] == inputs.seqs


def test_a_read_without_digests_gives_the_same_facts_in_recording_order(
    engine: Engine, loaded: tuple[CompiledRuleset, Any]
) -> None:
    """What scoring reads (no content digests; on PostgreSQL not sorted by the server) is the
    facts of the full read, in the same order; only the facts' digest cannot be given."""
    compiled, _ = loaded
    for period in (YEAR, Period(2025, 2)):
        with Session(engine) as session, session.begin():
            full = load_period(session, compiled, period)
        with Session(engine) as session, session.begin():
            bare = load_period(session, compiled, period, digests=False)
        assert len(bare.facts) == len(full.facts) > 100
        assert [(f.line, *_fields(f)) for f in bare.facts] == [
            (f.line, *_fields(f)) for f in full.facts
        ]
        assert bare.seqs == full.seqs
        # read live, the superseded left out: the engine need not look for them again
        assert full.live and bare.live
        with Session(engine) as session, session.begin():
            named = load_period(session, compiled, period, only=set(full.seqs))
        assert not named.live  # a receipt's facts are read live or not
        assert len(full.facts_digest) == 64
        with pytest.raises(ValueError, match="without their digests"):
            _ = bare.facts_digest


def test_facts_found_out_of_order_are_put_in_recording_order() -> None:
    from app.services.scoring import PeriodInputs, in_recording_order
    from dsl.facts.records import Org

    facts = [Fact(f"f{n}", "t", "s", None, YEAR, {}, line=n) for n in (3, 1, 7, 5)]
    inputs = PeriodInputs(YEAR, Org({}, {}), None, list(facts), [3, 1, 7, 5], hashed=None)
    in_recording_order(inputs)
    assert [f.id for f in inputs.facts] == ["f1", "f3", "f5", "f7"]
    assert inputs.seqs == [1, 3, 5, 7]
    ordered = [facts[1], facts[0]]
    inputs = PeriodInputs(YEAR, Org({}, {}), None, ordered, [1, 3], hashed=None)
    in_recording_order(inputs)
    assert inputs.facts is ordered and [f.id for f in ordered] == ["f1", "f3"]
