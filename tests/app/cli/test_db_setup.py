"""A command on a database that is not ready says what to do, never a traceback: a new
database gets its tables, one with other tables is told to run `jixiao db upgrade`, a
PostgreSQL URL without its driver names the extra to install."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from tests.app.conftest import EXAMPLES
from tests.dsl.helpers import run_cli

ORG = EXAMPLES / "handworked" / "org.json"


def test_import_org_on_a_new_database_creates_its_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "new.db"
    monkeypatch.setenv("JIXIAO_DATABASE_URL", f"sqlite:///{path}")
    code, _, err = run_cli(capsys, "import", "org", ORG)
    assert code == 0, err
    assert "is a new database: creating its tables (jixiao db upgrade)" in err
    assert "organisation revision 1" in err
    engine = create_engine(f"sqlite:///{path}")
    try:
        assert {"org_revisions", "facts", "alembic_version"} <= set(
            inspect(engine).get_table_names()
        )
    finally:
        engine.dispose()


def test_a_database_with_other_tables_is_told_to_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE something_else (x INTEGER)")
    conn.close()
    monkeypatch.setenv("JIXIAO_DATABASE_URL", f"sqlite:///{path}")
    code, _, err = run_cli(capsys, "import", "org", ORG)
    assert code == 1
    assert "run `jixiao db upgrade`" in err
    assert "Traceback" not in err
    with sqlite3.connect(path) as conn:  # nothing was created behind the user's back
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert names == {"something_else"}


def test_a_postgresql_url_without_its_driver_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if not installed
    monkeypatch.setenv("JIXIAO_DATABASE_URL", "postgresql+psycopg://u:secret@127.0.0.1:1/x")
    code, _, err = run_cli(capsys, "import", "org", ORG)
    assert code == 1
    assert "needs the driver psycopg" in err and "jixiao[postgres]" in err
    assert "Traceback" not in err and "secret" not in err
