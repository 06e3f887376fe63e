"""Who may change the rota: the users and user groups in ``plugins.rota.leads``.

A group's members come from Slack (``usergroups.users.list``) and are kept for a few
minutes, so a busy lead does not cost a Slack call per command. When Slack cannot be
asked, the person is told that the group could not be checked rather than refused as
if they were not a lead.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from slack_sdk.errors import SlackApiError

from chatops.slack.escape import mention

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from .service import Rota

#: Seconds a group's members are trusted before asking Slack again.
GROUP_TTL_SECONDS = 300.0
#: Longest wait for Slack's answer about one group: the command must answer within 3 s.
GROUP_TIMEOUT_SECONDS = 1.5

Verdict = Literal["lead", "not_lead", "no_leads", "unchecked"]


@dataclass(frozen=True, slots=True)
class LeadCheck:
    """Whether someone may change the rota; ``groups_unchecked`` names groups Slack did not answer for."""

    verdict: Verdict
    groups_unchecked: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True for a lead."""
        return self.verdict == "lead"


class Leads:
    """The configured leads of one rota, with group members cached for :data:`GROUP_TTL_SECONDS`."""

    def __init__(self, rota: Rota) -> None:
        self.rota = rota
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}

    @property
    def configured(self) -> tuple[str, ...]:
        """The ids in ``plugins.rota.leads``."""
        return tuple(self.rota.config.leads)

    async def check(self, user_id: str, client: AsyncWebClient) -> LeadCheck:
        """Is ``user_id`` a lead, directly or through one of the configured user groups?"""
        leads = self.configured
        if not leads:
            return LeadCheck("no_leads")
        if user_id in leads:
            return LeadCheck("lead")
        groups = [lead for lead in leads if lead.startswith("S")]
        # All groups at once: the answer must reach Slack within 3 s however many there are.
        found = await asyncio.gather(*(self._members(group, client) for group in groups))
        if any(members is not None and user_id in members for members in found):
            return LeadCheck("lead")
        unchecked = tuple(group for group, members in zip(groups, found, strict=True) if members is None)
        return LeadCheck("unchecked", unchecked) if unchecked else LeadCheck("not_lead")

    async def _members(self, group: str, client: AsyncWebClient) -> frozenset[str] | None:
        cached = self._groups.get(group)
        if cached and time.monotonic() - cached[0] < GROUP_TTL_SECONDS:
            return cached[1]
        try:
            answer = await asyncio.wait_for(client.usergroups_users_list(usergroup=group), GROUP_TIMEOUT_SECONDS)
        except (SlackApiError, TimeoutError, OSError) as exc:
            self.rota.ctx.log.warning("could not read the members of lead group %s: %s", group, exc)
            return None
        users = answer.get("users")
        members = frozenset(u for u in users if isinstance(u, str)) if isinstance(users, list) else frozenset()
        self._groups[group] = (time.monotonic(), members)
        return members

    def mentions(self) -> str:
        """The leads as Slack mentions: ``<@U1>``, ``<!subteam^S1>``."""
        return ", ".join(mention(lead) for lead in self.configured)

    def refusal(self, check: LeadCheck) -> str:
        """The polite answer for someone who may not change the rota (or could not be checked)."""
        t = self.rota.ctx.t
        if check.verdict == "no_leads":
            return t("rota.lead.none")
        if check.verdict == "unchecked":
            groups = ", ".join(mention(g) for g in check.groups_unchecked)
            return t("rota.lead.unchecked", groups=groups)
        return t("rota.lead.refused", leads=self.mentions())
