"""The world of :class:`~chatops_plugins.discord.testing.FakeDiscord`: users, servers, channels, messages.

It builds the JSON objects Discord's HTTP API and gateway hand out (users, members, roles, text
channels, public threads, messages) in the shapes discord.py 2.x parses, and resolves the bot's
permissions in a channel the way Discord does (``@everyone``, the bot's role, then the channel's
overwrites), so the HTTP side refuses what Discord would refuse and ``channel.permissions_for(me)``
in discord.py agrees with it.

Not thread-safe on its own: :class:`FakeDiscord` holds one lock around every use.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

#: Discord's epoch (2015-01-01) in milliseconds: a snowflake's top bits count from it.
DISCORD_EPOCH_MS = 1_420_070_400_000

# Permission bits (https://discord.com/developers/docs/topics/permissions).
CREATE_INSTANT_INVITE = 1 << 0
ADMINISTRATOR = 1 << 3
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
CREATE_PUBLIC_THREADS = 1 << 35
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 53) - 1
#: Every permission that applies in a channel: without View Channel, Discord denies all of these.
#: (The same set as discord.py's ``Permissions.all_channel()``.)
ALL_CHANNEL = 8555290110197585

#: What ``@everyone`` may do in a new server (a subset of Discord's defaults that matters here).
EVERYONE_DEFAULT = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)
#: What the bot's own role grants: what an invite with "Send Messages, Read Message History" asks.
BOT_ROLE_DEFAULT = VIEW_CHANNEL | SEND_MESSAGES | SEND_MESSAGES_IN_THREADS | READ_MESSAGE_HISTORY | EMBED_LINKS

#: Overwrite targets: a role or a member.
OVERWRITE_ROLE = 0
OVERWRITE_MEMBER = 1

# Channel and message types.
GUILD_TEXT = 0
PUBLIC_THREAD = 11
MESSAGE_DEFAULT = 0
MESSAGE_REPLY = 19
#: Message flag: a thread was started from this message.
HAS_THREAD = 1 << 5

_USER_MENTION = re.compile(r"<@!?([0-9]{1,20})>")
_ROLE_MENTION = re.compile(r"<@&([0-9]{1,20})>")


def iso(ms: int) -> str:
    """A Unix time in milliseconds as Discord's ISO 8601 timestamp (``2026-11-29T06:48:11.123000+00:00``)."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()


def snowflake_ms(snowflake: int) -> int:
    """The Unix time in milliseconds a snowflake was made at."""
    return (snowflake >> 22) + DISCORD_EPOCH_MS


class Snowflakes:
    """Fresh snowflakes, strictly increasing, with the current time in their top bits as Discord's are."""

    def __init__(self) -> None:
        self._last = 0
        self._counter = itertools.count()

    def next(self) -> int:
        """A snowflake later than every one made before (and than every one seen through :meth:`seen`)."""
        candidate = ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | (next(self._counter) & 0xFFF)
        self._last = max(self._last + 1, candidate)
        return self._last

    def seen(self, snowflake: int) -> None:
        """Note an id chosen by a test, so later fresh ids sort after it."""
        self._last = max(self._last, snowflake)


@dataclass
class Overwrite:
    """A channel permission overwrite for a role or a member."""

    id: str
    type: int
    allow: int = 0
    deny: int = 0

    def payload(self) -> dict[str, Any]:
        """The overwrite as Discord sends it (bit sets as strings)."""
        return {"id": self.id, "type": self.type, "allow": str(self.allow), "deny": str(self.deny)}


@dataclass
class Guild:
    """A server the bot is in."""

    id: str
    name: str
    owner_id: str
    bot_role_id: str
    everyone_permissions: int = EVERYONE_DEFAULT
    bot_role_permissions: int = BOT_ROLE_DEFAULT
    #: Member ids (the bot, the owner, and everyone who posted) with when they joined.
    members: dict[str, str] = field(default_factory=dict)
    joined_at: str = ""


@dataclass
class Channel:
    """A text channel, or a public thread under one (``parent_id`` set)."""

    id: str
    guild_id: str
    name: str
    type: int = GUILD_TEXT
    position: int = 0
    parent_id: str | None = None
    owner_id: str | None = None
    overwrites: list[Overwrite] = field(default_factory=list)
    archived: bool = False
    locked: bool = False
    created_ms: int = 0
    #: When the thread was last archived or unarchived (its creation until then).
    archive_changed_ms: int = 0
    #: Messages by id (as int, so sorting is Discord's order).
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    total_sent: int = 0

    @property
    def is_thread(self) -> bool:
        """A thread is a channel whose parent is a text channel."""
        return self.type == PUBLIC_THREAD


