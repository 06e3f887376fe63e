"""``/rota``: read the rota, and change it (leads only); the ``/rota edit`` dialog.

Every form answers with the acknowledgement itself, shown to the person only: reading
the rota and changing it are a few small queries, well within Slack's 3 s. Only the
dialog is opened after the acknowledgement. Nothing a person types reaches them as a
traceback: unreadable text gets the form with an example, and an unexpected failure a
short apology (and a line in the log).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from chatops.slack.escape import mrkdwn_escape

from . import answers, calendar, changes, edit_dialog, tables
from .commands import CHANGES, Edit, Help, ListAll, Now, Other, ParseError, Week, parse
from .leads import Leads

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    from .commands import Command
    from .service import Rota

#: Forms other parts of the plugin answer: ``{"calendar": calendar.answer}``; each gets the rota,
#: the person's user id and the rest of the text, and returns the answer.
OTHER_FORMS: dict[str, Callable[[Rota, str, str], Awaitable[str]]] = {"calendar": calendar.answer}


def register(rota: Rota, bolt: AsyncApp) -> None:
    """Register ``/rota`` and the dialog's listeners on ``bolt``."""
    leads = Leads(rota)

    @bolt.command("/rota")
    async def rota_command(ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient) -> None:
        user = str(command.get("user_id") or "")
        # Slack sends a trigger id with every command; without one the request cannot be told from a replay.
        trigger = str(command.get("trigger_id") or uuid.uuid4().hex)
        try:
            found = _read(rota, str(command.get("text") or ""))
            if isinstance(found, str):
                await ack(text=found)
                return
            if isinstance(found, Edit):
                check = await leads.check(user, client)
                if not check.ok:
                    await ack(text=leads.refusal(check))
                    return
                await ack()
                await edit_dialog.open_dialog(rota, client, trigger)
                return
            await ack(text=await _answer(rota, leads, client, found, user, trigger))
        except Exception:
            rota.ctx.log.exception("/rota failed")
            await ack(text=rota.ctx.t("rota.cmd.failed"))

    edit_dialog.register(rota, bolt, leads)


def _read(rota: Rota, text: str) -> Command | str:
    """The command in ``text``, or the answer explaining how to write it."""
    t = rota.ctx.t
    today = rota.now().astimezone(rota.ctx.tz).date()
    try:
        return parse(text, today, other_words=frozenset(OTHER_FORMS))
    except ParseError as error:
        values = {k: mrkdwn_escape(v) if isinstance(v, str) else v for k, v in error.values.items()}
        return t(error.key, **values) + "\n" + answers.usage(t, error.form)


async def _answer(rota: Rota, leads: Leads, client: AsyncWebClient, command: Command, user: str, trigger: str) -> str:
    """The answer to a readable command (changes and posts are carried out first)."""
    t = rota.ctx.t
    if isinstance(command, Help):
        return answers.help_answer(t)
    if isinstance(command, ListAll):
        return await answers.list_answer(rota)
    if isinstance(command, Other):
        return await OTHER_FORMS[command.word](rota, user, command.args)
    if isinstance(command, CHANGES):
        check = await leads.check(user, client)
        if not check.ok:
            return leads.refusal(check)
        return (await changes.apply(rota, user, command, "cmd:" + trigger)).text
    assert isinstance(command, Now | Week)
    if isinstance(command, Now):
        text = await answers.now_answer(rota)
    else:
        text = await answers.week_answer(rota, next_week=command.next)
    if not command.post:
        return text
    check = await leads.check(user, client)
    if not check.ok:
        return leads.refusal(check)
    async with rota.ctx.db.write() as session:
        # A replayed "post" posts once; the answer is the same either way.
        if await tables.claim(session, tables.requests, key=("cmd:" + trigger)[:255], created_at=rota.now()):
            await rota.ctx.outbox.post_message(rota.channel, text=text, session=session)
    return t("rota.cmd.posted", channel=f"<#{rota.channel}>")
