"""The fixed data set the digest's figures are proven on (tests/digest/test_digest_figures.py).

Europe/Helsinki, winter time (UTC+2). The day under test is Tuesday 2026-12-01; its digest is
read at 08:00 on Wednesday 2026-12-02. Every time below is local (``at(day, "HH:MM")``); the
expected figures are worked out by hand in the test, next to each assertion.

- c0: Mon 30.11 20:00, cust-0; UCAR answers Tue 08:00 (12 h); resolved Tue 08:30.
- c1: Tue 09:00, cust-1 "Customer One"; UANNA answers 09:10 (10 min); resolved 10:00; the
  customer follows up 11:00 (reopens); resolved again 12:00. Tagged billing.
- c2: Tue 10:00, cust-2 "Customer Two"; never answered; tagged complaint; escalated 10:30.
- c3: Tue 11:00 on *facebook*, cust-1; UBEN's reply fails 11:05; the rota's automatic reply
  11:06; the Page answers on Facebook 11:30 (30 min, nobody's answer).
- c4: Tue 23:58, cust-5 with only a handle "@five"; UBEN answers Wed 00:03 (5 min, next day).
- c5: Tue 14:00, cust-3 "Customer Three", classified negative (score -0.8); follows up 14:30
  (negative, -0.5); UANNA answers 16:00 (2 h: a breach). Tagged billing.
- c6: Tue 15:00, cust-4 "Customer Four"; UANNA answers Wed 09:00, after the digest is read.
- c7: Wed 07:00, cust-6 "Customer Six", classified negative with a score that is not a number,
  and a follow-up 07:10: open, negative, unscored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from digest_kit import Data

HELSINKI = ZoneInfo("Europe/Helsinki")
DAY = date(2026, 12, 1)
#: When the digest of DAY is read: Wednesday 08:00 local.
READ_AT = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
TARGET_SECONDS = 3600


def at(day: date, hhmm: str, tz: ZoneInfo = HELSINKI) -> datetime:
    """Local wall-clock ``hhmm`` on ``day`` as UTC."""
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=tz).astimezone(UTC)


MON, TUE, WED = date(2026, 11, 30), DAY, date(2026, 12, 2)


@dataclass(frozen=True, slots=True)
class Ids:
    """The conversations' ids, by name."""

    c0: int
    c1: int
    c2: int
    c3: int
    c4: int
    c5: int
    c6: int
    c7: int


async def build(data: Data) -> Ids:
    """Write the data set (see the module docstring)."""
    c0 = await data.conversation(at(MON, "20:00"), author="cust-0", name="Customer Zero")
    await data.reply(c0, at(TUE, "08:00"), by="UCAR")
    await data.resolve(c0, at(TUE, "08:30"), by="UCAR")

    c1 = await data.conversation(at(TUE, "09:00"), author="cust-1", name="Customer One")
    await data.tag(c1, "billing", at(TUE, "09:00"))
    await data.reply(c1, at(TUE, "09:10"), by="UANNA")
    await data.resolve(c1, at(TUE, "10:00"))
    await data.follow_up(c1, at(TUE, "11:00"), author="cust-1", name="Customer One")
    await data.resolve(c1, at(TUE, "12:00"))

    c2 = await data.conversation(at(TUE, "10:00"), author="cust-2", name="Customer Two", context="Winter boots")
    await data.tag(c2, "complaint", at(TUE, "10:00"))
    await data.escalate(c2, at(TUE, "10:30"))

    c3 = await data.conversation(at(TUE, "11:00"), source="facebook", author="cust-1", name="Customer One")
    await data.reply(c3, at(TUE, "11:05"), by="UBEN", delivered=False)
    await data.reply(c3, at(TUE, "11:06"), by="bot:rota", kind="out_of_hours")
    await data.answered_on_platform(c3, at(TUE, "11:30"))

    c4 = await data.conversation(at(TUE, "23:58"), author="cust-5", name=None, handle="@five")
    await data.reply(c4, at(WED, "00:03"), by="UBEN")

    c5 = await data.conversation(
        at(TUE, "14:00"),
        author="cust-3",
        name="Customer Three",
        context="Delivery times",
        extra={"sentiment": "negative", "sentiment_score": -0.8},
    )
    await data.tag(c5, "billing", at(TUE, "14:00"))
    await data.follow_up(
        c5,
        at(TUE, "14:30"),
        author="cust-3",
        name="Customer Three",
        extra={"sentiment": "negative", "sentiment_score": -0.5},
    )
    await data.reply(c5, at(TUE, "16:00"), by="UANNA")

    c6 = await data.conversation(at(TUE, "15:00"), author="cust-4", name="Customer Four")
    await data.reply(c6, at(WED, "09:00"), by="UANNA")

    c7 = await data.conversation(
        at(WED, "07:00"),
        author="cust-6",
        name="Customer Six",
        context="",
        extra={"sentiment": "negative", "sentiment_score": "bad"},
    )
    await data.follow_up(c7, at(WED, "07:10"), author="cust-6", name="Customer Six")
    return Ids(c0, c1, c2, c3, c4, c5, c6, c7)
