"""The workspace directory: users, channels and usergroups, and the methods that read them.

``users.info``, ``conversations.info`` and the usergroups methods know only what a test
registered with :meth:`Directory.add_user`, :meth:`Directory.add_channel` and
:meth:`Directory.add_usergroup`; channels are also how ``#name`` resolves to an id.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chatops.testing.fake_slack.base import FakeSlackBase
from chatops.testing.fake_slack.web_api import SlackError, truthy


class Directory(FakeSlackBase):
    """The directory part of the fake."""

    #: Answer ``channel_not_found`` for channels not registered with :meth:`add_channel`.
    strict_channels: bool
    _users: dict[str, dict[str, Any]]
    _channels: dict[str, dict[str, Any]]
    _usergroups: dict[str, dict[str, Any]]

    def _reset_directory(self) -> None:
        """Forget every user, channel and usergroup. Lock held."""
        self._users = {}
        self._channels = {}
        self._usergroups = {}

    def add_user(
        self,
        user_id: str,
        *,
        name: str,
        real_name: str | None = None,
        tz: str = "Europe/Helsinki",
        is_bot: bool = False,
        display_name: str | None = None,
    ) -> None:
        """Register a user for ``users.info``. ``display_name`` defaults to ``name``."""
        real = real_name if real_name is not None else name
        display = display_name if display_name is not None else name
        try:
            offset = ZoneInfo(tz).utcoffset(datetime.now(UTC).replace(tzinfo=None))
            tz_offset = int(offset.total_seconds()) if offset is not None else 0
        except (ZoneInfoNotFoundError, ValueError):
            tz_offset = 0
        with self._lock:
            self._users[user_id] = {
                "id": user_id,
                "team_id": self.team_id,
                "name": name,
                "deleted": False,
                "real_name": real,
                "tz": tz,
                "tz_label": tz,
                "tz_offset": tz_offset,
                "is_bot": is_bot,
                "is_app_user": False,
                "profile": {
                    "display_name": display,
                    "display_name_normalized": display,
                    "real_name": real,
                    "real_name_normalized": real,
                    "team": self.team_id,
                },
            }

    def add_channel(self, channel_id: str, name: str, *, is_private: bool = False) -> None:
        """Register a channel for ``conversations.info`` (and for ``#name`` lookups)."""
        with self._lock:
            self._channels[channel_id] = {
                "id": channel_id,
                "name": name,
                "name_normalized": name,
                "is_channel": not is_private,
                "is_group": is_private,
                "is_im": False,
                "is_mpim": False,
                "is_private": is_private,
                "is_archived": False,
                "is_general": False,
                "is_member": True,
                "created": 1700000000,
                "creator": self.bot_user_id,
                "context_team_id": self.team_id,
            }

    def add_usergroup(
        self, usergroup_id: str, handle: str, *, name: str | None = None, users: Iterable[str] = ()
    ) -> None:
        """Register a usergroup (``@handle``) with its members."""
        with self._lock:
            self._usergroups[usergroup_id] = {
                "id": usergroup_id,
                "team_id": self.team_id,
                "is_usergroup": True,
                "name": name if name is not None else handle,
                "handle": handle,
                "description": "",
                "is_external": False,
                "date_create": 1700000000,
                "date_delete": 0,
                "users": list(users),
            }

    def _resolve_channel(self, channel: str) -> str:
        """Map ``#name``/``name`` of a registered channel to its id."""
        name = channel[1:] if channel.startswith("#") else channel
        if channel not in self._channels:
            for cid, info in self._channels.items():
                if info["name"] == name:
                    return cid
        return channel

    def _channel_arg(self, args: dict[str, Any], key: str = "channel") -> str:
        """The channel id in ``args[key]``; ``channel_not_found`` when strict and unknown."""
        channel = self._resolve_channel(str(args[key]))
        if self.strict_channels and channel not in self._channels:
            raise SlackError("channel_not_found")
        return channel

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        """``users.info``: a user registered with :meth:`add_user`."""
        user = self._users.get(str(args["user"]))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": copy.deepcopy(user)}

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        """``conversations.info``: a channel registered with :meth:`add_channel`."""
        channel = self._channels.get(self._resolve_channel(str(args["channel"])))
        if channel is None:
            raise SlackError("channel_not_found")
        return {"channel": copy.deepcopy(channel)}

    def _usergroups_list(self, args: dict[str, Any]) -> dict[str, Any]:
        """``usergroups.list``: registered usergroups (members with ``include_users``)."""
        include_users = bool(truthy(args.get("include_users")))
        groups = []
        for group in self._usergroups.values():
            item = copy.deepcopy(group)
            item["user_count"] = len(group["users"])
            if not include_users:
                item.pop("users")
            groups.append(item)
        return {"usergroups": groups}

    def _usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        """``usergroups.users.list``: a usergroup's member ids."""
        group = self._usergroups.get(str(args["usergroup"]))
        if group is None:
            raise SlackError("no_such_subteam")
        return {"users": list(group["users"])}
