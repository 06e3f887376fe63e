"""Catching up after a reconnect: messages written in watched channels while the bot was away.

discord.py reconnects the gateway by itself, but events sent while it was away are lost when the
session cannot be resumed (and the whole process may have been down). So the plugin keeps, per
channel and thread, the id of the newest message it stored (:class:`Positions`, in ``ctx.state``),
and on every ready or resume reads ``channel.history(after=position)`` oldest first. The position
moves only after a message is stored; live messages and the catch-up may overlap, because the core
stores each message id once. While a channel's reading is unfinished (running, stopped at the
limit, a page failed) live messages do not move its position, so the next pass goes on from where
this one stopped. Threads archived while the bot was away are found through the channel's list of
archived threads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import discord

from chatops.sources import SourceState

from .messages import is_watched

log = logging.getLogger(__name__)

#: Takes one message from Discord: ingests it when it is a watched customer's, then moves the position.
Take = Callable[[discord.Message], Awaitable[None]]


#: ``ctx.state`` key of the moment the bot first watched (a Discord id made from the time).
SINCE_KEY = "watching_since"


#: How far past now a stored id may lie (clocks differ) before it counts as from the future.
FUTURE_MARGIN = timedelta(hours=1)


def snowflake_or_none(raw: str) -> int | None:
    """``raw`` as a Discord id, or None when it is not a plain decimal id of a moment before now + a margin.

    ``str.isdigit`` is not enough: "²" passes it and fails ``int``. An id in the future (its time part
    after now) is as unusable: reading history after it returns nothing, and it never moves forward.
    """
    if not raw or not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    if value > discord.utils.time_snowflake(datetime.now(UTC) + FUTURE_MARGIN, high=True):
        return None
    return value


def position_key(channel_id: int) -> str:
    """The ``ctx.state`` key of a channel's (or thread's) position."""
    return f"position:{channel_id}"


def threads_checked_key(channel_id: int) -> str:
    """The ``ctx.state`` key of the moment (a Discord id) up to which a channel's archived threads were read."""
    return f"threads_checked:{channel_id}"


class Positions:
    """The newest stored message id per channel or thread, kept in ``ctx.state``; it only moves forward."""

    def __init__(self, state: SourceState) -> None:
        self._state = state
        self._known: dict[int, int] = {}
        #: Held channels, each with the number of the hold that holds it (see :meth:`release`).
        self._held: dict[int, int] = {}
        self._holds = 0
        self._logged_bad: set[int] = set()
        # Live messages and the catch-up move positions concurrently: one writer at a time, so an
        # older id written late never overwrites a newer one.
        self._lock = asyncio.Lock()

    async def get(self, channel_id: int) -> int | None:
        """The stored position of ``channel_id``, or None when there is none that can be used.

        A stored value that is not a Discord id (garbage, or an id from the future, which no history
        read would ever get past) counts as none: the catch-up then starts from ``watching_since``
        instead of stopping for good. It is logged once per channel.
        """
        if channel_id in self._known:
            return self._known[channel_id]
        raw = await self._state.get(position_key(channel_id))
        if raw is None:
            return None
        position = snowflake_or_none(raw)
        if position is None:
            if channel_id not in self._logged_bad:
                self._logged_bad.add(channel_id)
                log.warning(
                    "discord: the stored position of channel %s (%r) is not a Discord message id of the past; "
                    "catching up from when the bot started watching",
                    channel_id,
                    raw[:40],
                )
            return None
        self._known[channel_id] = position
        return position

    async def advance(self, channel_id: int, message_id: int, *, catching_up: bool = False) -> None:
        """Move ``channel_id``'s position to ``message_id`` if that is newer (Discord ids grow with time).

        While the channel is held (a live message failed to store) only the catch-up moves it.
        """
        if channel_id in self._held and not catching_up:
            return
        async with self._lock:
            current = await self.get(channel_id)
            if current is not None and current >= message_id:
                return
            await self._state.set(position_key(channel_id), str(message_id))
            self._known[channel_id] = message_id

    def hold(self, channel_id: int) -> int:
        """Keep live messages from moving the position until a catch-up has read this channel to its end.

        Held while a catch-up reads the channel (a live message must not move the position past
        messages not read yet: if the reading stops, the next catch-up starts from the position),
        while it is incomplete (the limit reached, a page failed) and after a live message failed to
        store. Returns the number of this hold, for :meth:`release`.
        """
        self._holds += 1
        self._held[channel_id] = self._holds
        return self._holds

    def release(self, channel_id: int, hold: int | None = None) -> None:
        """The catch-up has read the channel to its end: live messages move its position again.

        With ``hold``, only if no later hold came meanwhile (a live message failing to store while
        the catch-up read must stay held until a catch-up reads after it).
        """
        if hold is None or self._held.get(channel_id) == hold:
            self._held.pop(channel_id, None)

    def is_held(self, channel_id: int) -> bool:
        """Whether live messages are kept from moving ``channel_id``'s position."""
        return channel_id in self._held

    async def watching_since(self) -> int:
        """The moment (as a Discord id) the bot first watched; stored the first time it is asked."""
        raw = await self._state.get(SINCE_KEY)
        since = snowflake_or_none(raw) if raw is not None else None
        if since is not None:
            return since
        since = discord.utils.time_snowflake(datetime.now(UTC))
        await self._state.set(SINCE_KEY, str(since))
        return since

    async def threads_checked(self, channel_id: int) -> int | None:
        """The moment (a Discord id) before which every thread archived under ``channel_id`` was read, if known."""
        raw = await self._state.get(threads_checked_key(channel_id))
        return snowflake_or_none(raw) if raw is not None else None

    async def set_threads_checked(self, channel_id: int, moment: int) -> None:
        """Every thread archived under ``channel_id`` before ``moment`` has been read to its end."""
        await self._state.set(threads_checked_key(channel_id), str(moment))

    def forget_cache(self) -> None:
        """Read positions from the database again (after a failed write left memory unsure)."""
        self._known.clear()


