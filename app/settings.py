"""Settings read from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DATABASE_ENV = "JIXIAO_DATABASE_URL"
DEFAULT_DATABASE_URL = "sqlite:///jixiao.db"


def database_url() -> str:
    """The configured database: JIXIAO_DATABASE_URL, else `jixiao.db` in the working directory."""
    return os.environ.get(DATABASE_ENV) or DEFAULT_DATABASE_URL


RULES_ENV = "JIXIAO_RULES"
DEMO_ENV = "JIXIAO_DEMO"


@dataclass(frozen=True)
class Settings:
    """What the HTTP service needs: its database, the rules folder, and whether tokens apply.

    `demo` serves without tokens (every request acts as an admin); `jixiao serve --demo` says
    so loudly. `user` names who records when no token names anyone.
    """

    database_url: str = field(default_factory=database_url)
    rules_dir: Path = Path("rules")
    demo: bool = False
    user: str = "api"

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from JIXIAO_DATABASE_URL, JIXIAO_RULES and JIXIAO_DEMO (`1` turns it on)."""
        return cls(
            database_url=database_url(),
            rules_dir=Path(os.environ.get(RULES_ENV) or "rules"),
            demo=os.environ.get(DEMO_ENV) == "1",
        )
