"""Discord messages as cards: what is watched, who is a customer, which card a message joins.

The messages are discord.py's own objects, built by its connection state from gateway-shaped data
(the same parsing the live client does), so the rules are checked on what production hands them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import discord
import pytest
from discord.utils import time_snowflake
from hypothesis import given
from hypothesis import strategies as st

from chatops_plugins.discord.gateway import intents
from chatops_plugins.discord.messages import (
    MAX_ATTACHMENTS_LISTED,
    NO_TEXT,
    card_thread,
    is_customer_message,
    is_watched,
    message_text,
    replied_to,
    storable,
    to_edit,
    to_inbound,
)

GUILD, OTHER_GUILD = 100, 101
GENERAL, SALES, ELSEWHERE = 200, 201, 210
THREAD = 300
BOT, ANNA, OTHER_BOT = 900, 5, 6


def _user(uid: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(uid),
        "username": name,
        "global_name": name.title(),
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
    }


def _guild(gid: int, channels: list[tuple[int, str]], threads: list[tuple[int, str, int]]) -> dict[str, Any]:
    everyone = discord.Permissions(view_channel=True, send_messages=True, read_message_history=True)
    return {
        "id": str(gid),
        "name": f"Server {gid}",
        "owner_id": str(ANNA),
        "roles": [
            {"id": str(gid), "name": "@everyone", "permissions": str(everyone.value), "position": 0, "color": 0}
            | {"hoist": False, "managed": False, "mentionable": False}
        ],
        "channels": [
            {"id": str(cid), "type": 0, "name": name, "position": i, "guild_id": str(gid), "permission_overwrites": []}
            for i, (cid, name) in enumerate(channels)
        ],
        "threads": [
            {
                "id": str(tid),
                "type": 11,
                "name": name,
                "parent_id": str(parent),
                "guild_id": str(gid),
                "owner_id": str(ANNA),
                "message_count": 0,
                "member_count": 1,
                "rate_limit_per_user": 0,
                "thread_metadata": {
                    "archived": False,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": "2026-01-01T00:00:00+00:00",
                    "locked": False,
                },
            }
            for tid, name, parent in threads
        ],
        "members": [
            {"user": _user(BOT, "shopbot", bot=True), "roles": [], "joined_at": "2026-01-01T00:00:00+00:00"}
            | {"deaf": False, "mute": False, "flags": 0}
        ],
        "emojis": [],
        "stickers": [],
        "features": [],
        "member_count": 2,
        "large": False,
        "unavailable": False,
    }


@pytest.fixture
def client() -> discord.Client:
    """A discord.py client whose cache holds two servers, as after their GUILD_CREATE events."""
    made = discord.Client(intents=intents())
    state = made._connection
    state.user = discord.ClientUser(state=state, data=_user(BOT, "shopbot", bot=True))  # type: ignore[arg-type]
    state.parse_guild_create(_guild(GUILD, [(GENERAL, "general"), (SALES, "sales")], [(THREAD, "help", GENERAL)]))
    state.parse_guild_create(_guild(OTHER_GUILD, [(ELSEWHERE, "elsewhere")], []))
    return made


def message(
    client: discord.Client,
    channel_id: int,
    content: str = "the order never came",
    *,
    author: dict[str, Any] | None = None,
    reply_to: int | None = None,
    forward: bool = False,
    kind: int = 0,
    attachments: list[dict[str, Any]] | None = None,
    webhook_id: int | None = None,
    edited: bool = False,
) -> discord.Message:
    """A discord.Message as the gateway's MESSAGE_CREATE gives it."""
    channel = client.get_channel(channel_id)
    assert channel is not None
    now = datetime.now(UTC)
    data: dict[str, Any] = {
        "id": str(time_snowflake(now)),
        "channel_id": str(channel_id),
        "guild_id": str(channel.guild.id),  # type: ignore[union-attr]
        "author": author or _user(ANNA, "anna"),
        "content": content,
        "timestamp": now.isoformat(),
        "edited_timestamp": now.isoformat() if edited else None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": attachments or [],
        "embeds": [],
        "pinned": False,
        "type": kind,
    }
    if reply_to is not None:
        data["message_reference"] = {"type": 1 if forward else 0, "message_id": str(reply_to)}
        data["message_reference"] |= {"channel_id": str(channel_id), "guild_id": data["guild_id"]}
    if webhook_id is not None:
        data["webhook_id"] = str(webhook_id)
    return discord.Message(state=client._connection, channel=channel, data=data)  # type: ignore[arg-type]


