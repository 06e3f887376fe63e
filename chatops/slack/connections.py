"""One pool of HTTP connections to Slack's Web API, shared by the bot's Slack clients.

slack_sdk's ``AsyncWebClient`` opens an aiohttp session of its own for every call unless it is
given one: a new TCP connection, TLS handshake and SSL context per Slack call, and the bot makes
one after every click (the card's ``chat.update``). With one session the connections are kept
and reused; under 50 clicks in flight, opening them was several per cent of the event loop's time
against the local Slack fake (profiled with py-spy on ``benchmarks/acks.py``), before any TLS.
"""

from __future__ import annotations

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

#: An idle connection is closed after this long (seconds): less than the 5 s after which common
#: servers (uvicorn's default, many proxies) close idle keep-alive connections themselves, so a
#: connection is not reused just as the server closes it. Busy connections stay open.
KEEPALIVE_SECONDS = 4.0


def share_connections(*clients: AsyncWebClient) -> aiohttp.ClientSession:
    """Give ``clients`` one aiohttp session (call in the running loop); the caller closes it when the bot stops.

    The session's timeout is the first client's (slack_sdk sets a per-call session's from the
    client's ``timeout``; a shared session's applies to every call).
    """
    session = aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=clients[0].timeout),
        connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
    )
    for client in clients:
        client.session = session
    return session
