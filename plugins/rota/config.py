"""``[plugins.rota]``: who leads, service hours, routing of new cards, the out-of-hours reply."""

from __future__ import annotations

import itertools
import re
import string
from datetime import date
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from .service_hours import ServiceHours
from .timespec import WEEKDAYS, SpecError, parse_time

if TYPE_CHECKING:
    from chatops.config import Settings

#: A lead: a Slack user (U…/W…) or a user group (S…).
LEAD_ID = re.compile(r"[UWS][A-Z0-9]{2,}")
#: What ``[plugins.rota.out_of_hours_text]`` may fill in.
OUT_OF_HOURS_PLACEHOLDERS = frozenset({"hours", "opens"})
#: ``[plugins.rota] public_url``: an http(s) address with a host.
PUBLIC_URL = re.compile(r"https?://[^\s/?#]+[^\s]*", re.IGNORECASE)


def _ranges(value: str | list[str]) -> tuple[tuple[int, int], ...]:
    """``"08:00-18:00"``, ``["08:00-12:00", "13:00-17:00"]`` or ``""`` (closed) → minute ranges within the day."""
    items = [value] if isinstance(value, str) else list(value)
    ranges = []
    for item in items:
        item = item.strip()
        if not item or item.lower() == "closed":
            continue
        parts = item.split("-")
        if len(parts) != 2:
            raise ValueError(f"{item!r} is not a range like 08:00-18:00")
        try:
            opens, closes = parse_time(parts[0], allow_end_of_day=False), parse_time(parts[1])
        except SpecError as exc:
            raise ValueError(str(exc)) from None
        if closes <= opens:
            raise ValueError(f"{item!r} must end after it opens, on the same day (24:00 ends the day)")
        ranges.append((opens, closes))
    ranges.sort()
    for (_a, b), (c, _d) in itertools.pairwise(ranges):
        if c < b:
            raise ValueError(f"ranges {items} overlap")
    return tuple(ranges)


class ServiceHoursConfig(BaseModel):
    """``[plugins.rota.service_hours]``: opening ranges per weekday and closed dates.

    Each weekday takes ``"08:00-18:00"``, a list of ranges, or ``""``/``"closed"``. A weekday
    left out is closed; leaving the whole table out means the hours are not configured.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    mon: str | list[str] = ""
    tue: str | list[str] = ""
    wed: str | list[str] = ""
    thu: str | list[str] = ""
    fri: str | list[str] = ""
    sat: str | list[str] = ""
    sun: str | list[str] = ""
    #: Dates the team is closed all day (``2026-12-24``).
    holidays: list[date] = Field(default_factory=list)

    @field_validator(*WEEKDAYS)
    @classmethod
    def _valid_ranges(cls, value: str | list[str]) -> str | list[str]:
        _ranges(value)
        return value

    def build(self, tz: ZoneInfo) -> ServiceHours:
        """The :class:`ServiceHours` these settings describe, in ``tz``."""
        weekly = {i: _ranges(getattr(self, name)) for i, name in enumerate(WEEKDAYS)}
        return ServiceHours(weekly=weekly, holidays=frozenset(self.holidays), tz=tz)


class OutOfHoursTexts(BaseModel):
    """``[plugins.rota.out_of_hours_text]``: your own wording of the automatic reply, per language.

    ``{hours}`` is replaced by the service hours and ``{opens}`` by when the team is back.
    A language left out uses the built-in text.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    en: str | None = Field(default=None, min_length=1, max_length=1000)
    fi: str | None = Field(default=None, min_length=1, max_length=1000)
    pl: str | None = Field(default=None, min_length=1, max_length=1000)

    @field_validator("en", "fi", "pl")
    @classmethod
    def _known_placeholders(cls, value: str | None) -> str | None:
        # Checked here, not when a customer writes at night: a stray brace would break every reply.
        if value is None:
            return value
        try:
            fields = [
                (name, spec, conv) for _text, name, spec, conv in string.Formatter().parse(value) if name is not None
            ]
        except ValueError:
            raise ValueError(
                "has an unpaired { or }; write {{ or }} for a brace, {hours} or {opens} for the times"
            ) from None
        for name, spec, conversion in fields:
            if name not in OUT_OF_HOURS_PLACEHOLDERS or spec or conversion:
                raise ValueError(f"{{{name}}} is not a placeholder here; use {{hours}} or {{opens}}")
        return value


class RotaConfig(BaseModel):
    """``[plugins.rota]``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Who may change the rota: Slack user ids (U…/W…) and user group ids (S…).
    leads: list[str] = Field(default_factory=list)
    #: Where hand-offs, "nobody on shift" notices and change confirmations go; the inbox channel when not set.
    channel: str | None = None
    #: Assign each new card to someone on shift: "off", "round_robin" or "least_loaded".
    assign: Literal["off", "round_robin", "least_loaded"] = "off"
    #: Show and mention the people on shift on new, unowned cards.
    mention_on_cards: bool = True
    #: First-response target in minutes: the hand-off lists unanswered cards near or past it.
    response_target_minutes: int = Field(default=60, ge=1, le=60 * 24 * 14)
    #: "Near its deadline": this many minutes or less before the target.
    near_deadline_minutes: int = Field(default=15, ge=0, le=60 * 24)
    #: A hand-off missed while the bot was down is posted when it is back if it is at most this old
    #: and its shift is still on.
    handoff_catch_up_hours: float = Field(default=4.0, ge=0, le=72)
    #: Most cards a hand-off lists per section (the rest are counted).
    handoff_list_limit: int = Field(default=10, ge=1, le=40)
    service_hours: ServiceHoursConfig | None = None
    #: Answer customers on the source when they write outside service hours (once per customer
    #: per closed period). Needs service_hours.
    out_of_hours_reply: bool = False
    out_of_hours_text: OutOfHoursTexts = Field(default_factory=OutOfHoursTexts)
    #: The bot's public base URL (``https://chatops.example.com``), for calendar links.
    public_url: str | None = None

    @field_validator("leads")
    @classmethod
    def _lead_ids(cls, value: list[str]) -> list[str]:
        for lead in value:
            if not LEAD_ID.fullmatch(lead):
                raise ValueError(f"{lead!r} is not a Slack user id (U…) or user group id (S…)")
        return value

    @field_validator("out_of_hours_reply")
    @classmethod
    def _reply_needs_hours(cls, value: bool, info: ValidationInfo) -> bool:
        # service_hours is declared before this field, so it is validated (or failed) already.
        if "service_hours" not in info.data:
            return value  # its own mistake is reported; a second line about it would only confuse
        hours = info.data["service_hours"]
        if value and not (hours and hours.build(ZoneInfo("UTC")).configured):
            # Without hours every moment is "open": the reply would silently never go.
            raise ValueError("true needs opening hours in [plugins.rota.service_hours]")
        return value

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not PUBLIC_URL.fullmatch(value):
            raise ValueError(f"{value!r} is not an http(s) address like https://chatops.example.com")
        return value

    def hours(self, tz: ZoneInfo) -> ServiceHours:
        """The service hours in ``tz`` (not configured, i.e. always open, without the table)."""
        return (self.service_hours or ServiceHoursConfig()).build(tz)


def service_hours_from_settings(settings: Settings) -> ServiceHours:
    """The service hours a chatops ``Settings`` configures in ``[plugins.rota]`` (for the digest, reports).

    Without a running bot; not configured (no ``[plugins.rota.service_hours]``) gives hours that
    are always open, so service time equals wall-clock time.
    """
    config = settings.plugins.validate_section("rota", RotaConfig)
    return config.hours(ZoneInfo(settings.team.timezone))
