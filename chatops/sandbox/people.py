"""Who is in the sandbox's Slack workspace: the team the page lets you be, and the channels they work in.

The ids match :mod:`chatops.testing.bot`'s settings (the lead is ``ULEAD``, a member of the
leads' user group ``SLEADS``; the channels are ``CINBOX``, ``CESCALATE`` and ``COPS``), so
the bot built by :class:`~chatops.testing.bot.TestBot` finds them under the names shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from chatops.testing.bot import ESCALATIONS, INBOX, LEADS, OPS
from chatops.testing.fake_slack import FakeSlack


@dataclass(frozen=True, slots=True)
class Teammate:
    """A person on the page's user switcher.

    Attributes:
        id: the Slack user id.
        label: the switcher's option text.
        name: the Slack display name (what cards and mentions show).
        role: a few words about who they are, shown beside the switcher.
    """

    id: str
    label: str
    name: str
    role: str


#: The people you can be, in the switcher's order (the first is who the page starts as).
TEAM: tuple[Teammate, ...] = (
    Teammate("UANNA", "Anna", "Anna", "customer service"),
    Teammate("UJARI", "Jari", "Jari", "customer service"),
    Teammate(LEADS[0], "Lead", "Liisa", "Liisa, the shift lead"),
)

#: Channels by id: their names, in the order the page lists them.
CHANNELS: dict[str, str] = {INBOX: "customer-inbox", ESCALATIONS: "escalations", OPS: "chatops-ops"}
#: The user group of leads (escalations mention it; the rota lets its members change shifts).
LEADS_GROUP = LEADS[1]


def teammate(user_id: str) -> Teammate | None:
    """The teammate with Slack id ``user_id``, or None."""
    return next((person for person in TEAM if person.id == user_id), None)


def register(fake: FakeSlack) -> None:
    """Put the team, the channels and the leads' user group in the fake's directory."""
    for person in TEAM:
        fake.add_user(person.id, name=person.name.lower(), real_name=person.name, display_name=person.name)
    for channel_id, name in CHANNELS.items():
        fake.add_channel(channel_id, name)
    fake.add_usergroup(LEADS_GROUP, "leads", name="Shift leads", users=[LEADS[0]])


def names() -> dict[str, str]:
    """Display names by user id (for rendering ``<@U…>`` mentions), the bot included."""
    found = {person.id: person.name for person in TEAM}
    found["UBOT"] = "chatops"
    return found
