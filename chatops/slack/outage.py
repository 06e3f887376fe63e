"""Telling a person in Slack that their click or form was not saved because the database is down.

A listener that fails before acknowledging (a modal reads the card first) would make
Bolt answer Slack 500; a modal is instead shown the message on its first input, so the
person keeps the text and can send again. After the acknowledgement (buttons ack
first), the person is told in an ephemeral message on the card's channel, or in the
app's direct message for a modal. Without this the click would just do nothing. Every
other listener error is logged as Bolt would.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from slack_bolt import BoltResponse
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from chatops.db import DatabaseUnavailable

if TYPE_CHECKING:
    from chatops.i18n import Translator

log = logging.getLogger(__name__)


def register_outage_notice(bolt: AsyncApp, t: Translator) -> None:
    """Make ``bolt``'s error handler tell the person when the database could not take their change."""

    async def on_error(
        error: Exception, body: dict[str, Any], client: AsyncWebClient, response: BoltResponse | None
    ) -> BoltResponse | None:
        if not isinstance(error, DatabaseUnavailable):
            log.error("Slack listener failed", exc_info=error)
            return None
        user = (body.get("user") or {}).get("id")
        log.warning("Slack %s from %s not saved: database unavailable: %s", body.get("type"), user, error.reason)
        if response is not None and body.get("type") == "view_submission":
            # Not acknowledged yet: keep the modal open with the message under its first input.
            inputs = [b["block_id"] for b in (body.get("view") or {}).get("blocks", []) if b.get("type") == "input"]
            if inputs:
                errors = {"response_action": "errors", "errors": {inputs[0]: t("outage.not_saved")}}
                return BoltResponse(status=200, body=json.dumps(errors), headers={"content-type": "application/json"})
        if response is not None:
            response = BoltResponse(status=200)  # acknowledged: the message below says what happened
        await _tell(client, body, user)
        return response

    async def _tell(client: AsyncWebClient, body: dict[str, Any], user: str | None) -> None:
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
