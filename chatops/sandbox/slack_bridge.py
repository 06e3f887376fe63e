"""What people do on the sandbox's page, as the signed Slack requests the bot receives in production.

A click, a modal submission, a closed modal and a slash command become Slack's own
request bodies (:mod:`chatops.testing.slack_requests`), signed with the bot's signing
secret and POSTed to its ``/slack/events``, exactly as Slack would send them. What the
page sends is checked first against what Slack shows that person: a click must name an
element that is on that message (its value is taken from the message, not from the page),
a chosen option must be one of the element's options, and a modal must be open for that
person. Anything else is refused with :class:`Refused` and nothing reaches the bot.

Slack keeps each person's stack of open modals; the fake records the views the bot opens,
pushes and updates, and :class:`ModalStacks` follows them per person.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx

from chatops.sandbox import people
from chatops.testing.bot import SIGNING_SECRET
from chatops.testing.fake_slack import FakeSlack
from chatops.testing.slack_requests import (
    API_APP_ID,
    TEAM_DOMAIN,
    VERIFICATION_TOKEN,
    block_actions_body,
    signed_headers,
    slash_command_body,
    view_submission_body,
)

#: Slash commands the sandbox's bot answers (the manifest's).
COMMANDS = ("/rota", "/chatops")
#: Longest slash command text Slack accepts.
MAX_COMMAND_TEXT = 4000


class Refused(Exception):
    """The page asked for something Slack would not send (unknown person, element, option or view)."""


@dataclass
class Answer:
    """What the bot answered, as the page shows it.

    Attributes:
        status: the bot's HTTP status.
        text: a message shown to the person only (a slash command's acknowledgement), or "".
        errors: a modal's validation errors by block id (``response_action: errors``).
    """

    status: int
    text: str = ""
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class PageNote:
    """A message only one person sees that did not go through the fake (a command's answer, a response_url post).

    Attributes:
        user: who sees it.
        channel: where it shows.
        text: its text (mrkdwn); ``blocks`` its Block Kit, if any.
        after_ts: the newest message's ts when it arrived (it shows after that message).
    """

    user: str
    channel: str
    text: str
    blocks: list[Any]
    after_ts: str


def _element(blocks: Any, block_id: str, action_id: str) -> dict[str, Any] | None:
    """The interactive element ``block_id``/``action_id`` among ``blocks`` (actions elements and accessories)."""
    if not isinstance(blocks, list):
        return None
    for block in blocks:
        if not isinstance(block, dict) or block.get("block_id") != block_id:
            continue
        candidates = list(block.get("elements") or []) if block.get("type") == "actions" else []
        if isinstance(block.get("accessory"), dict):
            candidates.append(block["accessory"])
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element
    return None


def _shown_element(message: Mapping[str, Any], block_id: str, action_id: str) -> dict[str, Any] | None:
    """The element as the message shows it now, else as an earlier version showed it (newest first).

    A person whose page is a moment behind clicks a button the bot has since replaced
    (Claim, after a teammate claimed): Slack delivers that click, and the bot answers it
    ("Already claimed by …"), so the sandbox must too. An element no version ever had is refused.
    """
    versions = [message, *reversed(message.get("history") or [])]
    for version in versions:
        element = _element(version.get("blocks"), block_id, action_id)
        if element is not None:
            return element
    return None


def _option(element: Mapping[str, Any], value: str) -> dict[str, Any] | None:
    """The option of a select or overflow menu whose value is ``value`` (option groups included)."""
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return next((copy.deepcopy(o) for o in options if isinstance(o, dict) and o.get("value") == value), None)


def _reencode(body: str, change: Mapping[str, Any]) -> str:
    """A ``payload=<json>`` form body with its first action's fields replaced by ``change``."""
    payload = json.loads(parse_qs(body)["payload"][0])
    payload["actions"][0].update(change)
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))})


