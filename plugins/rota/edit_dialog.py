"""The ``/rota edit`` dialog: the same changes as the text command, with pickers instead of typing.

One modal holds every input (what to do, people, days, times, dates, what to remove);
each is optional and the submission is checked for the chosen action only, with errors
shown under the inputs that are wrong. A valid submission runs the very function the
text command does (:func:`.changes.apply`), keyed by the view's id and hash so a
replayed submission changes nothing twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from chatops.slack.escape import show_controls
from chatops.slack.modals import state_value

from . import changes
from .answers import span_text, words_of
from .commands import (
    MAX_PEOPLE,
    Add,
    ChangeCommand,
    CoverCmd,
    ParseError,
    Remove,
    SwapCmd,
    Uncover,
    read_date,
    read_span,
)
from .schedule import Cover, Swap
from .timespec import DAY_MINUTES, WEEKDAYS, SpecError, format_days, format_time, parse_time

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    from .leads import Leads
    from .service import Rota

#: The dialog's callback id.
VIEW = "rota:edit"
ACTIONS = ("add", "cover", "uncover", "swap", "remove")
#: The value's action id inside every input block.
VALUE = "v"
#: Slack shows at most this much of an error under an input.
MAX_ERROR = 150
#: Slack's limits: option text, options per select.
MAX_OPTION_TEXT = 75
MAX_OPTIONS = 100

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")
_GROUP = re.compile(r"<!subteam\^([A-Z0-9]+)(?:\|[^<>]*)?>")
#: How long opening the dialog may wait for people's names, and how many are asked at once.
NAMES_BUDGET_SECONDS = 1.5
NAMES_AT_ONCE = 20
#: Longest wait for Slack's list of user groups while answering a submission (3 s in all).
GROUPS_TIMEOUT_SECONDS = 1.0


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:MAX_OPTION_TEXT]}


def _input(block_id: str, label: str, element: dict[str, Any], *, optional: bool = True) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": {**element, "action_id": VALUE},
    }


async def _lookup(rota: Rota, ids: Iterable[str]) -> dict[str, str]:
    """Display names of ``ids``, asked :data:`NAMES_AT_ONCE` at a time within :data:`NAMES_BUDGET_SECONDS`.

    The dialog must open within Slack's 3 s (the trigger id expires): names Slack has not
    told by then are left out and their ids shown instead.
    """
    found: dict[str, str] = {}
    gate = asyncio.Semaphore(NAMES_AT_ONCE)

    async def one(user: str) -> None:
        async with gate:
            name = await rota.ctx.user_name(user)
        if name:
            found[user] = name

    tasks = [asyncio.ensure_future(one(user)) for user in dict.fromkeys(ids)]
    if not tasks:
        return found
    _done, pending = await asyncio.wait(tasks, timeout=NAMES_BUDGET_SECONDS)
    for task in pending:
        task.cancel()
    if pending:
        rota.ctx.log.warning("the /rota edit dialog shows %d people by id: Slack was slow to name them", len(pending))
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            rota.ctx.log.warning("could not read a display name: %s", task.exception())
    return found


def _named(text: str, names: dict[str, str]) -> str:
    """``<@U1>`` → ``@Anna`` (plain text in a dialog shows no mentions).

    A display name is anyone's to choose: its bidi and zero-width characters are shown as
    ``⟨U+202E⟩`` so a name cannot reverse or hide the rest of an option or an error.
    """
    return _MENTION.sub(lambda found: "@" + show_controls(names.get(found.group(1)) or found.group(1)), text)


async def _names(rota: Rota, text: str) -> str:
    """``text`` with its mentions written as names (see :func:`_named`)."""
    return _named(text, await _lookup(rota, _MENTION.findall(text)))


async def _group_names(rota: Rota, client: AsyncWebClient, text: str) -> str:
    """``<!subteam^S1>`` → ``@shift-leads`` (the group's id when Slack cannot say), for plain text."""
    if not _GROUP.search(text):
        return text
    handles: dict[str, str] = {}
    try:
        answer = await asyncio.wait_for(client.usergroups_list(), GROUPS_TIMEOUT_SECONDS)
        groups = answer.get("usergroups")
        for group in groups if isinstance(groups, list) else []:
            if isinstance(group, dict) and isinstance(group.get("handle"), str):
                handles[str(group.get("id"))] = group["handle"]
    except (SlackApiError, TimeoutError, OSError) as exc:
        rota.ctx.log.warning("could not read the user groups' handles: %s", exc)
    return _GROUP.sub(lambda found: "@" + show_controls(handles.get(found.group(1)) or found.group(1)), text)


async def _targets(rota: Rota) -> dict[str, Any]:
    """The choices of "what to remove": shifts, then covers and swaps not over yet.

    One list holds :data:`MAX_OPTIONS`; a bigger rota gets two groups of that many each, so
    a hundred shifts do not leave the covers and swaps out of the dialog. Empty: none.
    """
    words = words_of(rota)
    schedule = await rota.schedule(fresh=True)
    now = rota.now()
    today = words.local(now).date()
    shifts = []
    for rule in schedule.rules:
        label = f"s{rule.id} · {format_days(rule.days)} {format_time(rule.start)}–{format_time(rule.end)} · "
        shifts.append((f"s{rule.id}", label + " ".join(f"<@{p}>" for p in rule.people)))
    others = []
    for change in schedule.changes:
        if isinstance(change, Cover) and change.end > now:
            text = f"c{change.id} · <@{change.cover}> ⇐ <@{change.absent}> · "
            text += span_text(words, change.start, change.end, change.whole_shifts)
            others.append((f"c{change.id}", text))
        elif isinstance(change, Swap) and change.day >= today:
            others.append((f"w{change.id}", f"w{change.id} · <@{change.first}> ⇄ <@{change.second}> · {change.day}"))

    if not shifts and not others:
        return {}
    # Only names that can show: an option's text is cut at MAX_OPTION_TEXT (a name is rarely
    # much shorter than its mention), so a shift of 20 people asks Slack for a few of them.
    visible = [
        u
        for _, text in shifts[:MAX_OPTIONS] + others[:MAX_OPTIONS]
        for u in _MENTION.findall(text[: 2 * MAX_OPTION_TEXT])
    ]
    names = await _lookup(rota, visible)

    def options(found: list[tuple[str, str]]) -> list[dict[str, Any]]:
        return [{"text": _plain(_named(text, names)), "value": value} for value, text in found[:MAX_OPTIONS]]

    if len(shifts) + len(others) <= MAX_OPTIONS or not shifts or not others:
        return {"options": options(shifts + others)}
    t = rota.ctx.t
    groups = [(t("rota.edit.target_shifts"), shifts), (t("rota.edit.target_changes"), others)]
    return {"option_groups": [{"label": _plain(label), "options": options(found)} for label, found in groups if found]}


async def build(rota: Rota) -> dict[str, Any]:
    """The dialog (every input optional but the action; checked per action on submission)."""
    t = rota.ctx.t
    day_names = t("rota.cmd.weekdays").split(",")
    blocks: list[dict[str, Any]] = [
        _input(
            "action",
            t("rota.edit.action"),
            {
                "type": "radio_buttons",
                "options": [{"text": _plain(t(f"rota.edit.do_{a}")), "value": a} for a in ACTIONS],
            },
            optional=False,
        ),
        _input(
            "people",
            t("rota.edit.people"),
            {"type": "multi_users_select", "max_selected_items": MAX_PEOPLE},
        ),
        _input(
            "days",
            t("rota.edit.days"),
            {
                "type": "checkboxes",
                "options": [{"text": _plain(day_names[i].strip()), "value": WEEKDAYS[i]} for i in range(7)],
            },
        ),
        _input("start", t("rota.edit.start"), {"type": "timepicker"}),
        _input("end", t("rota.edit.end"), {"type": "timepicker"}),
        _input("person", t("rota.edit.person"), {"type": "users_select"}),
        _input("other", t("rota.edit.other"), {"type": "users_select"}),
        _input("first_date", t("rota.edit.first_date"), {"type": "datepicker"}),
        _input("last_date", t("rota.edit.last_date"), {"type": "datepicker"}),
    ]
    targets = await _targets(rota)
    if targets:
        blocks.append(_input("target", t("rota.edit.target"), {"type": "static_select", **targets}))
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": t("rota.edit.hint")}]})
    return {
        "type": "modal",
        "callback_id": VIEW,
        "title": {"type": "plain_text", "text": t("rota.edit.title")[:24]},
        "submit": {"type": "plain_text", "text": t("rota.edit.submit")[:24]},
        "close": {"type": "plain_text", "text": t("rota.edit.close")[:24]},
        "blocks": blocks,
    }


async def open_dialog(rota: Rota, client: AsyncWebClient, trigger_id: str) -> None:
    """Open the dialog for the person whose command carried ``trigger_id``."""
    try:
        await client.views_open(trigger_id=trigger_id, view=await build(rota))
    except Exception:
        # A replayed command's trigger id is used up: the first copy opened the dialog.
        rota.ctx.log.warning("could not open the /rota edit dialog", exc_info=True)


def _value(view: dict[str, Any], block_id: str) -> Any:
    state = (view.get("state") or {}).get("values", {}).get(block_id, {}).get(VALUE) or {}
    return state_value(state) if isinstance(state, dict) else None


class _Invalid(Exception):
    """A submission the dialog cannot carry out: ``errors`` by input block, as Slack shows them."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def read_submission(rota: Rota, view: dict[str, Any]) -> ChangeCommand:
    """The change a submitted dialog asks for; raises :class:`_Invalid` with errors per input."""
    t = rota.ctx.t
    today = rota.now().astimezone(rota.ctx.tz).date()
    errors: dict[str, str] = {}
    action = _value(view, "action")
    if action not in ACTIONS:
        raise _Invalid({"action": t("rota.edit.need_action")})

    def text(block: str) -> str | None:
        value = _value(view, block)
        return value if isinstance(value, str) and value else None

    def need(block: str) -> str:
        value = text(block)
        if value is None:
            errors[block] = t("rota.edit.required")
            return ""
        return value

    if action == "remove":
        if not any(b.get("block_id") == "target" for b in view.get("blocks") or [] if isinstance(b, dict)):
            raise _Invalid({"action": t("rota.edit.nothing_to_remove")})
        target = need("target")
        if errors:
            raise _Invalid(errors)
        kind, number = target[:1], target[1:]
        if kind not in "scw" or not number.isdigit():
            raise _Invalid({"target": t("rota.edit.required")})
        return Remove(kind, int(number))
    if action == "add":
        return _add(rota, view, need, errors)
    person = need("person")
    other = need("other") if action in ("cover", "swap") else ""
    first = need("first_date")
    if errors:
        raise _Invalid(errors)
    if other and other == person:
        raise _Invalid({"other": t("rota.parse.same_person")})
    try:
        if action == "swap":
            return SwapCmd(person, other, read_date("swap", first, today))
        span = read_span(action, _span_tokens(first, text("last_date"), text("start"), text("end")), today)
    except ParseError as error:
        raise _Invalid({"first_date": t(error.key, **error.values)[:MAX_ERROR]}) from None
    return CoverCmd(person, other, span) if action == "cover" else Uncover(person, span)


def _span_tokens(first: str, last: str | None, start: str | None, end: str | None) -> list[str]:
    """The dialog's dates and times as the text command's range: ``2026-12-01 12:00..2026-12-02 18:00``."""
    if start is None and end is None:
        return [f"{first}..{last or first}"]
    left = f"{first} {start or '00:00'}"
    right = f"{last or first} {end}" if end else (last or "")
    return [*left.split(), "..", *right.split()] if right else [*left.split(), ".."]


def _add(rota: Rota, view: dict[str, Any], need: Callable[[str], str], errors: dict[str, str]) -> Add:
    t = rota.ctx.t
    people = _value(view, "people")
    if not isinstance(people, list) or not people:
        errors["people"] = t("rota.edit.required")
        people = []
    elif len(people) > MAX_PEOPLE:
        errors["people"] = t("rota.parse.too_many", limit=MAX_PEOPLE)
    days = _value(view, "days")
    if not isinstance(days, list) or not days:
        errors["days"] = t("rota.edit.required")
        days = []
    start_text, end_text = need("start"), need("end")
    if errors:
        raise _Invalid(errors)
    try:
        start, end = parse_time(start_text, allow_end_of_day=False), parse_time(end_text)
    except SpecError:
        raise _Invalid({"start": t("rota.parse.times", text=f"{start_text}-{end_text}")}) from None
    if end == 0:
        # A time picker has no 24:00: "to 00:00" is midnight at the end of the day.
        end = DAY_MINUTES
    if start == end:
        raise _Invalid({"end": t("rota.parse.times", text=f"{start_text}-{end_text}")})
    day_numbers = frozenset(WEEKDAYS.index(d) for d in days if d in WEEKDAYS)
    if not day_numbers:
        raise _Invalid({"days": t("rota.edit.required")})
    return Add(day_numbers, start, end, tuple(dict.fromkeys(str(p) for p in people)))


_FIELD_BLOCKS = {"target": "target", "absent": "person", "other": "other", "span": "first_date", "day": "first_date"}


def register(rota: Rota, bolt: AsyncApp, leads: Leads) -> None:
    """Listen for the dialog's submissions."""

    @bolt.view(VIEW)
    async def submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
        user = str((body.get("user") or {}).get("id") or "")
        try:
            check = await leads.check(user, client)
            if not check.ok:
                refusal = await _group_names(rota, client, await _names(rota, leads.refusal(check)))
                await ack(response_action="errors", errors={"action": refusal[:MAX_ERROR]})
                return
            try:
                command = read_submission(rota, view)
            except _Invalid as invalid:
                await ack(response_action="errors", errors=invalid.errors)
                return
            # Slack keeps a view's hash when a submission's answer was lost: the values are part of the
            # key, so a replay changes nothing twice and a resubmission with other values is a change of its own.
            values = json.dumps((view.get("state") or {}).get("values"), sort_keys=True, default=str)
            digest = hashlib.sha256(f"{view.get('id')}\x1f{view.get('hash')}\x1f{values}".encode()).hexdigest()
            outcome = await changes.apply(rota, user, command, "view:" + digest)
            if not outcome.ok:
                block = _FIELD_BLOCKS.get(outcome.field or "", "action")
                await ack(response_action="errors", errors={block: (await _names(rota, outcome.text))[:MAX_ERROR]})
                return
            await ack()
        except Exception:
            rota.ctx.log.exception("/rota edit failed")
            await ack(response_action="errors", errors={"action": rota.ctx.t("rota.cmd.failed")[:MAX_ERROR]})