class World:
    """Everything the fake Discord knows, and the JSON it shows of it."""

    def __init__(self, *, bot_user_id: str, bot_name: str, application_id: str) -> None:
        self.ids = Snowflakes()
        self.bot_user_id = bot_user_id
        self.application_id = application_id
        self.users: dict[str, dict[str, Any]] = {}
        self.guilds: dict[str, Guild] = {}
        self.channels: dict[str, Channel] = {}
        self.user(bot_user_id, bot_name, bot=True)
        #: The application's owner (a person, not in any server unless a test adds them).
        self.owner_id = str(self.ids.next())
        self.user(self.owner_id, "App Owner")

    # -- users ------------------------------------------------------------------------------

    def user(self, user_id: str, name: str, *, bot: bool = False) -> dict[str, Any]:
        """Register (or rename) a user; return their user object."""
        user_id = _snowflake_str(user_id, "user")
        self.users[user_id] = {
            "id": user_id,
            "username": name,
            "global_name": None if bot else name,
            "discriminator": "0",
            "avatar": None,
            "bot": bot,
            "public_flags": 0,
        }
        return dict(self.users[user_id])

    def user_payload(self, user_id: str) -> dict[str, Any]:
        """The user object of ``user_id`` (a copy)."""
        return dict(self.users[user_id])

    def me_payload(self) -> dict[str, Any]:
        """The bot's own user, as ``GET /users/@me`` and READY show it."""
        return {**self.users[self.bot_user_id], "verified": True, "mfa_enabled": False, "flags": 0}

    # -- servers and channels ----------------------------------------------------------------

    def add_guild(self, guild_id: str, name: str) -> Guild:
        """A server with ``@everyone``, the bot's role, an owner (not the bot) and the bot as a member."""
        guild_id = _snowflake_str(guild_id, "guild")
        if guild_id in self.guilds:
            raise ValueError(f"guild {guild_id} exists already")
        owner = str(self.ids.next())
        self.user(owner, f"Owner of {name}")
        now = iso(int(time.time() * 1000))
        guild = Guild(id=guild_id, name=name, owner_id=owner, bot_role_id=str(self.ids.next()), joined_at=now)
        guild.members[self.bot_user_id] = now
        guild.members[owner] = now
        self.guilds[guild_id] = guild
        return guild

    def add_channel(self, guild_id: str, channel_id: str, name: str) -> Channel:
        """A text channel in ``guild_id``."""
        guild = self.guild(guild_id)
        channel_id = _snowflake_str(channel_id, "channel")
        self._free(channel_id)
        position = sum(1 for c in self.channels.values() if c.guild_id == guild.id and not c.is_thread)
        channel = Channel(
            id=channel_id, guild_id=guild.id, name=name, position=position, created_ms=int(time.time() * 1000)
        )
        self.ids.seen(int(channel_id))
        self.channels[channel_id] = channel
        return channel

    def add_thread(self, parent_id: str, thread_id: str, name: str, *, owner_id: str | None = None) -> Channel:
        """A public thread under text channel ``parent_id``; ``thread_id`` may be its starter message's id."""
        parent = self.channel(parent_id)
        if parent.is_thread:
            raise ValueError("threads cannot have threads: give a text channel as the parent")
        thread_id = _snowflake_str(thread_id, "thread")
        self._free(thread_id)
        starter = parent.messages.get(int(thread_id))
        owner = owner_id or (starter["author"]["id"] if starter else self.owner_of(parent.guild_id))
        thread = Channel(
            id=thread_id,
            guild_id=parent.guild_id,
            name=name,
            type=PUBLIC_THREAD,
            parent_id=parent.id,
            owner_id=owner,
            created_ms=int(time.time() * 1000),
        )
        self.ids.seen(int(thread_id))
        self.channels[thread_id] = thread
        if starter is not None:
            # Discord marks the starter message and links the thread from it.
            starter["flags"] = starter.get("flags", 0) | HAS_THREAD
        return thread

    def set_archived(self, thread_id: str, *, archived: bool, locked: bool) -> Channel:
        """Archive, lock, or bring back a thread."""
        thread = self.channel(thread_id)
        if not thread.is_thread:
            raise ValueError(f"{thread_id} is not a thread")
        thread.archived, thread.locked = archived, locked
        thread.archive_changed_ms = int(time.time() * 1000)
        return thread

    def owner_of(self, guild_id: str) -> str:
        """The server owner's user id."""
        return self.guild(guild_id).owner_id

    def guild(self, guild_id: str) -> Guild:
        """The server ``guild_id`` (KeyError names it when unknown)."""
        try:
            return self.guilds[str(guild_id)]
        except KeyError:
            raise KeyError(f"no guild {guild_id} in the fake") from None

    def channel(self, channel_id: str) -> Channel:
        """The channel or thread ``channel_id`` (KeyError names it when unknown)."""
        try:
            return self.channels[str(channel_id)]
        except KeyError:
            raise KeyError(f"no channel {channel_id} in the fake") from None

    def _free(self, channel_id: str) -> None:
        if channel_id in self.channels:
            raise ValueError(f"channel {channel_id} exists already")

    # -- permissions ------------------------------------------------------------------------------

    def set_member_overwrite(self, channel_id: str, user_id: str, *, allow: int = 0, deny: int = 0) -> Channel:
        """Replace ``user_id``'s overwrite on a text channel (threads take their parent's permissions)."""
        channel = self.channel(channel_id)
        if channel.is_thread:
            raise ValueError(
                f"{channel_id} is a thread: Discord threads have no overwrites of their own, set the parent's"
            )
        channel.overwrites = [o for o in channel.overwrites if not (o.type == OVERWRITE_MEMBER and o.id == user_id)]
        if allow or deny:
            channel.overwrites.append(Overwrite(id=user_id, type=OVERWRITE_MEMBER, allow=allow, deny=deny))
        return channel

    def permissions(self, channel_id: str, user_id: str | None = None) -> int:
        """What ``user_id`` (default: the bot) may do in ``channel_id``, resolved as Discord does."""
        user_id = user_id or self.bot_user_id
        channel = self.channel(channel_id)
        if channel.is_thread and channel.parent_id is not None:
            channel = self.channel(channel.parent_id)
        guild = self.guild(channel.guild_id)
        if user_id == guild.owner_id:
            return ALL_PERMISSIONS
        roles = [guild.bot_role_id] if user_id == self.bot_user_id else []
        base = guild.everyone_permissions | (guild.bot_role_permissions if roles else 0)
        if base & ADMINISTRATOR:
            return ALL_PERMISSIONS
        by_key = {(o.type, o.id): o for o in channel.overwrites}
        everyone = by_key.get((OVERWRITE_ROLE, guild.id))
        if everyone:
            base = (base & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for role_id in roles:
            role = by_key.get((OVERWRITE_ROLE, role_id))
            if role:
                allow |= role.allow
                deny |= role.deny
        base = (base & ~deny) | allow
        member = by_key.get((OVERWRITE_MEMBER, user_id))
        if member:
            base = (base & ~member.deny) | member.allow
        if not base & VIEW_CHANNEL:
            return base & ~ALL_CHANNEL
        return base

    # -- payloads ----------------------------------------------------------------------------------

    def role_payloads(self, guild: Guild) -> list[dict[str, Any]]:
        """``@everyone`` (id = the server's) and the bot's managed role."""
        common = {"color": 0, "colors": {"primary_color": 0}, "hoist": False, "icon": None, "unicode_emoji": None}
        return [
            {
                **common,
                "id": guild.id,
                "name": "@everyone",
                "position": 0,
                "permissions": str(guild.everyone_permissions),
                "managed": False,
                "mentionable": False,
                "flags": 0,
            },
            {
                **common,
                "id": guild.bot_role_id,
                "name": self.users[self.bot_user_id]["username"],
                "position": 1,
                "permissions": str(guild.bot_role_permissions),
                "managed": True,
                "mentionable": False,
                "flags": 0,
                "tags": {"bot_id": self.bot_user_id},
            },
        ]

    def member_payload(self, guild: Guild, user_id: str, *, with_user: bool = True) -> dict[str, Any]:
        """A member of ``guild`` (the bot carries its role)."""
        member: dict[str, Any] = {
            "roles": [guild.bot_role_id] if user_id == self.bot_user_id else [],
            "nick": None,
            "avatar": None,
            "joined_at": guild.members.get(user_id) or guild.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            member["user"] = self.user_payload(user_id)
        return member

    def channel_payload(self, channel: Channel) -> dict[str, Any]:
        """A text channel or thread as ``GET /channels/{id}`` and the gateway show it."""
        last = max(channel.messages) if channel.messages else None
        common: dict[str, Any] = {
            "id": channel.id,
            "type": channel.type,
            "guild_id": channel.guild_id,
            "name": channel.name,
            "last_message_id": str(last) if last is not None else None,
            "rate_limit_per_user": 0,
            "flags": 0,
        }
        if channel.is_thread:
            return {
                **common,
                "parent_id": channel.parent_id,
                "owner_id": channel.owner_id,
                "message_count": len(channel.messages),
                "member_count": 1,
                "total_message_sent": channel.total_sent,
                "thread_metadata": {
                    "archived": channel.archived,
                    "auto_archive_duration": 1440,
                    "archive_timestamp": iso(channel.archive_changed_ms or channel.created_ms),
                    "locked": channel.locked,
                    "create_timestamp": iso(channel.created_ms),
                },
            }
        return {
            **common,
            "position": channel.position,
            "parent_id": None,
            "topic": None,
            "nsfw": False,
            "permission_overwrites": [o.payload() for o in channel.overwrites],
            "default_auto_archive_duration": 1440,
        }

    def guild_payload(self, guild: Guild, *, all_members: bool) -> dict[str, Any]:
        """A GUILD_CREATE's data: roles, channels, active threads, and the bot's member (or every member)."""
        member_ids = list(guild.members) if all_members else [self.bot_user_id]
        channels = [c for c in self.channels.values() if c.guild_id == guild.id]
        return {
            "id": guild.id,
            "name": guild.name,
            "icon": None,
            "splash": None,
            "banner": None,
            "description": None,
            "owner_id": guild.owner_id,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "system_channel_id": None,
            "system_channel_flags": 0,
            "features": [],
            "roles": self.role_payloads(guild),
            "emojis": [],
            "stickers": [],
            "joined_at": guild.joined_at,
            "large": False,
            "unavailable": False,
            # member_count equal to the members sent: discord.py then sees the guild as chunked.
            "member_count": len(member_ids),
            "members": [self.member_payload(guild, uid) for uid in member_ids],
            "channels": [self.channel_payload(c) for c in channels if not c.is_thread],
            "threads": [self.channel_payload(c) for c in channels if c.is_thread and not c.archived],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    # -- messages ------------------------------------------------------------------------------------

    def add_message(
        self,
        channel_id: str,
        author_id: str,
        content: str,
        *,
        reply_to: str | None = None,
        message_id: str | None = None,
        extra: dict[str, Any] | None = None,
        webhook_name: str | None = None,
    ) -> dict[str, Any]:
        """Store a message as Discord would; return the stored object (REST shape, no ``guild_id``).

        With ``webhook_name`` the author is a webhook (``author_id`` is its id): a bot-flagged author
        who is no user and no member, and the message carries ``webhook_id``.
        """
        channel = self.channel(channel_id)
        guild = self.guild(channel.guild_id)
        if webhook_name is not None:
            author = {"id": author_id, "username": webhook_name, "avatar": None, "discriminator": "0000", "bot": True}
            extra = {**(extra or {}), "webhook_id": author_id}
        elif author_id not in self.users:
            raise KeyError(f"no user {author_id} in the fake: call user() first")
        else:
            author = self.user_payload(author_id)
            guild.members.setdefault(author_id, iso(int(time.time() * 1000)))
        if message_id is None:
            new_id = self.ids.next()
        else:
            new_id = int(_snowflake_str(message_id, "message"))
            if any(new_id in c.messages for c in self.channels.values()):
                raise ValueError(f"message {message_id} exists already")
            self.ids.seen(new_id)
        message: dict[str, Any] = {
            "id": str(new_id),
            "type": MESSAGE_DEFAULT,
            "channel_id": channel.id,
            "author": author,
            "content": content,
            "timestamp": iso(snowflake_ms(new_id)),
            "edited_timestamp": None,
            "tts": False,
            # Only authors allowed to mention everyone do (the default @everyone role is not).
            "mention_everyone": ("@everyone" in content or "@here" in content)
            and bool(self.permissions(channel.id, author_id) & MENTION_EVERYONE)
            and webhook_name is None,
            "mentions": [self.user_payload(uid) for uid in self.mentioned_users(content)],
            "mention_roles": [rid for rid in _ROLE_MENTION.findall(content)],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "flags": 0,
            "components": [],
            **(extra or {}),
        }
        if reply_to is not None:
            target = self.find_message(reply_to)
            if target is None:
                raise KeyError(f"no message {reply_to} to reply to")
            message["type"] = MESSAGE_REPLY
            message["message_reference"] = {
                "type": 0,
                "message_id": target["id"],
                "channel_id": target["channel_id"],
                "guild_id": channel.guild_id,
            }
        channel.messages[new_id] = message
        channel.total_sent += 1
        return message

    def mentioned_users(self, content: str) -> list[str]:
        """Known users mentioned as ``<@id>`` in ``content``, first mention first, once each."""
        found: list[str] = []
        for uid in _USER_MENTION.findall(content):
            if uid in self.users and uid not in found:
                found.append(uid)
        return found

    def find_message(self, message_id: str) -> dict[str, Any] | None:
        """The stored message ``message_id`` in any channel, or None."""
        try:
            key = int(message_id)
        except (TypeError, ValueError):
            return None
        for channel in self.channels.values():
            if key in channel.messages:
                return channel.messages[key]
        return None

    def rest_message(self, message: dict[str, Any]) -> dict[str, Any]:
        """A stored message as the HTTP API returns it (with ``referenced_message`` for replies)."""
        out = dict(message)
        ref = message.get("message_reference")
        if ref is not None and message["type"] == MESSAGE_REPLY:
            target = self.find_message(ref["message_id"])
            # A deleted parent shows as null, as Discord shows it.
            out["referenced_message"] = None if target is None else dict(target)
        starter_thread = self.channels.get(message["id"])
        if starter_thread is not None and starter_thread.is_thread:
            out["thread"] = self.channel_payload(starter_thread)
        return out

    def gateway_message(self, message: dict[str, Any]) -> dict[str, Any]:
        """A stored message as MESSAGE_CREATE carries it: with ``guild_id`` and the author's ``member``."""
        channel = self.channel(message["channel_id"])
        guild = self.guild(channel.guild_id)
        out = self.rest_message(message)
        out["guild_id"] = guild.id
        if not message.get("webhook_id"):
            out["member"] = self.member_payload(guild, message["author"]["id"], with_user=False)
        out["mentions"] = [
            {**u, "member": self.member_payload(guild, u["id"], with_user=False)} if u["id"] in guild.members else u
            for u in message["mentions"]
        ]
        return out

    def history(
        self,
        channel_id: str,
        *,
        limit: int,
        before: int | None = None,
        after: int | None = None,
        around: int | None = None,
    ) -> list[dict[str, Any]]:
        """Messages as ``GET /channels/{id}/messages`` returns them: newest first, whatever the cursor."""
        ids = sorted(self.channel(channel_id).messages)
        if after is not None:
            picked = [i for i in ids if i > after][:limit]
        elif before is not None:
            picked = [i for i in ids if i < before][-limit:]
        elif around is not None:
            older = [i for i in ids if i < around][-(limit // 2) :] if limit // 2 else []
            newer = [i for i in ids if i >= around][: limit - len(older)]
            picked = older + newer
        else:
            picked = ids[-limit:]
        messages = self.channel(channel_id).messages
        return [self.rest_message(messages[i]) for i in reversed(picked)]


def _snowflake_str(value: object, what: str) -> str:
    text = str(value)
    if not text.isdigit() or len(text) > 20:
        raise ValueError(f"{what} id must be a snowflake (digits only), not {value!r}")
    return text


def pings(world: World, content: str, allowed_mentions: dict[str, Any] | None, replied_user: str | None) -> list[str]:
    """Who a message would notify: user ids, ``role:<id>``, ``@everyone``, by Discord's allowed_mentions rules.

    Without ``allowed_mentions`` every mention in the text pings and so does the author replied to;
    with it, only what ``parse``/``users``/``roles`` name, and the replied-to author only when
    ``replied_user`` is true. ``@everyone``/``@here`` count whether or not the bot has the Mention
    Everyone permission (it has not, by default): a test asserting "nothing pings" should not pass
    only because of a permission the server may grant tomorrow.
    """
    parse: list[str]
    if allowed_mentions is None:
        parse, users, roles, ping_reply = ["users", "roles", "everyone"], [], [], True
    else:
        parse = list(allowed_mentions.get("parse") or [])
        users = [str(u) for u in allowed_mentions.get("users") or []]
        roles = [str(r) for r in allowed_mentions.get("roles") or []]
        ping_reply = bool(allowed_mentions.get("replied_user", False))
    out: list[str] = []
    for uid in world.mentioned_users(content):
        if "users" in parse or uid in users:
            out.append(uid)
    for rid in _ROLE_MENTION.findall(content):
        if "roles" in parse or rid in roles:
            out.append(f"role:{rid}")
    if ("@everyone" in content or "@here" in content) and "everyone" in parse:
        out.append("@everyone")
    if replied_user is not None and ping_reply and replied_user not in out:
        out.append(replied_user)
    return out
