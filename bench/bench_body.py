"""What a large body costs the server: `jixiao serve` on a fresh SQLite file is sent a 100 MB
JSON body (a) without a token, (b) with an admin token announcing its length, (c) with an admin
token in chunks (no length); each answer's status and time, and the server's peak memory
(VmHWM) after each, are printed. Targets: (a) 401 and (b) 413 without reading the body (the
peak does not move), (c) 413 once the limit (JIXIAO_MAX_BODY_BYTES) is passed.

    python bench/bench_body.py [--mib 100]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from app.services import tokens
from app.store.db import make_engine, upgrade


def _peak(pid: int) -> int:
    """The process's peak resident memory in kB (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    """Runs the three requests and prints the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mib", type=int, default=100)
    args = ap.parse_args()
    size = args.mib * 10**6
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/body.db"
        upgrade(url)
        engine = make_engine(url)
        _, secret = tokens.create(engine, "admin", "bench", "bench")
        engine.dispose()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        jixiao = Path(sys.executable).parent / "jixiao"
        server = subprocess.Popen(
            [str(jixiao), "serve", "--port", str(port), "--no-access-log", "--log-level", "error"],
            env={**os.environ, "JIXIAO_DATABASE_URL": url},
        )
        base = f"http://127.0.0.1:{port}"
        try:
            while True:
                try:
                    if httpx.get(f"{base}/v1/health", timeout=2).is_success:
                        break
                except httpx.TransportError:
                    time.sleep(0.5)
            print(f"server ready, peak memory {_peak(server.pid) / 1024:.0f} MiB")
            body = b"[" * size
            auth = {"Authorization": f"Bearer {secret}", "content-type": "application/json"}

            def chunks() -> Iterator[bytes]:
                for i in range(0, size, 2**20):
                    yield body[i : i + 2**20]

            for label, headers, content in (
                ("no token, Content-Length", {"content-type": "application/json"}, body),
                ("admin token, Content-Length", auth, body),
                ("admin token, chunked", auth, chunks()),
            ):
                started = time.perf_counter()
                try:
                    r = httpx.post(f"{base}/v1/facts", headers=headers, content=content,
                                   timeout=120)  # fmt: skip
                    status = str(r.status_code)
                except httpx.TransportError as e:  # the server answered and closed early
                    status = f"closed ({type(e).__name__})"
                took = time.perf_counter() - started
                print(
                    f"{args.mib} MB, {label}: {status} in {took:.2f} s, "
                    f"server peak memory {_peak(server.pid) / 1024:.0f} MiB"
                )
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
