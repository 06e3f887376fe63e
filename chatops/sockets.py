"""Listening sockets for the bot's server and the test fakes."""

from __future__ import annotations

import socket


def bind(host: str, port: int) -> socket.socket:
    """A bound TCP socket (port 0 picks a free one) with TCP_NODELAY set.

    Accepted connections inherit TCP_NODELAY from the listening socket. Without it,
    a response written in two parts (headers, then body) waits for the client's
    delayed ACK: measured here as 44 ms on every request instead of 1.3 ms.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    return sock