def lookup(known: dict[str, str]) -> Any:
    async def thread_of(external_id: str) -> str | None:
        return known.get(external_id)

    return thread_of


# -- watching -----------------------------------------------------------------------------------


def test_a_watched_server_means_all_its_channels_and_threads(client: discord.Client) -> None:
    watched = [GENERAL, SALES, THREAD]
    assert all(is_watched(client.get_channel(c), [str(GUILD)], []) for c in watched)
    assert not is_watched(client.get_channel(ELSEWHERE), [str(GUILD)], [])


def test_watched_channels_include_their_threads_and_nothing_else(client: discord.Client) -> None:
    assert is_watched(client.get_channel(GENERAL), [], [str(GENERAL)])
    assert is_watched(client.get_channel(THREAD), [], [str(GENERAL)])
    assert not is_watched(client.get_channel(SALES), [], [str(GENERAL)])
    assert not is_watched(client.get_channel(THREAD), [], [str(SALES)])


def test_channel_ids_narrow_their_own_server_but_not_other_listed_servers(client: discord.Client) -> None:
    guilds, channels = [str(GUILD), str(OTHER_GUILD)], [str(SALES)]
    assert is_watched(client.get_channel(SALES), guilds, channels)
    assert not is_watched(client.get_channel(GENERAL), guilds, channels)
    assert is_watched(client.get_channel(ELSEWHERE), guilds, channels)


def test_direct_messages_are_never_watched(client: discord.Client) -> None:
    dm = client.get_partial_messageable(12345)
    assert not is_watched(dm, [str(GUILD)], ["12345"])


# -- who is a customer ------------------------------------------------------------------------


def test_the_bots_own_messages_are_not_customers(client: discord.Client) -> None:
    own = message(client, GENERAL, author=_user(BOT, "shopbot", bot=True))
    assert not is_customer_message(own, BOT, ignore_bots=False)
    assert is_customer_message(message(client, GENERAL), BOT, ignore_bots=True)


def test_other_bots_and_webhooks_are_ignored_unless_configured(client: discord.Client) -> None:
    other = message(client, GENERAL, author=_user(OTHER_BOT, "modbot", bot=True))
    hooked = message(client, GENERAL, webhook_id=77, author=_user(78, "github", bot=True))
    assert not is_customer_message(other, BOT, ignore_bots=True)
    assert not is_customer_message(hooked, BOT, ignore_bots=True)
    assert is_customer_message(other, BOT, ignore_bots=False)
    assert is_customer_message(hooked, BOT, ignore_bots=False)


def test_system_messages_are_not_customers(client: discord.Client) -> None:
    pinned = message(client, GENERAL, kind=discord.MessageType.pins_add.value)
    joined = message(client, GENERAL, kind=discord.MessageType.new_member.value)
    assert not is_customer_message(pinned, BOT, ignore_bots=True)
    assert not is_customer_message(joined, BOT, ignore_bots=True)
    assert is_customer_message(message(client, GENERAL, reply_to=1, kind=19), BOT, ignore_bots=True)


# -- which card -------------------------------------------------------------------------------


async def test_a_plain_message_starts_its_own_card(client: discord.Client) -> None:
    first = message(client, GENERAL)
    assert await card_thread(first, lookup({})) == str(first.id)


async def test_a_reply_joins_the_card_of_the_message_it_answers(client: discord.Client) -> None:
    reply = message(client, GENERAL, reply_to=555)
    assert await card_thread(reply, lookup({"555": "card-1"})) == "card-1"


async def test_a_reply_to_an_unknown_message_starts_a_card(client: discord.Client) -> None:
    reply = message(client, GENERAL, reply_to=555)
    assert await card_thread(reply, lookup({})) == str(reply.id)


async def test_a_forward_is_not_a_reply(client: discord.Client) -> None:
    forwarded = message(client, GENERAL, reply_to=555, forward=True)
    assert replied_to(forwarded) is None
    assert await card_thread(forwarded, lookup({"555": "card-1"})) == str(forwarded.id)


async def test_a_thread_message_joins_the_card_of_its_starter_message(client: discord.Client) -> None:
    # A thread started from a message has that message's id; the message is on card "card-7".
    in_thread = message(client, THREAD)
    assert await card_thread(in_thread, lookup({str(THREAD): "card-7"})) == "card-7"


