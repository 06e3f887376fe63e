"""A digest as Block Kit (for Slack) and as plain text (for a terminal), in the team's language.

Pure functions of a :class:`~.compose.DigestReport`: links to cards are looked up by the
caller (:func:`card_links`) and passed in. Every customer's or tag's text is escaped here,
at the Slack edge.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from chatops.i18n import Translator

from .compose import DigestReport

#: Looks up a Slack message's permalink: ``(channel, ts) -> url or None``.
Permalink = Callable[[str, str], Awaitable[str | None]]


async def card_links(report: DigestReport, permalink: Permalink) -> dict[int, str]:
    """Permalinks of the cards the digest links to (oldest open, worst negative), by conversation id."""
    raise NotImplementedError("render: being written")


def digest_blocks(report: DigestReport, t: Translator, links: Mapping[int, str]) -> list[dict[str, Any]]:
    """The digest as Block Kit blocks, within Slack's limits."""
    raise NotImplementedError("render: being written")


def digest_summary(report: DigestReport, t: Translator) -> str:
    """The one-line notification text of a posted digest (what a phone shows)."""
    raise NotImplementedError("render: being written")


def digest_text(report: DigestReport, t: Translator) -> str:
    """The digest as plain text for a terminal (``chatops digest``)."""
    raise NotImplementedError("render: being written")
