"""Settings read from the environment."""

from __future__ import annotations

import os

DATABASE_ENV = "JIXIAO_DATABASE_URL"
DEFAULT_DATABASE_URL = "sqlite:///jixiao.db"


def database_url() -> str:
    """The configured database: JIXIAO_DATABASE_URL, else `jixiao.db` in the working directory."""
    return os.environ.get(DATABASE_ENV) or DEFAULT_DATABASE_URL
