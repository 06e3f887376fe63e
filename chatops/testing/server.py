"""A loopback HTTP server in a background thread, used by the platform fakes.

The fakes (Slack, Graph API, webhook callback receivers) are real HTTP servers so
the bot under test goes through exactly the client code it uses in production.
Running each fake on its own thread and event loop keeps it answering even while
a test blocks its own loop, and lets synchronous tests use the fakes too.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any, Self

import uvicorn

from chatops.sockets import bind


class ThreadedServer:
    """Serve an ASGI app on 127.0.0.1 (a free port) from a daemon thread."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve ``app`` on ``host``, on ``port`` (0: a free one; :meth:`start` raises OSError when it is taken)."""
        self._app = app
        self._host = host
        self._port = port
        self._sock: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (valid after start())."""
        if self._sock is None:
            raise RuntimeError("server not started")
        return int(self._sock.getsockname()[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` without a trailing slash."""
        return f"http://{self._host}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        """Bind, start serving, and return once the server accepts connections."""
        # bind() sets TCP_NODELAY: see chatops.sockets.bind for the 40 ms it saves per request.
        self._sock = bind(self._host, self._port)
        # No logging config of uvicorn's own: starting a fake must not take uvicorn's loggers from
        # the process's handler (the sandbox serves its fakes beside the bot, in one log format).
        config = uvicorn.Config(self._app, log_config=None, log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        # uvicorn installs signal handlers only on the main thread; this is not it.
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve(sockets=[self._sock])),  # type: ignore[union-attr,list-item]
            name=f"fake-server-{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("fake server did not start")
            time.sleep(0.01)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and join the thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._sock is not None:
            self._sock.close()
        self._server = self._thread = self._sock = None

    def __enter__(self) -> ThreadedServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class LoopbackFake:
    """A platform fake served on 127.0.0.1 by a :class:`ThreadedServer`: start, stop, a ``with`` block, ``base_url``.

    Subclasses (the Graph API, X and Discord fakes) say what to serve in :meth:`served_app` and, when
    stopping must first close something (open WebSockets), do it in :meth:`before_stop`.
    """

    _server: ThreadedServer | None = None

    def served_app(self) -> Any:
        """The ASGI app to serve."""
        raise NotImplementedError

    def before_stop(self) -> None:
        """Called while still serving, just before the server stops."""

    def start(self) -> Self:
        """Start serving on 127.0.0.1 (a free port); return self. Starting a started fake does nothing."""
        if self._server is None:
            self._server = ThreadedServer(self.served_app())
            self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self.before_stop()
            self._server.stop()
            self._server = None

    def __enter__(self) -> Self:
        """Start the fake for a ``with`` block."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop the fake at the end of a ``with`` block."""
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``, without a trailing slash."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return self._server.base_url