class ModalStacks:
    """Each person's open modals (top last), following the views the bot opens, pushes and updates in the fake."""

    def __init__(self, slack: FakeSlack) -> None:
        """Follow the views recorded by ``slack``."""
        self._slack = slack
        self._stacks: dict[str, list[dict[str, Any]]] = {}
        self._seen: dict[str, str] = {}
        self._local_ids = itertools.count(1)

    def sync(self) -> None:
        """Take in views the bot opened, pushed or updated since the last look."""
        for record in self._slack.views():
            user, view = record.get("user"), record["view"]
            if not user or record["method"] not in ("views.open", "views.push"):
                continue
            known = self._seen.get(record["id"])
            if known == record["hash"]:
                continue
            self._seen[record["id"]] = record["hash"]
            if known is None:
                if record["method"] == "views.open":
                    self._stacks[user] = [view]
                else:
                    self._stacks.setdefault(user, []).append(view)
            else:
                self._replace(user, view)

    def _replace(self, user: str, view: dict[str, Any]) -> None:
        stack = self._stacks.get(user, [])
        for index, open_view in enumerate(stack):
            if open_view["id"] == view["id"]:
                stack[index] = view

    def top(self, user: str) -> dict[str, Any] | None:
        """The modal ``user`` sees now, or None."""
        self.sync()
        stack = self._stacks.get(user) or []
        return copy.deepcopy(stack[-1]) if stack else None

    def open_view(self, user: str, view_id: str) -> dict[str, Any]:
        """The modal ``view_id`` if it is the one ``user`` sees now; :class:`Refused` otherwise."""
        view = self.top(user)
        if view is None or view["id"] != view_id:
            raise Refused(f"no modal {view_id} is open for {user}")
        return view

    def close(self, user: str, *, everything: bool = False) -> None:
        """Close ``user``'s top modal (or every one of theirs)."""
        stack = self._stacks.get(user) or []
        if everything:
            stack.clear()
        elif stack:
            stack.pop()

    def after_submission(self, user: str, answer: Mapping[str, Any]) -> dict[str, str]:
        """Apply the bot's answer to a submission of ``user``'s top modal; return validation errors, if any."""
        action = answer.get("response_action")
        stack = self._stacks.get(user) or []
        if action == "errors":
            errors = answer.get("errors") or {}
            return {str(k): str(v) for k, v in errors.items()} if isinstance(errors, dict) else {}
        if action == "clear":
            self.close(user, everything=True)
        elif action == "update" and stack and isinstance(answer.get("view"), dict):
            current = stack[-1]
            stack[-1] = self._as_shown(answer["view"], current["id"], current.get("previous_view_id"))
        elif action == "push" and isinstance(answer.get("view"), dict):
            previous = stack[-1]["id"] if stack else None
            stack.append(self._as_shown(answer["view"], f"VSANDBOX{next(self._local_ids):04d}", previous))
        else:
            self.close(user)
        return {}

    def _as_shown(self, view: Mapping[str, Any], view_id: str, previous: str | None) -> dict[str, Any]:
        """A view from a ``response_action`` as Slack shows it: with an id, a hash and empty state."""
        shown = copy.deepcopy(dict(view))
        shown.update(
            id=view_id,
            hash=f"sandbox.{secrets.token_hex(4)}",
            state={"values": {}},
            previous_view_id=previous,
            root_view_id=view_id,
        )
        return shown