def watched_places(
    guilds: Collection[discord.Guild], guild_ids: Collection[str], channel_ids: Collection[str]
) -> Iterator[Any]:
    """Every watched text channel, then every active thread under a watched channel."""
    for guild in guilds:
        for channel in guild.text_channels:
            if is_watched(channel, guild_ids, channel_ids):
                yield channel
    for guild in guilds:
        for thread in guild.threads:
            if is_watched(thread, guild_ids, channel_ids):
                yield thread


async def archived_threads_to_read(channel: discord.TextChannel, positions: Positions, since: int) -> list[Any]:
    """The archived threads of ``channel`` that may hold messages written after their position.

    Discord archives a thread after a while without messages, and READY names only active threads:
    a thread that got messages while the bot was away and was archived before it came back is found
    only here. Threads come newest archived first; the listing stops at the moment up to which the
    archived threads were read before (see :func:`catch_up`; without one, when the bot began to
    watch). A thread is read when its newest message is after its position (its own, else its
    channel's, else ``since``).
    """
    checked = await positions.threads_checked(channel.id)
    if checked is None:
        checked = since
    # Clocks differ: look a margin further back than the moment recorded.
    stop = discord.utils.snowflake_time(checked) - FUTURE_MARGIN
    parent = await positions.get(channel.id)
    found = []
    async for thread in channel.archived_threads(limit=None):
        archived_at = thread.archive_timestamp
        if archived_at is not None and archived_at < stop:
            break
        after = await positions.get(thread.id)
        if after is None:
            after = parent if parent is not None else since
        if thread.last_message_id is not None and thread.last_message_id > after:
            found.append(thread)
    return found


