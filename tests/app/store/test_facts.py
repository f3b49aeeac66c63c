"""Recording facts: validation, idempotence, conflicts, corrections, retractions, history."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, inspect, select
from sqlalchemy.orm import Session

from app.errors import Conflict, Invalid
from app.services import trail
from app.services.factcheck import FactChecker
from app.services.facts import history, import_facts, record_facts, retract, write_rows
from app.store import repository
from app.store.models import AuditEntry, ChainHead, Cycle, Fact, Ruleset
from dsl.facts.periods import Period
from tests.app.conftest import EXAMPLES
from tests.app.util import USER, count_whole_writes, from_db, load_example, org_now, rules


def _write(path: Path, facts: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(f) + "\n" for f in facts), encoding="utf-8")
    return path


def _count(engine: Engine) -> int:
    with Session(engine) as s:
        return s.execute(select(func.count(Fact.seq))).scalar_one()


def _k1(fid: str, value: float, **more: Any) -> dict[str, Any]:
    base = {"id": fid, "type": "revenue_completion", "subject": "nanyue", "period": "2025Q1"}
    return {**base, "data": {"value": value}, **more}


def _final(engine: Engine, subject: str) -> str:
    results = from_db(engine, rules(2025), Period(2025, 1))["results"]
    return str(next(r for r in results if r["subject"] == subject)["final"])


@pytest.fixture
def loaded(engine: Engine) -> Engine:
    """The handworked example, imported."""
    load_example(engine, "handworked", rules(2025))
    return engine


def test_importing_the_same_file_twice_changes_nothing(loaded: Engine) -> None:
    before = _count(loaded)
    again = load_example(loaded, "handworked", rules(2025))
    assert (again.added, again.unchanged) == (0, before)
    assert _count(loaded) == before


def test_a_bad_line_rejects_the_whole_import(loaded: Engine, tmp_path: Path) -> None:
    bad = _k1("n1", 99)
    bad["data"] = {"value": "lots"}
    ok = {"id": "n0", "type": "overdue_document", "subject": "nanyue", "date": "2025-03-01"}
    path = _write(tmp_path / "f.jsonl", [ok, bad])
    org, _ = org_now(loaded)
    before = _count(loaded)
    with pytest.raises(Invalid) as e:
        import_facts(loaded, path, rules(2025).schema, org, USER)
    [problem] = e.value.problems
    assert (problem.line, problem.ident, problem.field) == (2, "n1", "data.value")
    assert _count(loaded) == before


def _state(engine: Engine) -> tuple[int, list[tuple[str, int, str]], int]:
    """How many facts, the chains' heads and how many audit entries are recorded."""
    with Session(engine) as s:
        q = select(ChainHead.chain, ChainHead.last_id, ChainHead.hash)
        heads = [(str(c), int(n), str(h)) for c, n, h in s.execute(q)]
        entries = s.execute(select(func.count(AuditEntry.id))).scalar_one()
    return _count(engine), sorted(heads), entries


