"""Timing Slack's acknowledgements: from a request's arrival until its ack is sent.

Slack gives an app 3 seconds to acknowledge; later, the user sees an error and Slack retries.
Over HTTP the time ends when the response has been sent (a Starlette background task runs
just after the body went out); in Socket Mode, when the envelope's answer was written to
the WebSocket.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_sdk.socket_mode.request import SocketModeRequest
from starlette.background import BackgroundTask
from starlette.responses import Response

from chatops.observability.metrics import ACK_HTTP, ACK_SOCKET_MODE

#: What receives each ack's transport and duration in seconds (``Metrics.slack_acked``).
AckObserver = Callable[[str, float], None]


def time_http_ack(response: Response, started: float, observe: AckObserver) -> Response:
    """``response``, made to report ``time.perf_counter() - started`` once it has been sent."""
    earlier = response.background

    async def after_sending() -> None:
        observe(ACK_HTTP, time.perf_counter() - started)
        if earlier is not None:
            await earlier()

    response.background = BackgroundTask(after_sending)
    return response


class TimedSocketModeHandler(AsyncSocketModeHandler):
    """Bolt's Socket Mode handler, reporting how long each envelope took to acknowledge."""

    def __init__(self, *args: Any, observe: AckObserver, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._observe = observe

    async def handle(self, client: Any, req: SocketModeRequest) -> None:
        """Dispatch the envelope to Bolt, send the ack, and report the time taken."""
        started, wall_clock = time.perf_counter(), time.time()  # Bolt's debug line wants the wall clock
        bolt_response = await run_async_bolt_app(self.app, req)
        await send_async_response(client, req, bolt_response, wall_clock)
        if bolt_response.status == 200:  # send_async_response acks only those
            self._observe(ACK_SOCKET_MODE, time.perf_counter() - started)
