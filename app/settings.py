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
MAX_BODY_ENV = "JIXIAO_MAX_BODY_BYTES"
IMPORT_DIR_ENV = "JIXIAO_IMPORT_DIR"
DEFAULT_MAX_BODY = 64 * 1024 * 1024


def max_body_bytes() -> int:
    """The largest request body the service reads: JIXIAO_MAX_BODY_BYTES, else 64 MiB."""
    text = os.environ.get(MAX_BODY_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_BODY
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{MAX_BODY_ENV} must be a positive number of bytes, not {text!r}")
    return int(text)


@dataclass(frozen=True)
class Settings:
    """What the HTTP service needs: its database, the rules folder, and whether tokens apply.

    `demo` serves without tokens (every request acts as an admin); `jixiao serve --demo` says
    so loudly. `user` names who records when no token names anyone. `max_body_bytes` is the
    largest request body read (a longer one is answered 413).
    """

    database_url: str = field(default_factory=database_url)
    rules_dir: Path = Path("rules")
    demo: bool = False
    user: str = "api"
    max_body_bytes: int = DEFAULT_MAX_BODY
    # the folder whose facts files an import job of the API may name (None: none)
    import_dir: Path | None = None

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from JIXIAO_DATABASE_URL, JIXIAO_RULES, JIXIAO_DEMO (`1` turns it on) and
        JIXIAO_MAX_BODY_BYTES, JIXIAO_IMPORT_DIR."""
        return cls(
            database_url=database_url(),
            rules_dir=Path(os.environ.get(RULES_ENV) or "rules"),
            demo=os.environ.get(DEMO_ENV) == "1",
            max_body_bytes=max_body_bytes(),
            import_dir=Path(os.environ[IMPORT_DIR_ENV]) if os.environ.get(IMPORT_DIR_ENV) else None,
        )
