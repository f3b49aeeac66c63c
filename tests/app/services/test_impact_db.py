"""`jixiao impact --db`: the same comparison from the database as from the files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.app.conftest import db_url, empty_url, engine  # noqa: F401  (fixtures)
from tests.app.util import load_example, rules
from tests.dsl.audit.test_impact import HANDWORKED, REPO
from tests.dsl.helpers import run_cli


def test_db_agrees_with_files(
    engine: Engine,  # noqa: F811
    db_url: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    load_example(engine, "handworked", rules(2025))
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("JIXIAO_DATABASE_URL", db_url)
    common = ["impact", "rules/2024", "rules/2025", "--period", "2025Q1", "--format", "json"]
    code, out, err = run_cli(capsys, *common, "--db")
    assert code == 0, err
    files: list[str | Path] = [
        "--org",
        HANDWORKED / "org.json",
        "--facts",
        HANDWORKED / "facts.jsonl",
    ]
    code, expected, err = run_cli(capsys, *common, *files)
    assert code == 0, err
    assert json.loads(out) == json.loads(expected)
