"""``/chatops digest [today|yesterday|week]``: the digest for the asker alone (ephemeral).

Slack wants the acknowledgement within 3 s; a digest reads a few aggregates over the whole
history, which on a large database takes a second or two. So the command is acknowledged
at once with a short "counting…" line, and the digest follows through the command's
``response_url`` (``respond``), shown to the asker only. That works in any channel or
direct message, without the bot being a member, which ``chat.postEphemeral`` would need.

Anyone in the workspace may ask: the digest shows what every member can already see on the
cards (counts, the team's names, links to cards), and a manager who is not in the inbox
channel is exactly who asks. It carries no chart: Slack cannot attach a file to a message
only one person sees (the usage says so). Nothing a person types reaches them as a
traceback: an unknown word gets the usage, a failure a short apology and a line in the log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chatops.slack.escape import escape_fit

from . import render
from .periods import PERIODS, Period
from .publish import ClientSlack

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
    from slack_sdk.web.async_client import AsyncWebClient

    from .service import Digests

#: The slash command (the manifest lists it).
COMMAND = "/chatops"
#: ``/chatops digest`` alone.
DEFAULT_PERIOD: Period = "yesterday"
#: Characters of an unknown word quoted back.
WORD_LIMIT = 40


def register(digests: Digests, bolt: AsyncApp) -> None:
    """Listen for ``/chatops``."""

    @bolt.command(COMMAND)
    async def chatops_command(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        t = digests.ctx.t
        found = parse(str(command.get("text") or ""))
        if not isinstance(found, str) or found not in PERIODS:
            await ack(text=usage(digests, found))
            return
        period: Period = found
        await ack(text=t(f"digest.cmd.working.{period}"))
        try:
            report = await digests.report(period, chart=False)
            links = await render.card_links(report, ClientSlack(client).permalink)
            names = await render.people_names(report, digests.ctx.user_name)
            blocks = render.digest_blocks(report, t, links, names=names, source_name=digests.ctx.source_name)
            summary = render.digest_summary(report, t)
        except Exception:
            digests.ctx.log.exception("/chatops digest %s failed", period)
            await _respond(digests, respond, text=t("digest.cmd.failed"))
            return
        await _respond(digests, respond, text=summary, blocks=blocks)


def parse(text: str) -> str | tuple[str, ...] | None:
    """The period ``text`` asks for; otherwise the words it had (for the usage), or None for help.

    ``digest`` alone is yesterday's; words are matched without regard to case.
    """
    words = text.lower().split()
    if not words or words in (["help"], ["digest", "help"]):
        return None
    if words[0] != "digest" or len(words) > 2:
        return tuple(words)
    if len(words) == 1:
        return DEFAULT_PERIOD
    if words[1] in PERIODS:
        return words[1]
    return (words[1],)


def usage(digests: Digests, found: str | tuple[str, ...] | None) -> str:
    """How to ask, after what was not understood (an unknown word is quoted back, escaped)."""
    t = digests.ctx.t
    text = t("digest.cmd.usage", channel=digests.config.channel)
    if isinstance(found, tuple) and found:
        word = found[0] if found[0] != "digest" else found[-1]
        text = t("digest.cmd.unknown", word=escape_fit(word, WORD_LIMIT).text) + "\n" + text
    return text


async def _respond(digests: Digests, respond: AsyncRespond, **message: Any) -> None:
    """Answer through the response_url, to the asker only; a failure there is logged (nobody is left to tell)."""
    try:
        await respond(response_type="ephemeral", **message)
    except Exception:
        digests.ctx.log.exception("/chatops digest: the answer could not be sent to its response_url")