def test_an_import_refused_in_a_late_chunk_records_nothing(
    loaded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the chunks are written while the later ones are checked, in one
    transaction: a fact refused in the last chunk rolls back the chunks written before it."""

    written = count_whole_writes(monkeypatch)
    ok = [
        {"id": f"w{i}", "type": "overdue_document", "subject": "nanyue", "date": "2025-03-01"}
        for i in range(6)
    ]
    clash = _k1("f1", 1.5)  # recorded by the example with another value
    path = _write(tmp_path / "f.jsonl", [*ok, clash])
    org, _ = org_now(loaded)
    before = _state(loaded)
    with pytest.raises(Invalid) as e:
        import_facts(loaded, path, rules(2025).schema, org, USER, chunk=2)
    [problem] = e.value.problems
    assert (problem.line, problem.ident, problem.field) == (7, "f1", "id")
    if loaded.dialect.name == "postgresql":
        assert sum(written) == 6  # written, then rolled back
    assert _state(loaded) == before
    assert trail.verify(loaded).ok
    got = import_facts(loaded, _write(path, ok), rules(2025).schema, org, USER, chunk=2)
    assert (got.added, got.unchanged) == (6, 0)
    count, heads, entries = _state(loaded)
    assert (count, entries) == (before[0] + 6, before[2] + 3)  # an audit entry per chunk
    facts_head = {c: n for c, n, _ in heads}["facts"]
    assert facts_head == {c: n for c, n, _ in before[1]}["facts"] + 6
    assert trail.verify(loaded).ok


def test_an_import_with_a_fact_of_an_approved_quarter_records_nothing(
    loaded: Engine, tmp_path: Path
) -> None:
    """A fact of an approved quarter in the last chunk refuses the whole import, naming the
    cycle and that fact alone (on PostgreSQL the chunks before it were written meanwhile)."""
    at = datetime(2025, 7, 1, tzinfo=UTC)
    with Session(loaded) as s, s.begin():
        s.add(Ruleset(digest="d" * 64, name="t", year=2025, registered_by=USER, registered_at=at))
        s.flush()
        s.add(
            Cycle(
                ruleset_digest="d" * 64,
                period="2025Q2",
                state="approved",
                approved_by="director",
                approved_at=at,
            )
        )
    ok = [
        {"id": f"a{i}", "type": "overdue_document", "subject": "nanyue", "date": "2025-03-01"}
        for i in range(6)
    ]
    late = {"id": "a9", "type": "overdue_document", "subject": "nanyue", "date": "2025-05-01"}
    path = _write(tmp_path / "f.jsonl", [*ok, late])
    org, _ = org_now(loaded)
    before = _state(loaded)
    with pytest.raises(Conflict) as e:
        import_facts(loaded, path, rules(2025).schema, org, USER, chunk=2)
    assert "2025Q2" in str(e.value) and "approved by director" in str(e.value)
    assert [d["id"] for d in e.value.details] == ["a9"]
    assert _state(loaded) == before
    assert trail.verify(loaded).ok


def test_rows_hashed_ahead_onto_another_head_are_hashed_again(
    loaded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the importing thread hashes each chunk onto the chain's head it expects;
    a writer that finds another head under the lock (a write slipped in between) hashes the
    rows again: the chain stays whole."""
    from app.services import facts as service
    from app.store.chain import GENESIS, Head

    monkeypatch.setattr(service, "head_now", lambda conn, chain: Head(0, GENESIS))
    ok = [
        {"id": f"h{i}", "type": "overdue_document", "subject": "nanyue", "date": "2025-03-01"}
        for i in range(5)
    ]
    org, _ = org_now(loaded)
    before = _count(loaded)
    got = import_facts(
        loaded, _write(tmp_path / "f.jsonl", ok), rules(2025).schema, org, USER, chunk=2
    )
    assert got.added == 5 and _count(loaded) == before + 5
    assert trail.verify(loaded).ok


def test_a_large_file_read_by_two_processes_records_the_same_facts(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import reads a large file in two processes (`dsl.facts.split`): the facts recorded,
    their numbers and digests, are those of the file read by one."""
    from app.store.db import make_engine, upgrade
    from tests.conftest import split_every_file

    def recorded(eng: Engine) -> list[tuple[int, str, str]]:
        with Session(eng) as s:
            q = select(Fact.seq, Fact.client_id, Fact.content_digest).order_by(Fact.seq)
            return [(n, c, d) for n, c, d in s.execute(q)]

    url = f"sqlite:///{tmp_path / 'one.db'}"
    upgrade(url)
    one = make_engine(url)
    monkeypatch.setenv("JIXIAO_PROCESSES", "1")
    load_example(one, "random-2025", rules(2025))
    monkeypatch.delenv("JIXIAO_PROCESSES")
    forks = split_every_file(monkeypatch)
    got = load_example(engine, "random-2025", rules(2025))
    assert len(forks) == 1 and got.added > 1000
    assert recorded(engine) == recorded(one)
    one.dispose()


def test_skip_invalid_records_the_rest_and_lists_what_it_skipped(
    loaded: Engine, tmp_path: Path
) -> None:
    good = {"id": "n2", "type": "overdue_document", "subject": "nanyue", "date": "2025-03-01"}
    path = _write(tmp_path / "f.jsonl", [{**good, "subject": "nowhere", "id": "n1"}, good])
    org, _ = org_now(loaded)
    got = import_facts(loaded, path, rules(2025).schema, org, USER, skip_invalid=True)
    assert got.added == 1
    assert [(p.line, p.field) for p in got.skipped] == [(1, "subject")]


def test_same_id_other_content_is_a_conflict(loaded: Engine) -> None:
    org, _ = org_now(loaded)
    schema = rules(2025).schema
    again = record_facts(
        loaded,
        [_k1("f2", 98.50, supersedes="f1", evidence="衡税函〔2025〕31号（更正）")],
        schema,
        org,
        USER,
        "t",
    )
    assert (again.added, again.unchanged) == (0, 1)
    with pytest.raises(Invalid) as e:
        record_facts(loaded, [_k1("f2", 99, supersedes="f1")], schema, org, USER, "t")
    assert e.value.problems[0].field == "id"
    assert "other content" in e.value.problems[0].message


def test_a_second_live_period_value_must_supersede(loaded: Engine) -> None:
    org, _ = org_now(loaded)
    schema = rules(2025).schema
    with pytest.raises(Invalid) as e:
        record_facts(loaded, [_k1("n1", 100)], schema, org, USER, "t")
    assert "supersede it instead" in e.value.problems[0].message
    with pytest.raises(Invalid) as e:
        record_facts(loaded, [_k1("n1", 100, supersedes="f1")], schema, org, USER, "t")
    assert "already corrected by f2" in e.value.problems[0].message


def test_a_correction_changes_the_score_and_keeps_the_history(loaded: Engine) -> None:
    org, _ = org_now(loaded)
    before = _final(loaded, "nanyue")
    record_facts(loaded, [_k1("n1", 100, supersedes="f2")], rules(2025).schema, org, USER, "t")
    assert _final(loaded, "nanyue") != before
    k1 = [h for h in history(loaded, "nanyue") if h["type"] == "revenue_completion"]
    assert [(h["id"], h["status"]) for h in k1] == [
        ("f1", "superseded by f2"),
        ("f2", "superseded by n1"),
        ("n1", "live"),
    ]
    assert [h["data"]["value"] for h in k1] == ["97.0", "98.5", "100"]


def test_a_retraction_withdraws_a_fact_and_says_who_and_why(loaded: Engine) -> None:
    before = _final(loaded, "nanyue")
    overdue = [h for h in history(loaded, "nanyue") if h["type"] == "overdue_document"]
    retract(loaded, overdue[0]["id"], "auditor", "recorded twice")
    assert _final(loaded, "nanyue") != before
    after = next(h for h in history(loaded, "nanyue") if h["id"] == overdue[0]["id"])
    assert after["status"] == "retracted"
    assert after["retracted"]["by"] == "auditor"
    assert after["retracted"]["why"] == "recorded twice"
    with pytest.raises(Conflict):
        retract(loaded, overdue[0]["id"], "auditor", "again")


def test_sequence_numbers_follow_the_file_and_timestamps_are_utc(loaded: Engine) -> None:
    with Session(loaded) as s:
        rows = s.execute(select(Fact.seq, Fact.client_id, Fact.recorded_at).order_by(Fact.seq))
        got = rows.all()
    assert [cid for _, cid, _ in got][:3] == ["f1", "f2", "f3"]
    assert all(b[0] > a[0] for a, b in itertools.pairwise(got))
    assert got[0][2].utcoffset() == timedelta(0)


def test_decimals_are_exact_in_the_database(loaded: Engine) -> None:
    org, _ = org_now(loaded)
    fact = _k1("n1", 0, supersedes="f2")
    fact["data"] = {"value": 99.123456789012345678}
    line = json.dumps(fact).replace("99.12345678901235", "99.123456789012345678")
    record_facts(
        loaded,
        [json.loads(line, parse_float=__import__("decimal").Decimal)],
        rules(2025).schema,
        org,
        USER,
        "t",
    )
    value = next(h for h in history(loaded, "nanyue") if h["id"] == "n1")["data"]["value"]
    assert value == "99.123456789012345678"


def test_facts_recorded_between_checking_and_writing(loaded: Engine) -> None:
    """A chunk meets facts recorded meanwhile: the same content is left out, other content is
    a Conflict that records nothing."""
    org, _ = org_now(loaded)
    schema = rules(2025).schema
    a, b = ({"id": i, "type": "overdue_document", "subject": "nanyue", "date": "2025-03-01"}
            for i in ("m1", "m2"))  # fmt: skip

    def checked(*raws: dict[str, Any]) -> list[dict[str, Any]]:
        checker = FactChecker(schema, org, "t", USER, datetime.now(UTC))
        with Session(loaded) as s:
            return checker.check(s, list(enumerate(raws, 1))).rows

    rows = checked(a, b)
    record_facts(loaded, [a], schema, org, USER, "meanwhile")
    assert write_rows(loaded, rows) == (1, 1)
    before = _count(loaded)
    c = {**a, "id": "m3"}
    rows = checked(c, {**a, "id": "m4"})
    record_facts(loaded, [{**c, "date": "2025-03-02"}], schema, org, USER, "meanwhile")
    with pytest.raises(Conflict):
        write_rows(loaded, rows)
    assert _count(loaded) == before + 1


def _secondary(engine: Engine) -> set[str]:
    return {str(i["name"]) for i in inspect(engine).get_indexes("facts") if not i["unique"]}


def test_a_large_import_builds_the_indexes_again(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the bulk size SQLite writes without the lookup indexes, then builds them again:
    afterwards they are there and every fact is found through them as before."""
    from app.store import bulk

    monkeypatch.setattr(bulk, "BULK_ROWS", 10)
    indexes = _secondary(engine)
    assert indexes == {"ix_facts_subject_seq", "ix_facts_year_quarter_type_subject"}
    got = load_example(engine, "handworked", rules(2025))
    assert got.added > 10
    assert _secondary(engine) == indexes
    expected = json.loads((EXAMPLES / "handworked" / "expected-2025Q1.json").read_text())
    for r in expected["results"]:
        if r["scorecard"] == "county":
            assert _final(engine, r["subject"]) == r["final"]


def test_indexes_dropped_by_a_killed_import_come_back_with_the_next(
    loaded: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.store import bulk

    with loaded.begin() as conn:
        for index in bulk._secondary():
            index.drop(conn)  # as a large import killed while writing leaves them
    assert _secondary(loaded) == set()
    ok = {"id": "n9", "type": "overdue_document", "subject": "nanyue", "date": "2025-03-01"}
    org, _ = org_now(loaded)
    got = import_facts(loaded, _write(tmp_path / "f.jsonl", [ok]), rules(2025).schema, org, USER)
    assert got.added == 1
    assert _secondary(loaded) == {"ix_facts_subject_seq", "ix_facts_year_quarter_type_subject"}


def test_a_failed_large_write_builds_the_indexes_again(
    loaded: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.store import bulk

    monkeypatch.setattr(bulk, "BULK_ROWS", 1)
    with pytest.raises(RuntimeError), bulk.bulk_indexes(loaded, 5):
        if loaded.dialect.name == "sqlite":
            assert _secondary(loaded) == set()
        raise RuntimeError("failed")
    assert _secondary(loaded) == {"ix_facts_subject_seq", "ix_facts_year_quarter_type_subject"}


def test_lookups_by_id_take_any_text(loaded: Engine) -> None:
    """The ids a lookup is given go to the database as one JSON array: ids with quotes,
    backslashes, commas, braces, control characters, CJK and characters beyond the BMP are
    found as they were recorded, and ids not recorded are not found."""
    org, _ = org_now(loaded)
    odd = ['q"uote', "back\\slash", "a,b", "{brace}", "tab\there", "税务局-1", "emoji-😀", " "]
    raws = [
        {"id": i, "type": "overdue_document", "subject": "nanyue", "date": "2025-03-01"}
        for i in odd
    ]
    assert record_facts(loaded, raws, rules(2025).schema, org, USER, "odd").added == len(odd)
    with Session(loaded) as s:
        seqs = dict(
            s.execute(select(Fact.client_id, Fact.seq).where(Fact.client_id.in_(odd))).all()
        )
        got = repository.recorded(s, [*odd, "missing", 'q"uote2', "{brace"])
    assert set(seqs) == set(odd)
    assert {k: v[0] for k, v in got.items()} == seqs
