"""Fixtures for every test: the repo, shared/, and the opt-in PostgreSQL database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

PG_ENV = "JIXIAO_TEST_DATABASE_URL"
PG_SKIP_REASON = (
    f"PostgreSQL tests skipped: set {PG_ENV} "
    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run them"
)
REPO_ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skips the tests marked `postgres` when no test database is configured."""
    if os.environ.get(PG_ENV):
        return
    skip = pytest.mark.skip(reason=PG_SKIP_REASON)
    for item in items:
        if item.get_closest_marker("postgres") is not None:
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Says once, at the end, why the PostgreSQL tests did not run."""
    skipped = terminalreporter.stats.get("skipped", [])
    count = sum(PG_SKIP_REASON in str(getattr(r, "longrepr", "")) for r in skipped)
    if count:
        terminalreporter.write_line(f"{count} test(s): {PG_SKIP_REASON}", yellow=True)


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