async def catch_up_place(
    place: Any, positions: Positions, take: Take, limit: int, since: int, *, fresh_cache: bool = False
) -> int:
    """Read and take what was written in one channel or thread after its position; how many were read.

    A place without a position of its own is read from its parent's (a thread), else from ``since``,
    the moment the bot first watched: Discord ids grow with time, so that covers a channel or
    thread created while the bot was away without importing older history. With ``fresh_cache``
    (just after READY, whose server data names each channel's newest message), a place whose newest
    message is not after the position is not asked at all; after a resume that data may be stale.
    """
    after = await positions.get(place.id)
    if after is None and isinstance(place, discord.Thread):
        after = await positions.get(place.parent_id)
    if after is None:
        after = since
    last = getattr(place, "last_message_id", None)
    if fresh_cache and (last is None or last <= after):
        positions.release(place.id)
        return 0
    # Until this reading has reached the end, live messages must not move the position past what is
    # still unread: if it stops (a failed page, the limit), the next catch-up starts from the position.
    hold = positions.hold(place.id)
    read = 0
    async for message in place.history(after=discord.Object(id=after), oldest_first=True, limit=limit):
        read += 1
        await take(message)
        # Every message read moves the position, also those not taken (the bot's own, other bots'):
        # they need not be read again.
        await positions.advance(place.id, message.id, catching_up=True)
    if read >= limit:
        log.warning(
            "discord catch-up: read the %d oldest missed messages in %s (plugins.discord.catch_up_limit); "
            "the next catch-up goes on from there",
            read,
            place,
        )
        return read  # still held: the rest is unread
    positions.release(place.id, hold)
    return read


@dataclass(frozen=True, slots=True)
class CatchUpResult:
    """What one catch-up pass did: messages read, channels whose reading failed (tried again later), and
    channels where it stopped at the limit (the next pass goes on from there)."""

    read: int = 0
    failed: int = 0
    unfinished: frozenset[int] = frozenset()


async def catch_up(
    guilds: Collection[discord.Guild],
    guild_ids: Collection[str],
    channel_ids: Collection[str],
    positions: Positions,
    take: Take,
    limit: int,
    since: int,
    *,
    fresh_cache: bool = False,
) -> CatchUpResult:
    """Catch up on every watched channel and active thread.

    A channel the bot may not read (no Read Message History) or a failed read is logged and skipped,
    so one channel never keeps the others from catching up; its position stays for the next time.
    """
    read = failed = 0
    unfinished: set[int] = set()
    if limit <= 0:
        return CatchUpResult()  # catch_up_limit = 0 turns catching up off
    # Threads archived from now on are read by the next pass: recorded only for channels all read.
    started = discord.utils.time_snowflake(datetime.now(UTC))
    places = list(watched_places(guilds, guild_ids, channel_ids))
    done: set[int] = set()
    incomplete: set[int] = set()  # watched channels with a place not read to its end in this pass

    async def read_place(place: Any, *, fresh: bool) -> None:
        nonlocal read, failed
        done.add(place.id)
        channel_id = getattr(place, "parent_id", None) or place.id
        try:
            count = await catch_up_place(place, positions, take, limit, since, fresh_cache=fresh)
            read += count
            if count >= limit:
                unfinished.add(place.id)
                incomplete.add(channel_id)
        except discord.Forbidden:
            # Not retried: only an admin granting the permission changes this. Nothing can be read,
            # so holding the position back would keep nothing safe.
            positions.release(place.id)
            log.warning("discord catch-up: the bot may not read the history of %s (Read Message History)", place)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            failed += 1
            incomplete.add(channel_id)
            positions.forget_cache()
            log.warning("discord catch-up of %s stopped: %s: %s", place, type(exc).__name__, exc)

    for place in places:
        await read_place(place, fresh=fresh_cache)
    for channel in [place for place in places if isinstance(place, discord.TextChannel)]:
        try:
            archived = await archived_threads_to_read(channel, positions, since)
        except discord.Forbidden:
            continue  # no Read Message History: said above for the channel itself
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            failed += 1
            log.warning(
                "discord catch-up: listing the archived threads of %s failed: %s: %s", channel, type(exc).__name__, exc
            )
            continue
        for thread in archived:
            if thread.id not in done:
                await read_place(thread, fresh=False)  # not in READY's data: ask
        if channel.id not in incomplete and not any(
            positions.is_held(p.id) for p in places if getattr(p, "parent_id", None) == channel.id
        ):
            try:
                await positions.set_threads_checked(channel.id, started)
            except Exception as exc:  # read again next time: costs a listing, loses nothing
                log.warning("discord catch-up: could not record the archived threads of %s as read: %s", channel, exc)
    return CatchUpResult(read, failed, frozenset(unfinished))
