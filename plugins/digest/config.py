"""``[plugins.digest]``: where and when the digest is posted, the response target, what counts as negative."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: A Slack channel id (C… public, G… private).
CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")
#: ``daily_at``: a 24-hour local time.
LOCAL_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class DigestConfig(BaseModel):
    """``[plugins.digest]``.

    ``channel``: the managers' channel (an id). ``daily_at``: the local time the day's digest
    is posted (the team's timezone); ``weekly_on``: the weekday the week's digest is posted
    at the same time, covering the seven days before that day (``""`` for none). ``daily``:
    false posts only the weekly one. ``grace_hours``: how late a digest missed while the
    bot was down is still posted (once). ``response_target_minutes``: the first-response
    target (in service hours when the rota's are configured). ``negative_tags``: tags that
    mark a conversation negative. ``chart``: the 14-day chart image (needs ``files:write``).
    ``top``: how many fans, people and tags are listed; ``list_limit``: how many links
    (worst negative ones).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: str
    daily: bool = True
    daily_at: str = "08:00"
    weekly_on: Literal["", "mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    grace_hours: float = Field(default=12.0, ge=0, le=24 * 6)
    response_target_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    negative_tags: tuple[str, ...] = ("complaint",)
    chart: bool = True
    top: int = Field(default=5, ge=1, le=20)
    list_limit: int = Field(default=3, ge=0, le=10)

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        if not CHANNEL_ID.fullmatch(value):
            raise ValueError(f"{value!r} is not a channel id (C… or G…; in Slack: channel details, at the bottom)")
        return value

    @field_validator("daily_at")
    @classmethod
    def _time(cls, value: str) -> str:
        if not LOCAL_TIME.fullmatch(value):
            raise ValueError(f"{value!r} is not a time like 08:00 (24-hour, local)")
        return value

    @field_validator("negative_tags")
    @classmethod
    def _tags(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # Compared with stored tags, which the core cleans this way when people add them.
        return tuple(sorted({" ".join(tag.lower().split()) for tag in value if tag.strip()}))

    @property
    def daily_minute(self) -> int:
        """``daily_at`` as minutes after local midnight."""
        hours, minutes = self.daily_at.split(":")
        return int(hours) * 60 + int(minutes)

    @property
    def weekly_weekday(self) -> int | None:
        """``weekly_on`` as a weekday number (Monday 0), or None."""
        return WEEKDAYS.index(self.weekly_on) if self.weekly_on else None
