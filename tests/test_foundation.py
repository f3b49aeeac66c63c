"""The project's foundation: the PostgreSQL opt-in, migrations, and the README's commands."""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from tests.conftest import PG_ENV, PG_SKIP_REASON

_INNER_TEST = """
import pytest

@pytest.mark.postgres
def test_needs_db(pg_url: str) -> None:
    assert pg_url == "postgresql+psycopg://example/db"
"""


def _inner_run(pytester: pytest.Pytester, repo_root: Path) -> pytest.RunResult:
    pytester.makeconftest((repo_root / "tests" / "conftest.py").read_text(encoding="utf-8"))
    pytester.makeini("[pytest]\nmarkers =\n    postgres: needs PostgreSQL\n")
    pytester.makepyfile(test_inner=_INNER_TEST)
    return pytester.runpytest("-rs")


def test_postgres_tests_skip_with_message_when_unset(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, repo_root: Path
) -> None:
    monkeypatch.delenv(PG_ENV, raising=False)
    result = _inner_run(pytester, repo_root)
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines([f"*{PG_SKIP_REASON}*"])


def test_postgres_tests_run_when_set(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, repo_root: Path
) -> None:
    monkeypatch.setenv(PG_ENV, "postgresql+psycopg://example/db")
    result = _inner_run(pytester, repo_root)
    result.assert_outcomes(passed=1)


@pytest.mark.postgres
def test_postgres_answers(pg_url: str) -> None:
    engine = create_engine(pg_url)
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version_num")).scalar_one()
    finally:
        engine.dispose()
    assert int(version) >= 120000


def test_migrations_run_on_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, repo_root: Path
) -> None:
    db = tmp_path / "jixiao.db"
    monkeypatch.setenv("JIXIAO_DATABASE_URL", f"sqlite:///{db}")
    command.upgrade(Config(str(repo_root / "alembic.ini")), "head")
    with sqlite3.connect(db) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "alembic_version" in tables


def test_readme_starts_with_the_two_setup_commands(repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```sh\n(.*?)```", readme, re.DOTALL)
    assert block is not None and readme.index(block.group(0)) < readme.index("## ")
    commands = [ln for ln in block.group(1).splitlines() if ln and not ln.startswith("#")]
    assert len(commands) == 2
    assert commands[0] == "scripts/setup && .venv/bin/jixiao serve --demo"
    assert commands[1] == "scripts/setup && scripts/check"
    for script in ("scripts/setup", "scripts/check", ".ci/run"):
        assert os.access(repo_root / script, os.X_OK), f"{script} is not executable"
    assert "scripts/check" in (repo_root / ".ci" / "run").read_text(encoding="utf-8")
