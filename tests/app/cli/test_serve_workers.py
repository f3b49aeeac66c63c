"""`jixiao serve --workers 2`: when the supervisor is killed (`kill -9`), its workers end too,
instead of serving on, adopted by init, out of reach of any restart. `jixiao serve` warms the
newest quarter's warnings in a process of its own, which ends with the server."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.store.db import upgrade
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc (Linux)")


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _left_after_kill(server: subprocess.Popen[bytes], pids: set[int]) -> list[int]:
    """Kills the server outright (`kill -9`: no `finally` runs in it); the processes of `pids`
    still alive 30 s later."""
    os.kill(server.pid, signal.SIGKILL)
    server.wait(timeout=10)
    deadline = time.monotonic() + 30
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    return [p for p in pids if _alive(p)]


def test_workers_end_with_a_killed_supervisor(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(url)
    port = _free_port()
    env = {**os.environ, "JIXIAO_DATABASE_URL": url}
    jixiao = Path(sys.executable).parent / "jixiao"
    server = subprocess.Popen(
        [str(jixiao), "serve", "--workers", "2", "--port", str(port), "--no-access-log",
         "--no-warm", "--log-level", "warning", "--rules", str(REPO_ROOT / "rules")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=2).is_success:
                    workers = {p for p in _children(server.pid) if _alive(p)}
                    if len(workers) >= 2:
                        break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "did not start"
            time.sleep(0.5)
        assert not _left_after_kill(server, workers), "workers outlived their supervisor"
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=2)
    finally:
        if server.poll() is None:
            server.kill()
        for p in workers:
            if _alive(p):
                os.kill(p, signal.SIGKILL)


def test_serve_warms_the_newest_quarter_in_a_process_that_ends_with_it(tmp_path: Path) -> None:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from app.store.db import make_engine
    from app.store.models import StoredEvaluation
    from tests.app.api.conftest import Client, load_example, make_app, token

    url = f"sqlite:///{tmp_path / 'w.db'}"
    upgrade(url)
    app = make_app(url)
    load_example(Client(app, token(app, "admin")), "random-2025")
    app.state.services.engine.dispose()
    port = _free_port()
    jixiao = Path(sys.executable).parent / "jixiao"
    server = subprocess.Popen(
        [str(jixiao), "serve", "--port", str(port), "--no-access-log", "--log-level", "warning",
         "--rules", str(REPO_ROOT / "rules")],
        env={**os.environ, "JIXIAO_DATABASE_URL": url},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    engine = make_engine(url)
    try:
        # Today (after 2025) the newest quarter begun with facts is 2025Q4, read at its last
        # day: it and the quarters before it are stored whole, by a process of the server's.
        deadline = time.monotonic() + 180
        rows: list[tuple[str, str]] = []
        while len(rows) < 4:
            with Session(engine) as session:
                stmt = select(StoredEvaluation.period, StoredEvaluation.as_of)
                rows = sorted((p, d) for p, d in session.execute(stmt).all())
            assert server.poll() is None and time.monotonic() < deadline, "nothing warmed"
            time.sleep(0.5)
        assert rows == [(f"2025Q{q}", "") for q in (1, 2, 3, 4)]
        warming = {p for p in _children(server.pid) if _alive(p)}
        assert not _left_after_kill(server, warming), "a process outlived the server"
    finally:
        engine.dispose()
        if server.poll() is None:
            server.kill()
