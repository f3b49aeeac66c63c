"""`jixiao audit verify` and `jixiao audit log` end to end; `jixiao replay` of altered facts;
the migration that hashes the facts recorded before it."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from app.services import trail
from app.store import chain
from app.store.db import make_engine, upgrade
from tests.app.conftest import EXAMPLES, empty_url  # noqa: F401  (fixture)
from tests.app.util import append_only_lifted
from tests.dsl.helpers import run_cli

REPO = Path(__file__).resolve().parents[3]
HANDWORKED = EXAMPLES / "handworked"


@pytest.fixture
def db(empty_url: str, monkeypatch: pytest.MonkeyPatch) -> str:  # noqa: F811
    """The configured database, migrated, with the handworked example imported by `jixiao`
    as the user `clerk`."""
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("JIXIAO_DATABASE_URL", empty_url)
    monkeypatch.setenv("JIXIAO_USER", "clerk")
    upgrade(empty_url)
    return empty_url


def _log(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    code, out, err = run_cli(capsys, "audit", "log", *args)
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


def test_commands_record_as_local_and_log_filters(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(capsys, "import", "org", HANDWORKED / "org.json")[0] == 0
    assert run_cli(capsys, "import", "facts", HANDWORKED / "facts.jsonl")[0] == 0
    assert run_cli(capsys, "facts", "retract", "f5", "--reason", "twice")[0] == 0
    assert run_cli(capsys, "token", "create", "--role", "auditor", "--name", "审计")[0] == 0
    entries = _log(capsys)
    assert [e["kind"] for e in entries] == [
        "org.import",
        "ruleset.register",  # --ruleset defaults to rules/2025, registered on import
        "facts.import",
        "fact.retract",
        "token.create",
    ]
    assert {(e["actor"], e["role"], e["request_id"]) for e in entries} == {("clerk", "local", None)}
    imported = entries[2]["change"]
    assert isinstance(imported, dict)
    assert (imported["count"], imported["first_seq"], imported["last_seq"]) == (69, 1, 69)
    assert entries[2]["target"] == str(HANDWORKED / "facts.jsonl")
    assert [e["kind"] for e in _log(capsys, "--kind", "fact.*")] == ["fact.retract"]
    assert _log(capsys, "--actor", "nobody") == []
    assert len(_log(capsys, "--limit", "2")) == 2
    assert _log(capsys, "--since", datetime.now(UTC).isoformat()) == []
    with pytest.raises(SystemExit) as exited:
        run_cli(capsys, "audit", "log", "--since", "not a time")
    assert exited.value.code == 2
    assert "--since: not a date or time: 'not a time'" in capsys.readouterr().err


def test_verify_exits_0_then_1_naming_the_row(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, "import", "org", HANDWORKED / "org.json")[0] == 0
    assert run_cli(capsys, "import", "facts", HANDWORKED / "facts.jsonl")[0] == 0
    code, out, err = run_cli(capsys, "audit", "verify")
    assert (code, err) == (0, "")
    assert out.strip() == "chains hold: 69 facts, 3 audit_entries, 0 retractions walked"
    engine = make_engine(db)
    with append_only_lifted(engine, "audit_entries"), engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET target = 'elsewhere' WHERE id = 3"))
    code, out, err = run_cli(capsys, "audit", "verify")
    assert code == 1
    assert out.strip() == "TAMPERED: 69 facts, 3 audit_entries, 0 retractions walked"
    assert err.startswith("jixiao: audit_entries id 3: altered:")


def test_replay_says_the_facts_were_altered(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, "import", "org", HANDWORKED / "org.json")[0] == 0
    assert run_cli(capsys, "import", "facts", HANDWORKED / "facts.jsonl")[0] == 0
    code, _, err = run_cli(
        capsys, "score", "rules/2025", "--db", "--period", "2025Q1", "--format", "json", "--keep"
    )
    assert code == 0, err
    receipt = re.search(r"receipt (\d+)", err)
    assert receipt is not None
    assert run_cli(capsys, "replay", receipt.group(1))[0] == 0
    engine = make_engine(db)
    with append_only_lifted(engine), engine.begin() as conn:
        conn.execute(text("UPDATE facts SET evidence = 'made up' WHERE client_id = 'f17'"))
    code, _, err = run_cli(capsys, "replay", receipt.group(1))
    assert code == 1
    assert "1 of its facts no longer hash as they were recorded (seq 17)" in err
    code, _, err = run_cli(capsys, "audit", "verify")
    assert code == 1 and "facts seq 17: altered" in err


def test_the_migration_hashes_the_facts_recorded_before_it(empty_url: str) -> None:  # noqa: F811
    """Facts written at revision 0003 are chained in sequence order by 0006, with the hash
    every later write uses: the chain holds, and the next fact follows the last of them."""
    upgrade(empty_url, "0003")
    engine = make_engine(empty_url)
    rows = [
        ("a1", "satisfaction", "nanyue", None, "2025Q1", 2025, 1, '{"value":92}', None),
        ("a2", "risk_step", "nanyue", "2025-01-08", None, 2025, 1, '{"step":"identify"}', "e"),
        ("a3", "satisfaction", "hengshan", None, "2025Q1", 2025, 1, '{"value":95.50}', None),
    ]
    with engine.begin() as conn:
        for r in rows:
            conn.execute(
                text(
                    "INSERT INTO facts (client_id, type, subject, date, period, year, quarter, "
                    "data, evidence, content_digest, recorded_by, recorded_at) VALUES (:c, :t, "
                    ":s, :d, :p, :y, :q, :data, :e, 'x', 'old', :at)"
                ),
                dict(zip(("c", "t", "s", "d", "p", "y", "q", "data", "e"), r, strict=True))
                | {"at": datetime(2025, 4, 1, 8, 30, 15, 250000, tzinfo=UTC)},
            )
    upgrade(empty_url)
    got = trail.verify(engine)
    assert got.ok and got.rows == {"facts": 3, "audit_entries": 0, "retractions": 0}
    # the hashes by hand: each over the row's columns and the previous hash
    prev = chain.GENESIS
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT prev_hash, row_hash FROM facts ORDER BY seq")).all()
    for seq, (r, (p, h)) in enumerate(zip(rows, stored, strict=True), 1):
        values = dict(zip(chain.FACT_HASHED[1:10], r, strict=True)) | {
            "seq": seq,
            "supersedes_id": None,
            "content_digest": "x",
            "recorded_by": "old",
            "recorded_at": "2025-04-01 08:30:15.250000",
        }
        assert (p, h) == (prev, chain.fact_hash(prev, values))
        prev = h
    with engine.connect() as conn:
        head = conn.execute(text("SELECT last_id, hash FROM chain_heads WHERE chain = 'facts'"))
        assert tuple(head.one()) == (3, prev)
    engine.dispose()
