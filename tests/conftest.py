"""Fixtures for every test: the repo, shared/, and the opt-in PostgreSQL database."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

from dsl.facts import split as _split

pytest_plugins = ["pytester"]

PG_ENV = "JIXIAO_TEST_DATABASE_URL"
PG_SKIP_REASON = (
    f"PostgreSQL tests skipped: set {PG_ENV} "
    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run them"
)
LO_SKIP_REASON = (
    "LibreOffice tests skipped: no soffice on PATH "
    "(apt-get install libreoffice-calc-nogui; .ci/run installs it)"
)
REPO_ROOT = Path(__file__).resolve().parent.parent
_PROCESSES = _split.processes  # as it is, before a test sets it


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skips the tests marked `postgres` when no test database is configured, and those
    marked `libreoffice` where LibreOffice is not installed."""
    skips = []
    if not os.environ.get(PG_ENV):
        skips.append(("postgres", pytest.mark.skip(reason=PG_SKIP_REASON)))
    if shutil.which("soffice") is None:
        skips.append(("libreoffice", pytest.mark.skip(reason=LO_SKIP_REASON)))
    for item in items:
        for marker, skip in skips:
            if item.get_closest_marker(marker) is not None:
                item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Says once, at the end, why the PostgreSQL or LibreOffice tests did not run."""
    skipped = terminalreporter.stats.get("skipped", [])
    for reason in (PG_SKIP_REASON, LO_SKIP_REASON):
        count = sum(reason in str(getattr(r, "longrepr", "")) for r in skipped)
        if count:
            terminalreporter.write_line(f"{count} test(s): {reason}", yellow=True)


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The SQLAlchemy URL of the PostgreSQL test database; skips the test when it is not set."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(PG_SKIP_REASON)
    return url


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The root of the repository."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared/ folder beside the repository; skips the test when it is absent."""
    path = REPO_ROOT.parent / "shared"
    if not path.is_dir():
        pytest.skip(f"no shared/ folder beside the repository at {path}")
    return path


@cache
def generator() -> ModuleType:
    """bench/generate.py (the benchmark province's generator) as a module."""
    spec = importlib.util.spec_from_file_location("jx_generate", REPO_ROOT / "bench/generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Facts files read by one process again, as `JIXIAO_PROCESSES=1` has it (after
    `split_every_file`)."""
    from dsl.facts import split

    monkeypatch.setenv("JIXIAO_PROCESSES", "1")
    monkeypatch.setattr(split, "processes", _PROCESSES)


def split_every_file(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every facts file read by two processes (`dsl.facts.split`, a few lines a chunk); the
    children forked are listed in the list returned."""
    from dsl.facts import split, typed

    monkeypatch.setattr(split, "MIN_SPLIT", 0)
    monkeypatch.setattr(split, "processes", lambda: 2)
    monkeypatch.setattr(typed, "CHUNK", 40_000)
    pids: list[int] = []
    fork = os.fork

    def counted() -> int:
        pid = fork()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counted)
    return pids
