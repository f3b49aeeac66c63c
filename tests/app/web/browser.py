"""A real server on the demo data and Debian's Chromium driven by Playwright, for the browser
tests. Playwright cannot download its own browser here: it drives /usr/bin/chromium (CI
installs it; elsewhere the tests are skipped, saying why)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from app.main import create_app
from app.services import demo, tokens
from app.services.registry import Registry
from app.settings import Settings
from app.store.db import make_engine, upgrade
from tests.conftest import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
SHOTS = REPO_ROOT / "build" / "screenshots"
PORTS = range(8400, 8500)


def need_chromium() -> None:
    """Skips (fails on CI) when Debian's Chromium is not installed."""
    if CHROMIUM.exists():
        return
    message = f"browser tests need {CHROMIUM} (apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    """A port of 8400–8499 that nothing listens on."""
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8400-8499")


class Served:
    """The app under uvicorn in a thread; its URL and tokens of each role."""

    def __init__(self, folder: Path) -> None:
        url = f"sqlite:///{folder / 'demo.db'}"
        upgrade(url)
        engine = make_engine(url)
        registry = Registry(engine, REPO_ROOT / "rules", "demo")
        registry.reload()
        demo.load(engine, registry)
        self.tokens = {
            role: tokens.create(engine, role, f"{role} 测试", "tester")[1]
            for role in ("reader", "auditor", "committee", "admin")
        }
        engine.dispose()
        self.app = create_app(Settings(database_url=url, rules_dir=REPO_ROOT / "rules"))
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.app.state.services.engine.dispose()


def serve(folder: Path) -> Iterator[Served]:
    """The served demo, stopped afterwards."""
    with Served(folder) as served:
        yield served
