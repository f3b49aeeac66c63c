"""uvicorn's configuration for `jixiao serve`: the shared listening socket without Nagle's delay.

With several workers uvicorn binds the socket itself, with protocol number 0, and asyncio then
leaves TCP_NODELAY off on the connections it accepts: a small answer on a kept-alive
connection waits ~40 ms for the client's delayed ACK. Linux passes the option from the
listening socket to the connections accepted on it. (A module of its own: the workers unpickle
the configuration by its class's import path.)
"""

from __future__ import annotations

import socket

import uvicorn


class NoDelayConfig(uvicorn.Config):
    """uvicorn.Config whose bound TCP socket has TCP_NODELAY set."""

    def bind_socket(self) -> socket.socket:
        """The listening socket, TCP_NODELAY on."""
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
