"""A Slack-compatible fake Web API served over real HTTP.

The bot under test (and any third-party plugin) talks to :class:`FakeSlack` through
the very client it uses in production::

    with FakeSlack() as fake:
        client = AsyncWebClient(base_url=fake.api_url, token=fake.bot_token)
        await client.chat_postMessage(channel="C1", text="hi")
        assert fake.top_level_messages("C1")[0]["text"] == "hi"

The fake checks what Slack checks (authentication, required arguments, Block Kit
limits, message metadata, modal views, per-channel posting pace) and answers the
way Slack answers: HTTP 200 with ``{"ok": false, "error": ...}`` for API errors,
HTTP 429 with ``Retry-After`` when rate limited. Every request is recorded as a
:class:`Call`; the resulting Slack state (messages, threads, views, ephemeral
messages, uploaded files) can be inspected with the accessor methods.

Socket Mode works too: ``apps.connections.open`` with the app-level token
(``fake.app_token``) hands out a ``ws://`` URL on the same server; a client that
connects gets Slack's ``hello``, and a test pushes envelopes to it and reads the
acks::

    handler = AsyncSocketModeHandler(bolt_app, fake.app_token)  # bolt_app's client: fake.api_url
    await handler.connect_async()
    ack = await fake.send_socket_envelope(block_actions_payload)
    assert ack == {"envelope_id": ack["envelope_id"]}

Events the app subscribed to reach it the way Slack sends them:
:meth:`FakeSlack.subscribe_events` names the app's request URL (signed HTTP POSTs) or
Socket Mode, and the message metadata event types it listens for; every message posted
with such metadata is followed by a ``message_metadata_posted`` event.

Bad days are one call away: :meth:`FakeSlack.fail_next` refuses calls, and
:meth:`FakeSlack.lose_answers` performs a share of calls but drops the connection (or
answers 500) instead of answering, as when a network path breaks after Slack took a post.

The server runs on its own thread (see :mod:`chatops.testing.server`), so all state
is guarded by one lock and every accessor returns a copy.

The package's modules, one job each:

- :mod:`~chatops.testing.fake_slack.web_api`: the Web API's rules (methods, required
  arguments, tokens, request parsing, Slack's errors) and the :class:`Call` record;
- :mod:`~chatops.testing.fake_slack.blocks`: Block Kit, message and view checks;
- :mod:`~chatops.testing.fake_slack.base`: what every part shares (identity, lock, ids, calls);
- :mod:`~chatops.testing.fake_slack.directory`, :mod:`~chatops.testing.fake_slack.messages`,
  :mod:`~chatops.testing.fake_slack.views`, :mod:`~chatops.testing.fake_slack.files`:
  Slack's state and the methods that change it;
- :mod:`~chatops.testing.fake_slack.socket_mode` and :mod:`~chatops.testing.fake_slack.events`:
  what reaches the app (Socket Mode envelopes, subscribed events);
- :mod:`~chatops.testing.fake_slack.faults`: refused calls and lost answers;
- :mod:`~chatops.testing.fake_slack.fake`: :class:`FakeSlack`, its routes and lifecycle.
"""

from chatops.testing.fake_slack.blocks import (
    MAX_MESSAGE_BLOCKS,
    MAX_VIEW_BLOCKS,
    block_kit_errors,
    message_content_errors,
    view_errors,
)
from chatops.testing.fake_slack.fake import FakeSlack
from chatops.testing.fake_slack.socket_mode import SOCKET_MODE_PATH
from chatops.testing.fake_slack.web_api import (
    EXTRA_REQUIRED_ARGS,
    MISSING_ARG_ERRORS,
    NOT_IN_SPEC,
    REQUIRED_ARGS,
    UPLOAD_METHOD,
    Call,
)

__all__ = [
    "EXTRA_REQUIRED_ARGS",
    "MAX_MESSAGE_BLOCKS",
    "MAX_VIEW_BLOCKS",
    "MISSING_ARG_ERRORS",
    "NOT_IN_SPEC",
    "REQUIRED_ARGS",
    "SOCKET_MODE_PATH",
    "UPLOAD_METHOD",
    "Call",
    "FakeSlack",
    "block_kit_errors",
    "message_content_errors",
    "view_errors",
]
