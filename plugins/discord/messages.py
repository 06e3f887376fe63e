"""Discord messages as the core's events: what is watched, who is a customer, which card a message joins.

Plain functions over discord.py's own objects (``discord.Message``, channels, threads), so the
gateway handlers, the catch-up and the tests all take the same path. Nothing here talks to Discord;
the one lookup a rule needs (the card of a stored message) is passed in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any

import discord

from chatops.inbound_checks import believable_or_none, has_visible_text, replace_unstorable
from chatops.sources import Author, Context, InboundMessage, MessageEdited

#: The kinds of message a person writes; joins, pins, boosts and "thread created" notices are not.
CUSTOMER_TYPES = frozenset({discord.MessageType.default, discord.MessageType.reply})
#: What a message without text shows (a sticker, an embed, a poll).
NO_TEXT = "(a message without text)"
#: Attachments listed in the text at most; the rest are counted.
MAX_ATTACHMENTS_LISTED = 10

#: Finds the card of a stored message (a customer's or a sent answer): ``ctx.thread_of`` for one source.
ThreadLookup = Callable[[str], Awaitable[str | None]]


def watched_channel_id(channel: Any) -> int | None:
    """The id of the channel a message's place counts as for watching: a thread's parent, else itself."""
    if isinstance(channel, discord.Thread):
        return channel.parent_id
    if isinstance(channel, discord.TextChannel):  # announcement channels are TextChannels too
        return channel.id
    # DMs, group DMs, the chat of voice and stage channels (not read by the catch-up either),
    # partial channels: never watched.
    return None


def is_watched(channel: Any, guild_ids: Collection[str], channel_ids: Collection[str]) -> bool:
    """Whether messages in ``channel`` are watched by ``[plugins.discord]``; a thread counts as its parent.

    A channel listed in ``channel_ids`` is watched, whatever its server. A server in ``guild_ids`` has
    all its channels watched, unless ``channel_ids`` lists some of its channels: then only those
    (``channel_ids`` narrows a server, as the config says, without hiding the other servers listed).
    """
    parent = watched_channel_id(channel)
    if parent is None:
        return False
    if str(parent) in channel_ids:
        return True
    guild = getattr(channel, "guild", None)
    if guild is None or str(guild.id) not in guild_ids:
        return False
    return not any(guild.get_channel(int(listed)) is not None for listed in channel_ids)


def is_customer_message(message: discord.Message, own_id: int | None, *, ignore_bots: bool) -> bool:
    """Whether ``message`` is a customer's: written by a person (or an allowed bot), not by us or the system.

    The bot's own messages are never customers' (its sent answers are stored when sent); other bots
    and webhooks post as bots, and are ignored unless ``ignore_bots`` is off.
    """
    if message.type not in CUSTOMER_TYPES:
        return False
    if own_id is not None and message.author.id == own_id:
        return False
    return not (ignore_bots and (message.author.bot or message.webhook_id is not None))


def replied_to(message: discord.Message) -> int | None:
    """The id of the message ``message`` answers (Discord's reply), or None; forwards are not replies."""
    ref = message.reference
    if ref is None or ref.message_id is None or ref.type is not discord.MessageReferenceType.reply:
        return None
    return ref.message_id


async def card_thread(message: discord.Message, thread_of: ThreadLookup) -> str:
    """The card (thread id) ``message`` belongs to.

    1. A reply joins the card of the message it answers, when that message is stored (a customer's
       or an answer we sent).
    2. A message in a Discord thread joins the card of the thread. A thread started from a message
       has that message's id, so it joins the starter message's card; a thread whose start is
       unknown (started before the bot watched, or without a message) is a card of its own.
    3. Otherwise the message starts a new card.
    """
    answered = replied_to(message)
    if answered is not None:
        found = await thread_of(str(answered))
        if found is not None:
            return found
    if isinstance(message.channel, discord.Thread):
        thread_id = str(message.channel.id)
        return await thread_of(thread_id) or thread_id
    return str(message.id)


def storable(text: str) -> str:
    """``text`` with what no database stores (a lone surrogate, U+0000) replaced by U+FFFD.

    Discord relays what clients send, and its JSON may carry ``"\\ud800"``; stored as is, the
    message would fail on every try (and hold its channel's position behind it).
    """
    return str(replace_unstorable(text))


def optional_storable(text: str | None) -> str | None:
    """:func:`storable` for a text that may be missing."""
    return None if text is None else storable(text)


def message_text(content: str, attachments: list[discord.Attachment], stickers: list[Any]) -> str:
    """What the card shows of a message: its text, then its attachments and stickers named (as data)."""
    lines = [content] if has_visible_text(content) else []
    for attachment in attachments[:MAX_ATTACHMENTS_LISTED]:
        lines.append(f"[attachment: {attachment.filename} {attachment.url}]")
    if len(attachments) > MAX_ATTACHMENTS_LISTED:
        lines.append(f"[{len(attachments) - MAX_ATTACHMENTS_LISTED} more attachments]")
    lines.extend(f"[sticker: {sticker.name}]" for sticker in stickers)
    return storable("\n".join(lines)) if lines else NO_TEXT


def place_name(channel: Any) -> str | None:
    """``#channel``, or ``#channel › thread`` for a message in a thread: the card's context."""
    if isinstance(channel, discord.Thread):
        parent = channel.parent
        return f"#{parent.name} › {channel.name}" if parent is not None else f"› {channel.name}"
    name = getattr(channel, "name", None)
    return f"#{name}" if name else None


def to_inbound(source: str, message: discord.Message, thread_id: str) -> InboundMessage:
    """The core's inbound message for a customer's Discord message, on the card ``thread_id``."""
    author = message.author
    guild = message.guild
    channel = message.channel
    answered = replied_to(message)
    return InboundMessage(
        source=source,
        external_id=str(message.id),
        thread_id=thread_id,
        text=message_text(message.content, message.attachments, message.stickers),
        author=Author(id=str(author.id), name=storable(author.display_name), handle=storable(author.name)),
        url=message.jump_url,
        created_at=believable_or_none(message.created_at),
        channel_name=storable(guild.name) if guild is not None else None,
        context=Context(optional_storable(place_name(channel)), getattr(channel, "jump_url", None)),
        extra={
            "channel_id": str(channel.id),
            "guild_id": str(guild.id) if guild is not None else None,
            "watched_channel_id": str(watched_channel_id(channel) or channel.id),
            "reply_to": str(answered) if answered is not None else None,
        },
    )


def to_edit(source: str, message: discord.Message) -> MessageEdited:
    """The core's edit event for a message's new content."""
    return MessageEdited(
        source=source,
        external_id=str(message.id),
        text=message_text(message.content, message.attachments, message.stickers),
        edited_at=believable_or_none(message.edited_at),
    )
