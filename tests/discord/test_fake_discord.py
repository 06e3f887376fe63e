"""The Discord fake against the real discord.py: what a plugin author relies on when testing with it.

A plain ``discord.Client`` logs in, connects to the fake's gateway, sees the server, reads and
writes messages, and is disconnected, resumed and refused the way Discord would. The raw gateway
and HTTP rules are in test_fake_discord_protocol.py.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import discord
import pytest
from discord_world import (
    AINO,
    APP_ID,
    BOT_ID,
    BOT_NAME,
    EERO,
    FEEDBACK,
    GUILD,
    GUILD_NAME,
    OFFTOPIC,
    SUPPORT,
    THREAD,
    THREAD_NAME,
    TOKEN,
    Discord,
)

from chatops.testing.bot import TestBot
from chatops_plugins.discord.testing import FakeDiscord, point_discord_at


class Recorder(discord.Client):
    """A plain discord.py client that keeps what it was told."""

    def __init__(self, intents: discord.Intents | None = None, **options: Any) -> None:
        if intents is None:
            intents = discord.Intents.default()
            intents.message_content = True
        # discord.py waits this long after the last GUILD_CREATE before on_ready (2 s by default).
        super().__init__(intents=intents, guild_ready_timeout=0.05, **options)
        self.messages: list[discord.Message] = []
        self.deleted: list[discord.RawMessageDeleteEvent] = []
        self.edited: list[discord.RawMessageUpdateEvent] = []
        self.purged: list[discord.RawBulkMessageDeleteEvent] = []
        self.joined: list[discord.Guild] = []
        self.readies = 0
        self.resumes = 0

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Identify again at once: discord.py waits 5 s before every IDENTIFY but the first (Discord's pace)."""

    async def on_ready(self) -> None:
        self.readies += 1

    async def on_resumed(self) -> None:
        self.resumes += 1

    async def on_message(self, message: discord.Message) -> None:
        self.messages.append(message)

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        self.deleted.append(payload)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        self.edited.append(payload)

    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        self.purged.append(payload)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        self.joined.append(guild)

    def said(self, text: str) -> discord.Message | None:
        """The message received with exactly ``text``, if any."""
        return next((m for m in self.messages if m.content == text), None)


Start = Callable[..., Awaitable[Recorder]]


@pytest.fixture
async def start(discord_fake: FakeDiscord) -> AsyncIterator[Start]:
    """Start Recorder clients against the fake (pointed process-wide, restored after); close them at the end."""
    running: list[tuple[Recorder, asyncio.Task[None]]] = []

    async def starter(token: str = TOKEN, *, wait: bool = True, **options: Any) -> Recorder:
        client = Recorder(**options)
        task = asyncio.create_task(client.start(token))
        running.append((client, task))
        if wait:
            ready = asyncio.ensure_future(client.wait_until_ready())
            done, _ = await asyncio.wait({ready, task}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
            if ready not in done:
                ready.cancel()
                if task.done():
                    task.result()  # the client's own error
                raise AssertionError("the client did not get ready")
            # On a slow machine GUILD_CREATE may land after the short guild_ready_timeout: wait for it too.
            await discord_fake.wait_for(lambda: client.get_guild(int(GUILD)), what="the server in the cache")
        return client

    with point_discord_at(discord_fake):
        yield starter
        for client, task in running:
            await client.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 10)


