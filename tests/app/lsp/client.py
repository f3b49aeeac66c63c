"""A minimal JSON-RPC client that talks to `jixiao lsp` over its stdin and stdout."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from tests.conftest import REPO_ROOT

Json = dict[str, Any]


class LspClient:
    """Starts the server as a subprocess; sends requests and collects notifications."""

    def __init__(self, cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "lsp"],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={"PYTHONPATH": str(REPO_ROOT), "PATH": ""},
        )
        self.next_id = 0
        self.inbox: queue.Queue[Json] = queue.Queue()
        self.notifications: list[Json] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            header = b""
            while not header.endswith(b"\r\n\r\n"):
                ch = out.read(1)
                if not ch:
                    return
                header += ch
            length = next(
                int(line.split(b":")[1])
                for line in header.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            self.inbox.put(json.loads(out.read(length)))

    def send(self, message: Json) -> None:
        """Writes one message with its Content-Length header."""
        body = json.dumps(message, ensure_ascii=False).encode("utf-8")
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        self.proc.stdin.flush()

    def notify(self, method: str, params: Json) -> None:
        """Sends a notification."""
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method: str, params: Json, timeout: float = 30) -> Any:
        """Sends a request and returns its result; notifications that arrive meanwhile are kept."""
        self.next_id += 1
        rid = self.next_id
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        while True:
            msg = self.inbox.get(timeout=timeout)
            if msg.get("id") == rid and "method" not in msg:
                if "error" in msg:
                    raise LspError(msg["error"])
                return msg.get("result")
            if "method" in msg and "id" in msg:  # a request from the server: answer it
                self.send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
            else:
                self.notifications.append(msg)

    def diagnostics(self, uri: str) -> list[Json] | None:
        """The latest diagnostics published for a document so far (None if none were)."""
        found = [
            m["params"]["diagnostics"]
            for m in self.notifications
            if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri
        ]
        return found[-1] if found else None

    def close(self) -> None:
        """Shuts the server down as a client does."""
        try:
            self.request("shutdown", {}, timeout=10)
            self.notify("exit", {})
            self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.reader.join(timeout=10)
            for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                if pipe is not None:
                    pipe.close()


class LspError(Exception):
    """An error answer from the server."""

    def __init__(self, error: Json) -> None:
        super().__init__(error.get("message", ""))
        self.error = error
