"""uvicorn's configuration for `jixiao serve`: the shared listening socket without Nagle's delay,
and workers that end with their supervisor.

With several workers uvicorn binds the socket itself, with protocol number 0, and asyncio then
leaves TCP_NODELAY off on the connections it accepts: a small answer on a kept-alive
connection waits ~40 ms for the client's delayed ACK. Linux passes the option from the
listening socket to the connections accepted on it. (A module of its own: the workers unpickle
the configuration by its class's import path.)

A worker whose supervisor is killed (`kill -9`) would be adopted by init and go on serving on
the shared socket, out of reach of any restart. Each worker therefore asks the kernel for
SIGTERM when its parent dies (Linux `PR_SET_PDEATHSIG`) and, on any system, watches its parent
id: when it changes, the worker shuts down as on SIGTERM (uvicorn's graceful stop).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import socket
import sys
import threading
import time

import uvicorn

PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 0.5


class NoDelayConfig(uvicorn.Config):
    """uvicorn.Config whose bound TCP socket has TCP_NODELAY set, and whose workers (loaded in
    another process than the supervisor's) end when the supervisor dies."""

    supervisor: int | None = None

    def bind_socket(self) -> socket.socket:
        """The listening socket, TCP_NODELAY on."""
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def load(self) -> None:
        """Loads the application; in a worker process, first ties the worker to its parent."""
        if self.supervisor is not None and os.getpid() != self.supervisor:
            end_with_parent(self.supervisor)
        super().load()


def end_with_parent(parent: int) -> None:
    """SIGTERM to this process when `parent` is no longer its parent (it died)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # died before the request above
        os.kill(os.getpid(), signal.SIGTERM)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(WATCH_SECONDS)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