async def test_a_thread_with_an_unknown_start_is_one_card(client: discord.Client) -> None:
    one, two = message(client, THREAD), message(client, THREAD, "still waiting")
    assert await card_thread(one, lookup({})) == str(THREAD)
    assert await card_thread(two, lookup({})) == str(THREAD)


async def test_a_reply_inside_a_thread_to_an_unknown_message_stays_on_the_threads_card(
    client: discord.Client,
) -> None:
    reply = message(client, THREAD, reply_to=555)
    assert await card_thread(reply, lookup({str(THREAD): "card-7"})) == "card-7"


# -- what the card shows ----------------------------------------------------------------------


def test_the_inbound_message_carries_author_jump_url_and_place(client: discord.Client) -> None:
    msg = message(client, THREAD, "where is my parcel?")
    inbound = to_inbound("discord", msg, "card-7")
    assert inbound.external_id == str(msg.id)
    assert inbound.thread_id == "card-7"
    assert inbound.text == "where is my parcel?"
    assert inbound.author.name == "Anna" and inbound.author.handle == "anna" and inbound.author.id == str(ANNA)
    assert inbound.url == f"https://discord.com/channels/{GUILD}/{THREAD}/{msg.id}"
    assert inbound.context is not None and inbound.context.text == "#general › help"
    assert inbound.channel_name == f"Server {GUILD}"
    assert inbound.extra["channel_id"] == str(THREAD)
    assert inbound.extra["watched_channel_id"] == str(GENERAL)
    assert not inbound.from_account


def test_attachments_are_listed_in_the_text(client: discord.Client) -> None:
    files = [
        {"id": str(i), "filename": f"photo{i}.png", "size": 3, "url": f"https://cdn.example/{i}.png"}
        | {"proxy_url": f"https://media.example/{i}.png"}
        for i in range(MAX_ATTACHMENTS_LISTED + 2)
    ]
    inbound = to_inbound("discord", message(client, GENERAL, "broken", attachments=files), "t")
    lines = inbound.text.splitlines()
    assert lines[0] == "broken"
    assert lines[1] == "[attachment: photo0.png https://cdn.example/0.png]"
    assert lines[-1] == "[2 more attachments]"
    assert len(lines) == 1 + MAX_ATTACHMENTS_LISTED + 1


def test_characters_no_database_stores_are_replaced_in_every_stored_text(client: discord.Client) -> None:
    # JSON may carry a lone surrogate ("\\ud800") or U+0000 in any string Discord relays; stored as
    # is, the message fails on every try.
    bad = "\ud800\x00"
    channel = client.get_channel(THREAD)
    assert isinstance(channel, discord.Thread)
    channel.name = f"help{bad}"
    guild = channel.guild
    guild.name = f"Server{bad}"
    author = _user(ANNA, f"anna{bad}") | {"global_name": f"Anna{bad}"}
    files = [
        {"id": "1", "filename": f"photo{bad}.png", "size": 3, "url": "https://cdn.example/1.png"}
        | {"proxy_url": "https://media.example/1.png"}
    ]
    msg = message(client, THREAD, f"text{bad}", author=author, attachments=files, edited=True)
    inbound = to_inbound("discord", msg, "t")
    assert inbound.text == "text\ufffd\ufffd\n[attachment: photo\ufffd\ufffd.png https://cdn.example/1.png]"
    assert inbound.author.name == "Anna\ufffd\ufffd" and inbound.author.handle == "anna\ufffd\ufffd"
    assert inbound.channel_name == "Server\ufffd\ufffd"
    assert inbound.context is not None and inbound.context.text == "#general › help\ufffd\ufffd"
    assert to_edit("discord", msg).text == inbound.text
    assert storable("fine ✓") == "fine ✓"


def test_a_message_without_text_says_so(client: discord.Client) -> None:
    assert to_inbound("discord", message(client, GENERAL, "  \u200b "), "t").text == NO_TEXT


def test_an_edit_carries_the_new_text(client: discord.Client) -> None:
    edited = to_edit("discord", message(client, GENERAL, "now with details", edited=True))
    assert edited.text == "now with details" and edited.edited_at is not None


@given(st.text(max_size=300))
def test_the_text_is_never_empty_and_keeps_what_the_customer_wrote(content: str) -> None:
    text = message_text(content, [], [])
    assert text
    assert text in (NO_TEXT, storable(content))