class SlackBridge:
    """Sends the page's clicks, submissions and commands to the bot as signed Slack requests."""

    def __init__(self, slack: FakeSlack, bot_url: str, response_base: str) -> None:
        """Talk to the bot at ``bot_url``; ``response_base`` + token is a response_url the page serves."""
        self.slack = slack
        self.modals = ModalStacks(slack)
        self.bot_url = bot_url.rstrip("/")
        self.response_base = response_base.rstrip("/")
        self.http = httpx.AsyncClient(timeout=10)
        #: Messages only one person sees that came back outside the fake (newest last).
        self.notes: list[PageNote] = []
        #: How many requests went to the bot (what was refused never counts).
        self.sent = 0
        self._response_urls: dict[str, tuple[str, str]] = {}
        # One modal submission or close at a time per person: a double click must find the modal
        # already gone, as in Slack, instead of sending the same view to the bot twice.
        self._modal_locks: dict[str, asyncio.Lock] = {}

    def _modal_lock(self, user_id: str) -> asyncio.Lock:
        return self._modal_locks.setdefault(user_id, asyncio.Lock())

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.http.aclose()

    def _person(self, user: str) -> people.Teammate:
        person = people.teammate(user)
        if person is None:
            raise Refused(f"unknown user {user!r}")
        return person

    def _response_url(self, user: str, channel: str) -> str:
        """A fresh response_url for ``user`` in ``channel`` (served by the page, see :meth:`respond`)."""
        token = secrets.token_urlsafe(12)
        self._response_urls[token] = (user, channel)
        return f"{self.response_base}/{token}"

    def _latest_ts(self, channel: str) -> str:
        messages = self.slack.messages(channel)
        return messages[-1]["ts"] if messages else "0"

    def note(self, user: str, channel: str, text: str, blocks: list[Any] | None = None) -> None:
        """Show ``text`` to ``user`` only, in ``channel``, after its newest message."""
        self.notes.append(PageNote(user, channel, text, list(blocks or []), self._latest_ts(channel)))

    def respond(self, token: str, message: Mapping[str, Any]) -> bool:
        """A post to a response_url the page handed out: shown to the person it was for; False for an unknown one."""
        found = self._response_urls.get(token)
        if found is None:
            return False
        user, channel = found
        blocks = message.get("blocks")
        self.note(user, channel, str(message.get("text") or ""), blocks if isinstance(blocks, list) else None)
        return True

    async def _send(self, body: str, content_type: str = "application/x-www-form-urlencoded") -> httpx.Response:
        headers = signed_headers(SIGNING_SECRET, body, content_type=content_type)
        self.sent += 1
        return await self.http.post(f"{self.bot_url}/slack/events", content=body, headers=headers)

    async def click(
        self, user: str, channel: str, ts: str, block_id: str, action_id: str, selected: str | None = None
    ) -> Answer:
        """``user`` uses element ``block_id``/``action_id`` on message ``ts`` (``selected``: the option chosen)."""
        person = self._person(user)
        try:
            message = self.slack.message(channel, ts)
        except KeyError:
            raise Refused(f"no message {ts} in {channel}") from None
        if message.get("deleted"):
            raise Refused(f"message {ts} was deleted")
        element = _shown_element(message, block_id, action_id)
        if element is None:
            raise Refused(f"message {ts} has no element {block_id}/{action_id}")
        kind = element.get("type")
        change: dict[str, Any] = {"type": kind}
        if kind in ("static_select", "overflow", "radio_buttons"):
            option = _option(element, selected or "")
            if option is None:
                raise Refused(f"{action_id} has no option {selected!r}")
            change["selected_option"] = option
            change.pop("value", None)
        elif kind != "button":
            raise Refused(f"elements of type {kind!r} are not supported in the sandbox")
        body = block_actions_body(
            user_id=person.id,
            user_name=person.name.lower(),
            channel_id=message["channel"],
            channel_name=people.CHANNELS.get(message["channel"], "channel"),
            message_ts=ts,
            thread_ts=message.get("thread_ts"),
            action_id=action_id,
            value=str(element.get("value", "")),
            block_id=block_id,
            trigger_id=self.slack.new_trigger_id(person.id),
            message=message,
            response_url=self._response_url(person.id, message["channel"]),
        )
        if kind != "button":
            body = _reencode(body, change)
        response = await self._send(body)
        return Answer(response.status_code)

    async def submit(self, user: str, view_id: str, values: dict[str, dict[str, dict[str, Any]]]) -> Answer:
        """``user`` submits their open modal ``view_id`` with ``values`` (``view.state.values``)."""
        person = self._person(user)
        async with self._modal_lock(person.id):
            return await self._submit(person, view_id, values)

    async def _submit(
        self, person: people.Teammate, view_id: str, values: dict[str, dict[str, dict[str, Any]]]
    ) -> Answer:
        view = self.modals.open_view(person.id, view_id)
        body = view_submission_body(
            user_id=person.id,
            user_name=person.name.lower(),
            view=view,
            values=values,  # type: ignore[arg-type]
            trigger_id=self.slack.new_trigger_id(person.id),
        )
        response = await self._send(body)
        if response.status_code != 200:
            return Answer(response.status_code, text=response.text[:300])
        answer: Any = {}
        if response.content.strip():
            try:
                answer = response.json()
            except ValueError:
                answer = {}
        errors = self.modals.after_submission(person.id, answer if isinstance(answer, dict) else {})
        return Answer(200, errors=errors)

    async def close(self, user: str, view_id: str) -> Answer:
        """``user`` closes their open modal ``view_id``; the bot hears of it if the view asked (``notify_on_close``)."""
        person = self._person(user)
        async with self._modal_lock(person.id):
            return await self._close(person, view_id)

    async def _close(self, person: people.Teammate, view_id: str) -> Answer:
        view = self.modals.open_view(person.id, view_id)
        self.modals.close(person.id, everything=bool(view.get("clear_on_close")))
        if not view.get("notify_on_close"):
            return Answer(200)
        payload = {
            "type": "view_closed",
            "team": {"id": self.slack.team_id, "domain": TEAM_DOMAIN},
            "user": {"id": person.id, "username": person.name.lower(), "name": person.name.lower()},
            "api_app_id": API_APP_ID,
            "token": VERIFICATION_TOKEN,
            "view": view,
            "is_cleared": bool(view.get("clear_on_close")),
        }
        response = await self._send(urlencode({"payload": json.dumps(payload, separators=(",", ":"))}))
        return Answer(response.status_code)

    async def command(self, user: str, channel: str, line: str) -> Answer:
        """``user`` types ``line`` (``/rota …``) in ``channel``; the bot's acknowledgement is shown to them only."""
        person = self._person(user)
        if channel not in people.CHANNELS:
            raise Refused(f"unknown channel {channel!r}")
        command, _, text = line.strip().partition(" ")
        if command not in COMMANDS:
            shown = command if command.startswith("/") else "Messages"
            self.note(
                person.id,
                channel,
                f"{shown} can't be sent here: the sandbox's bot answers {' and '.join(COMMANDS)} (try `/rota help`).",
            )
            return Answer(200)
        if len(text) > MAX_COMMAND_TEXT:
            raise Refused(f"a command is at most {MAX_COMMAND_TEXT} characters")
        body = slash_command_body(
            command=command,
            text=text.strip(),
            user_id=person.id,
            user_name=person.name.lower(),
            channel_id=channel,
            channel_name=people.CHANNELS[channel],
            trigger_id=self.slack.new_trigger_id(person.id),
            response_url=self._response_url(person.id, channel),
        )
        response = await self._send(body)
        text_shown = ""
        if response.status_code == 200 and response.content.strip():
            try:
                data = response.json()
            except ValueError:
                text_shown = response.text
            else:
                text_shown = str(data.get("text") or "") if isinstance(data, dict) else ""
        if text_shown:
            self.note(person.id, channel, text_shown)
        return Answer(response.status_code, text=text_shown)
