"""What every source's customers' side shares in the sandbox: checking what was typed, and handing it to the bot.

A person on the sandbox page types a name and a comment. Before the platform's fake takes it,
:func:`customer_name` and :func:`customer_text` refuse what the platform itself would refuse
(nothing written, too long), with a message the page can show as it is. :class:`Customers` gives
each name a stable numeric id, as platforms identify people by number. :func:`notify_bot` delivers
a signed notification to the bot the way the platform would and turns every refusal (the bot's
error answer, no bot listening) into a :class:`~chatops.sandbox.sources.SandboxPostError` that
says why.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

import httpx

from .sources import SandboxPostError

#: Longest name the page accepts (platforms allow about this much in a display name).
MAX_NAME = 80
#: How long the bot may take to answer a notification (it stores the comment before answering).
BOT_TIMEOUT_SECONDS = 10.0


class Customers:
    """Stable numeric platform ids for customers the page knows only by name."""

    def __init__(self, first_id: int) -> None:
        """Hand out ids counting up from ``first_id`` (each source picks numbers that look like its platform's)."""
        self._ids: dict[str, str] = {}
        self._next = itertools.count(first_id)

    def id_for(self, name: str) -> str:
        """The id of the customer called ``name`` (the same name gets the same id every time)."""
        if name not in self._ids:
            self._ids[name] = str(next(self._next))
        return self._ids[name]


def customer_name(author: str, *, platform: str) -> str:
    """The customer's name as typed, trimmed; SandboxPostError when it is empty or too long."""
    name = " ".join(author.split())
    if not name:
        raise SandboxPostError(f"{platform}: give the customer a name first")
    if len(name) > MAX_NAME:
        raise SandboxPostError(
            f"{platform}: a name of at most {MAX_NAME} characters, please (this one has {len(name)})"
        )
    return name


def customer_text(text: str, *, platform: str, limit: int, length: int | None = None) -> str:
    """The comment as typed; SandboxPostError when it is blank or longer than the platform allows.

    ``length`` is the platform's own count when it is not the number of characters (X weighs them).
    """
    if not text.strip():
        raise SandboxPostError(f"{platform}: write something first; an empty comment cannot be posted")
    counted = len(text) if length is None else length
    if counted > limit:
        raise SandboxPostError(f"{platform} allows at most {limit} characters in a comment; this one has {counted}")
    return text


def handle_for(name: str, *, limit: int, separator: str = "_") -> str:
    """A platform handle made from a display name: ASCII letters, digits and ``separator``, lower case.

    "Marek Wiśniewski" becomes ``marek_wisniewski``; a name with no Latin letter at all becomes
    ``customer``. Cut to ``limit`` characters (X allows 15, Instagram 30).
    """
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    handle = re.sub(r"[^a-z0-9]+", separator, folded).strip(separator)
    return (handle or "customer")[:limit].strip(separator) or "customer"


async def notify_bot(
    bot_url: str, path: str, body: bytes, headers: Mapping[str, str], *, platform: str
) -> dict[str, Any]:
    """POST a signed notification to the bot at ``bot_url`` + ``path``; return its JSON answer.

    Raises SandboxPostError naming the platform and the bot's reason when the bot answers with an
    error, and saying so when nothing answers at ``bot_url``.
    """
    url = bot_url.rstrip("/") + path
    try:
        async with httpx.AsyncClient(timeout=BOT_TIMEOUT_SECONDS) as client:
            response = await client.post(url, content=body, headers=dict(headers))
    except httpx.HTTPError as exc:
        raise SandboxPostError(f"{platform}: could not reach the bot at {url} ({exc or type(exc).__name__})") from exc
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not response.is_success:
        reason = answer.get("error") if isinstance(answer, dict) else None
        raise SandboxPostError(
            f"{platform}: the bot refused the comment (HTTP {response.status_code}): "
            f"{reason or response.text[:200] or response.reason_phrase}"
        )
    return answer if isinstance(answer, dict) else {}
