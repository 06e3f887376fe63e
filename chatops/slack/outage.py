"""Telling a person in Slack that their click or form was not saved because the database is down.

Listeners acknowledge first and work after, so an outage can no longer change Slack's
answer; without this the click would just do nothing. Every other listener error is
logged as Bolt would.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from chatops.db import DatabaseUnavailable

if TYPE_CHECKING:
    from chatops.i18n import Translator

log = logging.getLogger(__name__)


def register_outage_notice(bolt: AsyncApp, t: Translator) -> None:
    """Make ``bolt``'s error handler tell the person when the database could not take their change."""

    async def on_error(error: Exception, body: dict[str, Any], client: AsyncWebClient) -> None:
        if not isinstance(error, DatabaseUnavailable):
            log.error("Slack listener failed", exc_info=error)
            return
        user = (body.get("user") or {}).get("id")
        log.warning("Slack %s from %s not saved: database unavailable: %s", body.get("type"), user, error.reason)
        if not user:
            return
        channel = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get("id")
        try:
            if channel:
                await client.chat_postEphemeral(channel=channel, user=user, text=t("outage.not_saved"))
            else:
                # A modal has no channel: the app's direct message with the person carries it.
                await client.chat_postMessage(channel=user, text=t("outage.not_saved"))
        except SlackApiError as exc:
            log.warning("could not tell %s about the outage: %s", user, exc.response.get("error"))

    bolt.error(on_error)
