"""Importing facts files: corrections in the wrong order, in a cycle or of themselves are
refused with their line and field (never a database error), with or without --skip-invalid;
facts recorded before migration 0004 get their value slots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.errors import Invalid
from app.services.facts import import_facts
from app.store import repository
from app.store.db import downgrade, make_engine, upgrade
from tests.app.util import load_example, org_now, rules

DOC = {"type": "overdue_document", "subject": "nanyue"}
BAD = [
    {**DOC, "id": "fw1", "date": "2025-03-04", "supersedes": "fw2"},
    {**DOC, "id": "fw2", "date": "2025-03-05"},
    {**DOC, "id": "m1", "date": "2025-03-04", "supersedes": "m2"},
    {**DOC, "id": "m2", "date": "2025-03-05", "supersedes": "m1"},
    {**DOC, "id": "self1", "date": "2025-03-06", "supersedes": "self1"},
    {**DOC, "id": "ok1", "date": "2025-03-07"},
]


def _write(path: Path, facts: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(f) + "\n" for f in facts), encoding="utf-8")
    return path


def _ids(engine: Engine) -> set[str]:
    with Session(engine) as s:
        return set(repository.recorded(s, [str(f["id"]) for f in BAD]))


@pytest.mark.parametrize("chunk", [2, 100])
def test_an_import_refuses_bad_corrections_by_line(
    engine: Engine, tmp_path: Path, chunk: int
) -> None:
    compiled = rules(2025)
    load_example(engine, "handworked", compiled)
    org, _ = org_now(engine)
    path = _write(tmp_path / "facts.jsonl", BAD)
    with pytest.raises(Invalid) as info:
        import_facts(engine, path, compiled.schema, org, "t", chunk=chunk)
    found = {(p.line, p.field) for p in info.value.problems}
    assert found == {(1, "supersedes"), (3, "supersedes"), (4, "supersedes"), (5, "supersedes")}
    assert _ids(engine) == set()
    got = import_facts(engine, path, compiled.schema, org, "t", skip_invalid=True, chunk=chunk)
    assert got.added == 2  # fw2 and ok1; m2 corrects m1, which was refused
    assert _ids(engine) == {"fw2", "ok1"}


def test_migration_0004_gives_recorded_values_their_slots(empty_url: str) -> None:
    upgrade(empty_url)
    engine = make_engine(empty_url)
    try:
        load_example(engine, "handworked", rules(2025))
        downgrade(empty_url, "0003")
        # before 0004 nothing stopped two live values of one period: record a second one
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO facts (client_id, type, subject, period, year, quarter, data,"
                    " content_digest, recorded_by, recorded_at) VALUES ('dup', "
                    "'revenue_completion', 'hengshan', '2025Q1', 2025, 1, '{\"value\": 1}', "
                    "'x', 't', '2025-04-01 00:00:00')"
                )
            )
        engine.dispose()
        upgrade(empty_url)
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT client_id, value_slot FROM facts WHERE period = '2025Q1' "
                    "AND type = 'revenue_completion' ORDER BY seq"
                )
            ).all()
    finally:
        engine.dispose()
    # f1 starts nanyue's chain (f2 corrects it); f3 and then dup start hengshan's
    assert rows == [("f1", 0), ("f2", None), ("f3", 0), ("dup", 1)]