async def failure_of(task: asyncio.Task[None]) -> BaseException:
    """Wait for a client's start() task to end; return what it raised."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(asyncio.shield(task), 10)
    assert task.done(), "the client kept running"
    error = task.exception()
    assert error is not None, "the client ended without an error"
    return error


# -- login and READY ----------------------------------------------------------------------------------


async def test_login_and_ready(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()

    assert client.user is not None and str(client.user.id) == BOT_ID and client.user.name == BOT_NAME
    assert client.user.bot
    assert str(client.application_id) == APP_ID
    called = [(c.method, c.path) for c in discord_fake.requests]
    assert ("GET", "/users/@me") in called and ("GET", "/oauth2/applications/@me") in called
    [connection] = discord_fake.connections
    assert connection.kind == "identify" and connection.ready and connection.open
    assert connection.query["v"] == "10" and connection.query["encoding"] == "json"
    assert connection.intents == client.intents.value
    assert discord_fake.identify_count == 1 and discord_fake.resume_count == 0


async def test_server_channels_and_threads_are_visible(start: Start) -> None:
    client = await start()

    guild = client.get_guild(int(GUILD))
    assert guild is not None and guild.name == GUILD_NAME
    assert [c.name for c in guild.text_channels] == ["support", "feedback", "off-topic"]
    thread = guild.get_thread(int(THREAD))
    assert thread is not None and thread.name == THREAD_NAME and thread.parent_id == int(SUPPORT)
    assert guild.me is not None and str(guild.me.id) == BOT_ID
    assert guild.owner_id != int(BOT_ID)
    support = guild.get_channel(int(SUPPORT))
    assert isinstance(support, discord.TextChannel)
    mine = support.permissions_for(guild.me)
    assert mine.view_channel and mine.send_messages and mine.read_message_history
    assert not mine.manage_messages


async def test_a_sharded_client_asks_for_the_gateway_and_connects(discord_fake: FakeDiscord) -> None:
    intents = discord.Intents.default()
    intents.message_content = True
    client = discord.AutoShardedClient(intents=intents, guild_ready_timeout=0.05)
    with point_discord_at(discord_fake):
        task = asyncio.create_task(client.start(TOKEN))
        try:
            await discord_fake.wait_for(lambda: client.is_ready() or task.done(), what="the sharded client")
            assert client.is_ready(), task
            assert client.shard_count == 1 and client.get_guild(int(GUILD)) is not None
            assert ("GET", "/gateway/bot") in [(c.method, c.path) for c in discord_fake.requests]
        finally:
            await client.close()
            await asyncio.wait_for(task, 10)


async def test_fetch_channel_over_http(start: Start) -> None:
    client = await start()

    thread = await client.fetch_channel(int(THREAD))
    assert isinstance(thread, discord.Thread) and thread.parent_id == int(SUPPORT)
    with pytest.raises(discord.NotFound) as unknown:
        await client.fetch_channel(1234)
    assert unknown.value.code == 10003


async def test_permissions_follow_the_channel_overwrite(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()
    guild = client.get_guild(int(GUILD))
    assert guild is not None

    discord_fake.set_bot_permissions(SUPPORT, manage_messages=True)
    discord_fake.set_bot_permissions(OFFTOPIC, view_channel=False)

    def can_manage(channel_id: str) -> bool:
        channel = guild.get_channel_or_thread(int(channel_id))
        assert channel is not None
        return channel.permissions_for(guild.me).manage_messages

    await discord_fake.wait_for(lambda: can_manage(SUPPORT), what="CHANNEL_UPDATE with the overwrite")
    assert can_manage(THREAD), "a thread takes its parent's permissions"
    assert not can_manage(FEEDBACK)
    # The HTTP side resolves the same bits as discord.py.
    offtopic = guild.get_channel(int(OFFTOPIC))
    assert offtopic is not None
    await discord_fake.wait_for(lambda: not offtopic.permissions_for(guild.me).view_channel, what="the view overwrite")
    for channel_id in (SUPPORT, FEEDBACK, THREAD, OFFTOPIC):
        channel = guild.get_channel_or_thread(int(channel_id))
        assert channel is not None
        assert channel.permissions_for(guild.me).value == discord_fake.bot_permissions(channel_id)


async def test_a_silent_permission_change_reaches_only_the_http_side(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()
    discord_fake.set_bot_permissions(SUPPORT, manage_messages=True)
    discord_fake.post(SUPPORT, AINO[0], "delete me")
    await discord_fake.wait_for(lambda: client.messages, what="the message")
    guild = client.get_guild(int(GUILD))
    assert guild is not None

    discord_fake.set_bot_permissions(SUPPORT, dispatch=False)  # the overwrite removed, no CHANNEL_UPDATE

    assert client.messages[0].channel.permissions_for(guild.me).manage_messages, "the client's cache is stale"
    with pytest.raises(discord.Forbidden):
        await client.messages[0].delete()


def test_threads_have_no_overwrites_of_their_own(discord_fake: FakeDiscord) -> None:
    with pytest.raises(ValueError, match="thread"):
        discord_fake.set_bot_permissions(THREAD, manage_messages=True)


# -- messages in ------------------------------------------------------------------------------------------


async def test_on_message_gets_channel_thread_and_reply_messages(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()

    first = discord_fake.post(SUPPORT, AINO[0], "Where is my order?")
    in_thread = discord_fake.post(THREAD, EERO[0], "Mine too")
    reply = discord_fake.post(SUPPORT, EERO[0], "Same here", reply_to=first["id"])
    await discord_fake.wait_for(lambda: len(client.messages) == 3, what="three MESSAGE_CREATEs")

    got = {str(m.id): m for m in client.messages}
    message = got[first["id"]]
    assert message.content == "Where is my order?" and str(message.author.id) == AINO[0]
    assert isinstance(message.author, discord.Member) and message.author.display_name == AINO[1]
    assert message.channel.id == int(SUPPORT) and message.guild is not None and message.guild.id == int(GUILD)
    assert message.jump_url == f"https://discord.com/channels/{GUILD}/{SUPPORT}/{first['id']}"
    threaded = got[in_thread["id"]]
    assert isinstance(threaded.channel, discord.Thread) and threaded.channel.parent_id == int(SUPPORT)
    replied = got[reply["id"]]
    assert replied.type is discord.MessageType.reply
    assert replied.reference is not None and str(replied.reference.message_id) == first["id"]
    assert isinstance(replied.reference.resolved, discord.Message)
    assert replied.reference.resolved.content == "Where is my order?"


async def test_attachments_stickers_and_embeds(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()

    discord_fake.post(
        SUPPORT,
        AINO[0],
        "",
        attachments=["receipt.pdf", "photo.jpg"],
        stickers=["wave"],
        embeds=[{"type": "rich", "title": "Order 1234"}],
    )
    await discord_fake.wait_for(lambda: client.messages, what="the message")

    [message] = client.messages
    assert message.content == ""
    assert [(a.filename, a.content_type) for a in message.attachments] == [
        ("receipt.pdf", "application/pdf"),
        ("photo.jpg", "image/jpeg"),
    ]
    assert [s.name for s in message.stickers] == ["wave"]
    assert [e.title for e in message.embeds] == ["Order 1234"]


async def test_a_webhook_message(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()

    discord_fake.post_webhook(SUPPORT, "700000000000000007", "Order Notifier", "Order 1234 shipped")
    await discord_fake.wait_for(lambda: client.messages, what="the webhook's message")

    [message] = client.messages
    assert message.webhook_id == 700000000000000007 and message.author.bot
    assert message.author.name == "Order Notifier" and not isinstance(message.author, discord.Member)


async def test_message_ids_sort_in_posting_order(discord_fake: FakeDiscord) -> None:
    ids = [int(discord_fake.post(SUPPORT, AINO[0], f"m{i}", dispatch=False)["id"]) for i in range(50)]
    assert ids == sorted(ids) and len(set(ids)) == 50


async def test_a_thread_started_from_a_message_shares_its_id(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()
    starter = discord_fake.post(SUPPORT, AINO[0], "My parcel is lost", dispatch=False)

    discord_fake.add_thread(SUPPORT, starter["id"], "Lost parcel")
    await discord_fake.wait_for(lambda: client.get_channel(int(starter["id"])), what="THREAD_CREATE")
    in_thread = discord_fake.post(starter["id"], EERO[0], "Which parcel?")
    await discord_fake.wait_for(lambda: client.said("Which parcel?"), what="the thread message")

    message = client.said("Which parcel?")
    assert message is not None and isinstance(message.channel, discord.Thread)
    assert message.channel.id == int(starter["id"]) and message.channel.parent_id == int(SUPPORT)
    assert str(message.id) == in_thread["id"]
    assert discord_fake.message(starter["id"])["thread"]["id"] == starter["id"]  # type: ignore[index]


async def test_a_purge_arrives_as_one_bulk_delete(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()
    ids = [discord_fake.post(SUPPORT, AINO[0], f"spam {i}", dispatch=False)["id"] for i in range(3)]

    discord_fake.delete_bulk(SUPPORT, ids[:2])
    await discord_fake.wait_for(lambda: client.purged, what="MESSAGE_DELETE_BULK")

    assert client.purged[0].message_ids == {int(i) for i in ids[:2]}
    assert [m["id"] for m in discord_fake.messages(SUPPORT)] == [ids[2]]


async def test_joining_a_server_while_connected(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()

    discord_fake.add_guild("100000000000000999", "Second Shop")
    discord_fake.add_channel("100000000000000999", "200000000000000999", "help")
    await discord_fake.wait_for(lambda: client.get_channel(200000000000000999), what="GUILD_CREATE and CHANNEL_CREATE")

    assert [g.name for g in client.joined] == ["Second Shop"]


async def test_archived_threads(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()
    guild = client.get_guild(int(GUILD))
    assert guild is not None

    discord_fake.archive_thread(THREAD)
    # discord.py drops an archived thread from its cache on THREAD_UPDATE.
    await discord_fake.wait_for(lambda: guild.get_thread(int(THREAD)) is None, what="THREAD_UPDATE")
    support = guild.get_channel(int(SUPPORT))
    assert isinstance(support, discord.TextChannel)
    assert [t.id async for t in support.archived_threads()] == [int(THREAD)]

    # A message brings an archived thread back; a locked one refuses the bot.
    discord_fake.post(THREAD, AINO[0], "Still waiting")
    await discord_fake.wait_for(lambda: guild.get_thread(int(THREAD)), what="the thread back in the cache")
    discord_fake.archive_thread(THREAD, locked=True)
    thread = await client.fetch_channel(int(THREAD))
    assert isinstance(thread, discord.Thread) and thread.archived and thread.locked
    with pytest.raises(discord.HTTPException) as refused:
        await thread.send("We are on it")
    assert refused.value.status == 400 and refused.value.code == 50083
    discord_fake.archive_thread(THREAD, archived=True, locked=False)
    await thread.send("We are on it")
    assert not discord_fake.world.channel(THREAD).archived and len(discord_fake.sent) == 1


async def test_edits_and_deletes_arrive(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()
    message = discord_fake.post(SUPPORT, AINO[0], "Where is my ordr?")

    discord_fake.edit(SUPPORT, message["id"], "Where is my order?")
    discord_fake.delete(SUPPORT, message["id"])
    await discord_fake.wait_for(lambda: client.edited and client.deleted, what="MESSAGE_UPDATE and MESSAGE_DELETE")

    assert client.edited[0].message_id == int(message["id"])
    assert client.edited[0].data["content"] == "Where is my order?"
    assert client.deleted[0].message_id == int(message["id"]) and client.deleted[0].channel_id == int(SUPPORT)
    assert discord_fake.message(message["id"]) is None


async def test_without_the_message_content_intent_content_is_blank(discord_fake: FakeDiscord, start: Start) -> None:
    intents = discord.Intents.default()
    intents.message_content = False
    client = await start(intents=intents)

    discord_fake.post(SUPPORT, AINO[0], "You cannot read me", attachments=["secret.png"])
    discord_fake.post(SUPPORT, AINO[0], f"<@{BOT_ID}> but you can read me")
    await discord_fake.wait_for(lambda: len(client.messages) == 2, what="two messages")

    assert [m.content for m in client.messages] == ["", f"<@{BOT_ID}> but you can read me"]
    assert client.messages[0].attachments == []


async def test_no_messages_from_a_channel_the_bot_cannot_see(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()
    discord_fake.set_bot_permissions(OFFTOPIC, view_channel=False)

    discord_fake.post(OFFTOPIC, AINO[0], "private chatter")
    discord_fake.post(SUPPORT, AINO[0], "visible")
    await discord_fake.wait_for(lambda: client.said("visible"), what="the visible message")

    assert [m.content for m in client.messages] == ["visible"]
    channel = client.get_channel(int(OFFTOPIC))
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.Forbidden) as refused:
        [m async for m in channel.history(limit=5)]
    assert refused.value.code == 50001


async def test_without_guild_messages_no_message_arrives(discord_fake: FakeDiscord, start: Start) -> None:
    intents = discord.Intents.none()
    intents.guilds = True
    client = await start(intents=intents)

    discord_fake.post(SUPPORT, AINO[0], "Anyone?")
    discord_fake.set_bot_permissions(SUPPORT, manage_messages=True)  # a later event that does arrive
    guild = client.get_guild(int(GUILD))
    assert guild is not None
    support = guild.get_channel(int(SUPPORT))
    assert support is not None
    await discord_fake.wait_for(lambda: support.permissions_for(guild.me).manage_messages, what="CHANNEL_UPDATE")
    assert client.messages == []


# -- messages out -----------------------------------------------------------------------------------------


async def test_reply_records_reference_and_mentions_off(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()
    posted = discord_fake.post(SUPPORT, AINO[0], f"Ask <@{EERO[0]}>, @everyone")
    await discord_fake.wait_for(lambda: client.messages, what="the customer's message")

    answer = await client.messages[0].reply(
        f"Thanks <@{AINO[0]}>, and <@{EERO[0]}> @everyone", allowed_mentions=discord.AllowedMentions.none()
    )

    [sent] = discord_fake.sent
    assert sent.channel_id == SUPPORT and sent.reply_to == posted["id"] and sent.message_id == str(answer.id)
    assert sent.allowed_mentions == {"parse": []}
    assert sent.pings == []
    assert answer.type is discord.MessageType.reply and answer.author.id == int(BOT_ID)
    # Discord sends the bot its own message on the gateway too.
    await discord_fake.wait_for(lambda: any(m.id == answer.id for m in client.messages), what="the bot's echo")


async def test_a_message_without_allowed_mentions_pings(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()
    posted = discord_fake.post(SUPPORT, AINO[0], "Hello?")
    await discord_fake.wait_for(lambda: client.messages, what="the customer's message")

    await client.messages[0].reply(f"Hi <@{EERO[0]}> @everyone")

    [sent] = discord_fake.sent
    assert sent.allowed_mentions is None
    assert sent.pings == [EERO[0], "@everyone", AINO[0]]
    assert sent.reply_to == posted["id"]


async def test_reply_to_a_deleted_message(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()
    discord_fake.post(SUPPORT, AINO[0], "Never mind")
    await discord_fake.wait_for(lambda: client.messages, what="the customer's message")
    message = client.messages[0]
    discord_fake.delete(SUPPORT, str(message.id))

    with pytest.raises(discord.HTTPException) as refused:
        await message.reply("Sorry?", allowed_mentions=discord.AllowedMentions.none())
    assert refused.value.status == 400 and refused.value.code == 50035
    assert "message_reference" in str(refused.value)
    assert discord_fake.sent == []

    quiet = await message.channel.send("Sorry?", reference=message.to_reference(fail_if_not_exists=False))
    assert quiet.reference is None and discord_fake.sent[0].reply_to == str(message.id)


@pytest.mark.parametrize(("length", "accepted"), [(2000, True), (2001, False)])
async def test_content_limit(discord_fake: FakeDiscord, start: Start, length: int, accepted: bool) -> None:
    client = await start()
    channel = client.get_channel(int(SUPPORT))
    assert isinstance(channel, discord.TextChannel)
    text = "é" * length  # characters, not bytes

    if accepted:
        sent = await channel.send(text)
        assert len(sent.content) == 2000 and len(discord_fake.sent) == 1
    else:
        with pytest.raises(discord.HTTPException) as refused:
            await channel.send(text)
        assert refused.value.status == 400 and refused.value.code == 50035
        assert "2000 or fewer" in str(refused.value)
        assert discord_fake.sent == [] and discord_fake.messages(SUPPORT) == []


async def test_send_needs_send_messages(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()
    discord_fake.set_bot_permissions(FEEDBACK, send_messages=False)
    channel = client.get_channel(int(FEEDBACK))
    assert isinstance(channel, discord.TextChannel)

    with pytest.raises(discord.Forbidden) as refused:
        await channel.send("Hello")
    assert refused.value.code == 50013


async def test_an_enforced_nonce_returns_the_earlier_message(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()
    channel = client.get_channel(int(SUPPORT))
    assert isinstance(channel, discord.TextChannel)

    first = await channel.send("Your refund is on its way", nonce="answer-17")
    again = await channel.send("Your refund is on its way", nonce="answer-17")
    other = await channel.send("Another answer", nonce="answer-18")

    assert again.id == first.id != other.id
    assert [s.message_id for s in discord_fake.sent] == [str(first.id), str(other.id)]
    assert [d.message_id for d in discord_fake.deduplicated] == [str(first.id)]
    assert [m["content"] for m in discord_fake.messages(SUPPORT)] == ["Your refund is on its way", "Another answer"]


async def test_a_lost_response_then_a_retry_with_the_nonce_sends_once(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()
    channel = client.get_channel(int(SUPPORT))
    assert isinstance(channel, discord.TextChannel)
    discord_fake.fail_next(503, message="upstream connect error", method="POST", after_processing=True)

    with pytest.raises(discord.DiscordServerError):
        await channel.send("Sorry for the wait", nonce="answer-5")
    assert len(discord_fake.sent) == 1, "the message went out although the client saw an error"
    retried = await channel.send("Sorry for the wait", nonce="answer-5")

    assert str(retried.id) == discord_fake.sent[0].message_id and len(discord_fake.sent) == 1
    assert len(discord_fake.messages(SUPPORT)) == 1


# -- history ----------------------------------------------------------------------------------------------


async def test_history_catches_up_after_a_position(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()
    seen = discord_fake.post(SUPPORT, AINO[0], "seen")
    missed = [discord_fake.post(SUPPORT, AINO[0], f"missed {i}", dispatch=False)["id"] for i in range(130)]
    channel = client.get_channel(int(SUPPORT))
    assert isinstance(channel, discord.TextChannel)

    found = [str(m.id) async for m in channel.history(after=discord.Object(int(seen["id"])), limit=None)]

    assert found == missed  # oldest first, every one, across two pages of at most 100
    pages = [c for c in discord_fake.requests if c.path == f"/channels/{SUPPORT}/messages" and c.method == "GET"]
    assert [c.query["limit"] for c in pages][:2] == ["100", "100"]
    newest = [m.content async for m in channel.history(limit=3)]
    assert newest == ["missed 129", "missed 128", "missed 127"]


async def test_history_in_a_thread_and_before(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()
    ids = [discord_fake.post(THREAD, AINO[0], f"t{i}", dispatch=False)["id"] for i in range(5)]
    thread = client.get_channel(int(THREAD))
    assert isinstance(thread, discord.Thread)

    older = [str(m.id) async for m in thread.history(before=discord.Object(int(ids[3])), limit=2)]

    assert older == [ids[2], ids[1]]
    fetched = await thread.fetch_message(int(ids[0]))
    assert fetched.content == "t0"


async def test_history_without_read_message_history_is_empty(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()
    discord_fake.post(FEEDBACK, AINO[0], "hidden from the bot's history", dispatch=False)
    discord_fake.set_bot_permissions(FEEDBACK, read_message_history=False)
    channel = client.get_channel(int(FEEDBACK))
    assert isinstance(channel, discord.TextChannel)

    assert [m async for m in channel.history(limit=10)] == []


# -- deleting -----------------------------------------------------------------------------------------------


async def test_delete_needs_manage_messages(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()
    discord_fake.post(SUPPORT, AINO[0], "Your coffee is awful")
    await discord_fake.wait_for(lambda: client.messages, what="the customer's message")
    message = client.messages[0]

    with pytest.raises(discord.Forbidden) as refused:
        await message.delete()
    assert refused.value.code == 50013 and discord_fake.deleted == []

    discord_fake.set_bot_permissions(SUPPORT, manage_messages=True)
    # Message.delete() takes no reason; the HTTP layer sends one as X-Audit-Log-Reason.
    await client.http.delete_message(message.channel.id, message.id, reason="hidden from the inbox")

    [deleted] = discord_fake.deleted
    assert deleted.message_id == str(message.id) and deleted.reason == "hidden from the inbox"
    assert discord_fake.message(str(message.id)) is None
    await discord_fake.wait_for(lambda: client.deleted, what="MESSAGE_DELETE")


async def test_the_bot_may_delete_its_own_message(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()
    channel = client.get_channel(int(SUPPORT))
    assert isinstance(channel, discord.TextChannel)
    mine = await channel.send("oops")

    await mine.delete()

    assert [d.message_id for d in discord_fake.deleted] == [str(mine.id)]


async def test_deleting_an_unknown_message(start: Start) -> None:
    client = await start()
    channel = client.get_channel(int(SUPPORT))
    assert isinstance(channel, discord.TextChannel)

    with pytest.raises(discord.NotFound) as unknown:
        await channel.get_partial_message(1234).delete()
    assert unknown.value.code == 10008


# -- reconnecting ---------------------------------------------------------------------------------------------


async def test_resume_replays_what_was_missed(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()

    with discord_fake.held_gateway():
        assert discord_fake.disconnect(4000) == 1
        await discord_fake.wait_for(lambda: not discord_fake.connections[0].open, what="the first connection to close")
        missed = discord_fake.post(SUPPORT, AINO[0], "written while the bot was away")
    resumed = await discord_fake.wait_ready(2)

    await discord_fake.wait_for(lambda: client.said("written while the bot was away"), what="the replayed message")
    assert resumed.kind == "resume" and resumed.path == "/resume-gateway" and resumed.replayed
    assert discord_fake.identify_count == 1 and discord_fake.resume_count == 1
    assert discord_fake.connections[0].close_code == 4000 and discord_fake.connections[0].closed_by == "server"
    await discord_fake.wait_for(lambda: client.resumes == 1, what="on_resumed")
    assert client.readies == 1
    assert [str(m.id) for m in client.messages] == [missed["id"]]


@pytest.mark.parametrize("code", [1001, 4000])
async def test_reconnect_codes_resume(discord_fake: FakeDiscord, start: Start, code: int) -> None:
    client = await start()

    discord_fake.disconnect(code)
    await discord_fake.wait_ready(2)
    discord_fake.post(SUPPORT, AINO[0], "after the reconnect")

    await discord_fake.wait_for(lambda: client.said("after the reconnect"), what="the live message")
    assert discord_fake.resume_count == 1 and discord_fake.identify_count == 1


async def test_a_zombie_connection_is_dropped_by_discord_py_and_resumed(
    discord_fake: FakeDiscord, start: Start
) -> None:
    discord_fake.heartbeat_interval_ms = 50
    await start(heartbeat_timeout=0.3)

    discord_fake.ack_heartbeats = False
    await discord_fake.wait_for(lambda: not discord_fake.connections[0].open, what="discord.py to give up on it")
    discord_fake.ack_heartbeats = True
    resumed = await discord_fake.wait_ready(2)

    first = discord_fake.connections[0]
    assert first.closed_by == "client" and first.heartbeats >= 2
    assert resumed.kind == "resume" and discord_fake.resume_count == 1


async def test_op_reconnect_resumes(discord_fake: FakeDiscord, start: Start) -> None:
    await start()

    assert discord_fake.request_reconnect() == 1
    connection = await discord_fake.wait_ready(2)

    assert connection.kind == "resume" and discord_fake.resume_count == 1


@pytest.mark.parametrize(("resumable", "kind"), [(True, "resume"), (False, "identify")])
async def test_invalid_session_op(discord_fake: FakeDiscord, start: Start, resumable: bool, kind: str) -> None:
    client = await start()

    assert discord_fake.invalidate_session(resumable=resumable) == 1
    connection = await discord_fake.wait_ready(2)

    assert connection.kind == kind
    await discord_fake.wait_for(lambda: client.readies == (1 if resumable else 2), what="the session back")


async def test_a_heartbeat_request_is_answered(discord_fake: FakeDiscord, start: Start) -> None:
    await start()
    [connection] = discord_fake.connections
    before = connection.heartbeats

    assert discord_fake.request_heartbeat() == 1

    await discord_fake.wait_for(lambda: connection.heartbeats > before, what="an immediate heartbeat")


async def test_an_ended_session_identifies_again_and_misses_events(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()
    seen = discord_fake.post(SUPPORT, AINO[0], "before")
    await discord_fake.wait_for(lambda: client.messages, what="the first message")

    with discord_fake.held_gateway():
        discord_fake.disconnect(4000, resumable=False)
        await discord_fake.wait_for(lambda: not discord_fake.connections[0].open, what="the first connection to close")
        missed = discord_fake.post(SUPPORT, AINO[0], "lost on the gateway")
    await discord_fake.wait_for(lambda: discord_fake.identify_count == 2, what="a second IDENTIFY")
    await discord_fake.wait_for(lambda: client.readies == 2, what="a second on_ready")

    kinds = [(c.kind, c.invalidated) for c in discord_fake.connections]
    assert kinds == [("identify", False), ("resume", True), ("identify", False)]
    assert client.said("lost on the gateway") is None
    channel = client.get_channel(int(SUPPORT))
    assert isinstance(channel, discord.TextChannel)
    caught_up = [str(m.id) async for m in channel.history(after=discord.Object(int(seen["id"])))]
    assert caught_up == [missed["id"]]


# -- refusals ----------------------------------------------------------------------------------------------------


async def test_a_bad_token_fails_login(discord_fake: FakeDiscord, start: Start) -> None:
    client = Recorder()
    with pytest.raises(discord.LoginFailure):
        await client.login("not-the-token")
    await client.close()
    assert discord_fake.connections == []
    assert [c.status for c in discord_fake.requests] == [401]


async def test_a_token_revoked_while_connected_closes_with_4004(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()
    discord_fake.token = "a-new-token"

    discord_fake.disconnect(4000)
    await discord_fake.wait_for(lambda: len(discord_fake.connections) == 2 and not discord_fake.open_connections())

    resumed = discord_fake.connections[1]
    assert resumed.close_code == 4004 and resumed.close_reason == "Authentication failed."
    await discord_fake.wait_for(client.is_closed, what="discord.py to give up")


async def test_message_content_intent_off_in_the_portal(discord_fake: FakeDiscord, start: Start) -> None:
    discord_fake.allow_message_content = False
    client = Recorder()
    task = asyncio.create_task(client.start(TOKEN))
    with point_discord_at(discord_fake):
        error = await failure_of(task)
    await client.close()

    assert isinstance(error, discord.PrivilegedIntentsRequired)
    [connection] = discord_fake.connections
    assert connection.close_code == 4014 and connection.close_reason == "Disallowed intent(s)."
    assert discord_fake.identify_count == 0


async def test_members_intent_needs_the_portal_switch(discord_fake: FakeDiscord, start: Start) -> None:
    intents = discord.Intents.default()
    intents.message_content = intents.members = True
    client = Recorder(intents=intents)
    task = asyncio.create_task(client.start(TOKEN))
    with point_discord_at(discord_fake):
        assert isinstance(await failure_of(task), discord.PrivilegedIntentsRequired)
    await client.close()

    discord_fake.allow_members_intent = True
    chunked = await start(intents=intents)
    guild = chunked.get_guild(int(GUILD))
    assert guild is not None and guild.chunked and guild.get_member(int(BOT_ID)) is not None


# -- HTTP rules ----------------------------------------------------------------------------------------------------


async def test_a_429_is_waited_out_by_discord_py(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()
    channel = client.get_channel(int(SUPPORT))
    assert isinstance(channel, discord.TextChannel)
    discord_fake.rate_limit_next(retry_after=0.05, method="POST", path=r"/messages$")

    await channel.send("after the wait")

    statuses = [c.status for c in discord_fake.requests if c.method == "POST"]
    assert statuses == [429, 200] and len(discord_fake.sent) == 1


async def test_a_long_429_fails_a_client_with_a_wait_limit(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start(max_ratelimit_timeout=1.0)
    channel = client.get_channel(int(SUPPORT))
    assert isinstance(channel, discord.TextChannel)
    discord_fake.rate_limit_next(retry_after=120.0, method="POST")

    with pytest.raises(discord.RateLimited) as limited:
        await channel.send("too soon")
    assert limited.value.retry_after == 120.0 and discord_fake.sent == []


async def test_scripted_failure(discord_fake: FakeDiscord, start: Start) -> None:
    client = await start()
    channel = client.get_channel(int(SUPPORT))
    assert isinstance(channel, discord.TextChannel)
    discord_fake.fail_next(403, code=50001, message="Missing Access", method="POST")

    with pytest.raises(discord.Forbidden) as refused:
        await channel.send("hello")
    assert refused.value.code == 50001
    assert (await channel.send("hello again")).content == "hello again"


def test_reset_forgets_the_world(discord_fake: FakeDiscord) -> None:
    discord_fake.post(SUPPORT, AINO[0], "hello", dispatch=False)
    discord_fake.allow_message_content = False

    discord_fake.reset()

    assert discord_fake.allow_message_content and discord_fake.world.guilds == {}
    with pytest.raises(KeyError):
        discord_fake.messages(SUPPORT)


# -- the bot fixture ------------------------------------------------------------------------------------------------


async def test_the_bot_fixture_runs_the_plugin_against_the_fake(
    discord_bot: TestBot, discord_world: Discord, discord_fake: FakeDiscord
) -> None:
    connection = await discord_world.connected()
    assert connection.kind == "identify" and discord_fake.identify_count == 1
    assert connection.intents is not None and connection.intents & (1 | 1 << 9 | 1 << 15) == (1 | 1 << 9 | 1 << 15)
    client = discord_world.source.client
    assert client is not None and client.user is not None and str(client.user.id) == BOT_ID

    discord_world.say("Where is my order?")
    card = await discord_bot.next_card()
    assert "Where is my order?" in card.text

    resumed = await discord_world.reconnect()
    discord_world.say("Still nothing", who=EERO, channel=FEEDBACK)
    await discord_fake.wait_for(lambda: len(discord_bot.cards()) == 2, what="a second card")
    assert resumed.kind == "resume" and await discord_world.stored_messages() == 2
