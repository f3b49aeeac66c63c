"""Tamper evidence: the database refuses UPDATE and DELETE on facts, retractions and audit
entries; with the triggers dropped (someone with DDL rights), `verify` names the first row
changed, deleted or slipped in, and a receipt's replay says its facts no longer hash."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from app.errors import ReplayMismatch
from app.services import receipts, rulesets, trail
from app.services.facts import retract
from app.services.scoring import score
from app.store import chain
from dsl.facts.periods import Period
from tests.app.util import USER, append_only_lifted, load_example, rules


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    """The handworked example imported (69 facts, 100 a chunk: one write) and one retraction."""
    load_example(engine, "handworked", rules(2025))
    retract(engine, "f5", USER, "entered twice")
    return engine


def _sql(engine: Engine, statement: str, **params: object) -> None:
    with engine.begin() as conn:
        conn.execute(text(statement), params)


def _problems(engine: Engine) -> list[str]:
    return [str(p) for p in trail.verify(engine).problems]


def test_an_untouched_database_verifies(loaded: Engine) -> None:
    got = trail.verify(loaded)
    assert got.ok and got.problems == []
    # org import, one facts write, one retraction
    assert got.rows == {"facts": 69, "audit_entries": 3, "retractions": 1}
    with loaded.connect() as conn:
        rows = conn.execute(text("SELECT chain, last_id FROM chain_heads"))
        heads = {chain_name: last for chain_name, last in rows}
    assert heads == {"facts": 69, "audit_entries": 3}


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE facts SET data = '{\"value\": 99}' WHERE seq = 3",
        "DELETE FROM facts WHERE seq = 69",
        "UPDATE retractions SET reason = 'no reason'",
        "DELETE FROM retractions",
        "UPDATE audit_entries SET actor = 'someone else' WHERE id = 1",
        "DELETE FROM audit_entries WHERE id = 3",
    ],
)
def test_the_database_refuses_updates_and_deletes(loaded: Engine, statement: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"):
        _sql(loaded, statement)
    assert trail.verify(loaded).ok


def test_postgres_refuses_truncate(loaded: Engine) -> None:
    if loaded.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's (SQLite's DELETE without WHERE is refused above)")
    with pytest.raises(DBAPIError, match="append-only"):
        _sql(loaded, "TRUNCATE audit_entries")


def test_a_fact_changed_in_place_is_named(loaded: Engine) -> None:
    with append_only_lifted(loaded):
        _sql(loaded, "UPDATE facts SET data = '{\"value\": 99}' WHERE seq = 3")
    assert _problems(loaded) == [
        "facts seq 3: altered: its content does not hash to its stored hash "
        "(changed in place, or inserted out of band)"
    ]


def test_a_fact_changed_and_hashed_again_breaks_the_next_link(loaded: Engine) -> None:
    """Whoever knows the hash function can rehash the row; the row after it then follows a
    hash that is no longer there."""
    with loaded.connect() as conn:
        cols = ", ".join("CAST(data AS TEXT)" if c == "data" else c for c in chain.FACT_HASHED)
        row = conn.execute(text(f"SELECT {cols}, prev_hash FROM facts WHERE seq = 3")).one()
    values = dict(zip(chain.FACT_HASHED, row[:-1], strict=True))
    values["data"] = '{"value":99}'
    forged = chain.fact_hash(row[-1], values)
    with append_only_lifted(loaded):
        _sql(loaded, "UPDATE facts SET data = :d, row_hash = :h WHERE seq = 3", d=values["data"],
             h=forged)  # fmt: skip
    problems = _problems(loaded)
    assert len(problems) == 1
    assert problems[0].startswith("facts seq 4: the chain is broken before it")


def test_a_deleted_fact_is_named_by_the_row_after_it(loaded: Engine) -> None:
    with append_only_lifted(loaded):
        _sql(loaded, "DELETE FROM facts WHERE seq = 30")
    problems = _problems(loaded)
    assert len(problems) == 1 and problems[0].startswith("facts seq 31: the chain is broken")
    assert "row 29 hashes" in problems[0]


def test_a_deleted_last_fact_is_named_by_the_head(loaded: Engine) -> None:
    with append_only_lifted(loaded):
        _sql(loaded, "DELETE FROM facts WHERE seq = 69")
    assert _problems(loaded) == [
        "facts seq 69: the last rows were deleted: the chain's head names row 69, "
        "the table ends at 68"
    ]


def test_a_deleted_last_fact_with_its_head_moved_back_is_named_by_the_trail(
    loaded: Engine,
) -> None:
    with loaded.connect() as conn:
        h68 = conn.execute(text("SELECT row_hash FROM facts WHERE seq = 68")).scalar_one()
    with append_only_lifted(loaded):
        _sql(loaded, "DELETE FROM facts WHERE seq = 69")
    _sql(loaded, f"UPDATE chain_heads SET last_id = 68, hash = '{h68}' WHERE chain = 'facts'")
    assert _problems(loaded) == [
        "facts seq 69: missing: audit entry 2 recorded it as the last row of its write"
    ]


def test_a_fact_slipped_in_is_named(loaded: Engine) -> None:
    # inserting needs no lifting: append-only lets rows in, the chain tells; the row names
    # nanyue's province as its other facts do (on PostgreSQL: their partition)
    _sql(
        loaded,
        "INSERT INTO facts (seq, client_id, type, subject, period, year, quarter, data, "
        "content_digest, recorded_by, recorded_at, prev_hash, row_hash, province) "
        "SELECT 70, 'x1', 'satisfaction', 'nanyue', '2025Q1', 2025, 1, :d, 'd', 'me', "
        "'2025-04-01 00:00:00', 'p', 'h', province FROM facts "
        "WHERE subject = 'nanyue' AND year = 2025 ORDER BY seq LIMIT 1",
        d='{"value":100}',
    )
    assert _problems(loaded) == [
        "facts seq 70: altered: its content does not hash to its stored hash "
        "(changed in place, or inserted out of band)"
    ]


def test_an_audit_entry_changed_in_place_is_named(loaded: Engine) -> None:
    with append_only_lifted(loaded, "audit_entries"):
        _sql(loaded, "UPDATE audit_entries SET actor = 'someone else' WHERE id = 2")
    assert _problems(loaded) == [
        "audit_entries id 2: altered: its content does not hash to its stored hash "
        "(changed in place, or inserted out of band)"
    ]


def test_a_deleted_audit_entry_is_named(loaded: Engine) -> None:
    with append_only_lifted(loaded, "audit_entries"):
        _sql(loaded, "DELETE FROM audit_entries WHERE id = 2")
    problems = _problems(loaded)
    assert len(problems) == 1
    assert problems[0].startswith("audit_entries id 3: the chain is broken before it")


def test_writes_after_verify_keep_the_chain(loaded: Engine) -> None:
    """Later writes chain onto the last row: the first of them follows the head."""
    with loaded.connect() as conn:
        head = conn.execute(text("SELECT row_hash FROM facts WHERE seq = 69")).scalar_one()
    retract(loaded, "f6", USER, "wrong unit")
    load_example(loaded, "handworked", rules(2025))  # nothing new: nothing written
    with loaded.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM facts")).scalar_one() == 69
        prev = conn.execute(text("SELECT prev_hash FROM audit_entries WHERE id = 4")).scalar()
        third = conn.execute(text("SELECT row_hash FROM audit_entries WHERE id = 3")).scalar()
    assert prev == third
    assert head != chain.GENESIS
    assert trail.verify(loaded).ok


def test_a_replay_says_its_facts_no_longer_hash(loaded: Engine) -> None:
    compiled = rules(2025)
    rulesets.register(loaded, compiled, USER, None)
    ev, inputs = score(loaded, compiled, Period(2025, 1))
    rid = receipts.keep(loaded, ev, inputs, USER)
    assert receipts.replay(loaded, rid).same
    # f4 (seq 4) is a live 2025Q1 fact the receipt names
    assert 4 in inputs.seqs
    with append_only_lifted(loaded):
        _sql(loaded, "UPDATE facts SET data = '{\"value\": 92}' WHERE seq = 4")
    # the same value, written otherwise: the content digest is unchanged, the row is not
    with pytest.raises(ReplayMismatch, match=r"1 of its facts no longer hash .*\(seq 4\)"):
        receipts.replay(loaded, rid)


def test_a_retraction_deleted_or_changed_is_named(loaded: Engine) -> None:
    with append_only_lifted(loaded, "retractions"):
        _sql(loaded, "UPDATE retractions SET reason = 'no reason'")
    assert _problems(loaded) == [
        "retractions id 1: altered: audit entry 3 recorded it as of fact seq 5, 'entered twice'"
    ]
    with append_only_lifted(loaded, "retractions"):
        _sql(loaded, "DELETE FROM retractions")
    assert _problems(loaded) == [
        "retractions id 1: missing: audit entry 3 recorded it (fact seq 5)"
    ]


def test_a_retraction_slipped_in_is_named(loaded: Engine) -> None:
    retract(loaded, "f6", USER, "wrong unit")  # retraction 2, in the trail
    _sql(
        loaded,
        "INSERT INTO retractions (id, fact_seq, reason, recorded_by, recorded_at) "
        "VALUES (3, 7, 'quietly', 'me', '2025-04-01 00:00:00')",
    )
    assert _problems(loaded) == ["retractions id 3: not in the audit trail"]
