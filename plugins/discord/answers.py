"""Answers on Discord: a reply under the customer's message, and (only where allowed) deleting it.

Every reply goes out with ``AllowedMentions.none()``: the text is the team's, but it may quote the
customer, and an ``@everyone`` or a role mention in it must never ping anyone. Each reply carries a
nonce made from the answer's id, and Discord enforces it, so a retry after a lost response does not
post the same answer twice. Discord's errors become :class:`~chatops.sources.SendError` with what an
admin must do: a missing permission is named, a bad token is one ops alert.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import discord

from chatops.sources import Answer, SendError, SendResult, Target

#: Discord's JSON error codes (https://discord.com/developers/docs/topics/opcodes-and-status-codes).
UNKNOWN_CHANNEL = 10003
UNKNOWN_MESSAGE = 10008
MISSING_ACCESS = 50001
MISSING_PERMISSIONS = 50013
THREAD_ARCHIVED = 50083
#: The permission each action needs, named in the alert so an admin knows what to grant.
PERMISSIONS = {
    "reply": "Send Messages (Send Messages in Threads for a thread) and Read Message History",
    "hide": "Manage Messages",
}


def channel_for(client: discord.Client, target: Target) -> Any:
    """The channel of the customer's message: the cached one, or a partial one made from its id.

    A partial channel is enough to reply and delete (both are plain HTTP calls), so answers work
    while the gateway reconnects, or for a thread that has left the cache.
    """
    channel_id = int(target.extra["channel_id"])
    found = client.get_channel(channel_id)
    if found is not None:
        return found
    guild_id = target.extra.get("guild_id")
    return client.get_partial_messageable(channel_id, guild_id=int(guild_id) if guild_id else None)


def channel_label(channel: Any) -> str:
    """``#name`` for a cached channel, else its id (what an admin looks for in Server Settings)."""
    name = getattr(channel, "name", None)
    return f"#{name}" if name else f"channel {channel.id}"


def reply_nonce(answer: Answer) -> str:
    """The nonce of an answer's reply: the same on every retry of that answer, distinct between answers.

    Discord takes at most 25 characters; ``co`` and a 64-bit id are at most 21, never cut.
    """
    return f"co{answer.id}"


async def send_reply(client: discord.Client, target: Target, answer: Answer) -> SendResult:
    """``POST /channels/{id}/messages`` answering the customer's message, mentions off; its id and jump URL."""
    channel = channel_for(client, target)
    partial = channel.get_partial_message(int(target.external_id))
    try:
        sent = await partial.reply(
            answer.text, allowed_mentions=discord.AllowedMentions.none(), nonce=reply_nonce(answer)
        )
    except Exception as exc:
        raise send_error(exc, "reply", channel_label(channel)) from exc
    return SendResult(str(sent.id), sent.jump_url)


async def delete_message(client: discord.Client, target: Target) -> None:
    """``DELETE /channels/{id}/messages/{id}``; a message already gone counts as deleted."""
    channel = channel_for(client, target)
    try:
        await channel.get_partial_message(int(target.external_id)).delete()
    except discord.NotFound:
        return
    except Exception as exc:
        raise send_error(exc, "hide", channel_label(channel)) from exc


def send_error(exc: BaseException, action: str, where: str) -> SendError:
    """What a failed Discord call means for the answer: retry later, give up, or alert an admin."""
    if isinstance(exc, SendError):
        return exc
    if isinstance(exc, discord.LoginFailure):
        return SendError("Discord refused the bot token (plugins.discord.token)", retryable=True, alert="token")
    if isinstance(exc, discord.RateLimited):
        return SendError("Discord rate limit: sending again later", retryable=True, retry_after=exc.retry_after)
    if isinstance(exc, discord.HTTPException):
        return _http_error(exc, action, where)
    if isinstance(exc, aiohttp.ClientError | OSError | asyncio.TimeoutError):
        return SendError(f"Discord could not be reached ({type(exc).__name__}): sending again later", retryable=True)
    return SendError(f"Discord call failed: {type(exc).__name__}: {exc}", retryable=False)


def _http_error(exc: discord.HTTPException, action: str, where: str) -> SendError:
    status, code = exc.status, exc.code
    said = exc.text or str(exc)
    if code == THREAD_ARCHIVED:  # 400 for a locked thread, 403 in older answers
        return SendError(f"the thread {where} is locked or archived: Discord accepts no reply there", retryable=False)
    if status == 401:
        return SendError(
            "Discord refused the bot token (401): reset it in the Developer Portal", retryable=True, alert="token"
        )
    if isinstance(exc, discord.Forbidden):
        if code in (MISSING_PERMISSIONS, MISSING_ACCESS):
            need = PERMISSIONS[action] if code == MISSING_PERMISSIONS else f"View Channel and {PERMISSIONS[action]}"
            return SendError(
                f"the bot lacks {need} in {where} (Server Settings → Roles, or the channel's permissions)",
                retryable=True,
                alert=f"permission:{action}",
            )
        return SendError(f"Discord refused ({status}, code {code}): {said}", retryable=False)
    if code == UNKNOWN_CHANNEL:
        return SendError(f"{where} was deleted on Discord: there is nothing to answer", retryable=False)
    if isinstance(exc, discord.NotFound) or code == UNKNOWN_MESSAGE or "Unknown message" in said:
        # Replying to a deleted message is refused as 404, or as 400 naming message_reference.
        return SendError("the message was deleted on Discord: there is nothing to answer", retryable=False)
    if status == 429:
        return SendError("Discord rate limit: sending again later", retryable=True)
    if status >= 500:
        return SendError(f"Discord failed ({status}): sending again later", retryable=True)
    return SendError(f"Discord refused ({status}, code {code}): {said}", retryable=False)
