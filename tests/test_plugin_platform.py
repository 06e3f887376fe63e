"""The plugin platform, driven through the real bot: lifecycle, texts, events, reply checks, acting as the bot."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select

from chatops.events import ConversationEvent
from chatops.hookspecs import hookimpl
from chatops.interception import ReplyDraft, Rewrite, Veto
from chatops.models import AuditEntry
from chatops.plugins import PluginFailed
from chatops.sources import MessageEdited, MessageRemoved
from chatops.testing.bot import CallbackReceiver, TestBot
from chatops.testing.fake_slack import FakeSlack
from chatops.testing.slack_requests import slash_command_body

WEBHOOK_AND = ["webhook"]


def _bot(fake_slack: FakeSlack, database_url: str, **plugins: object) -> TestBot:
    config = {"plugins": {"enabled": [*WEBHOOK_AND, *plugins]}}
    return TestBot(fake_slack, database_url, config=config, extra_plugins=plugins)


def _texts(**overrides: dict[str, str]) -> dict[str, dict[str, str]]:
    texts = {
        "en": {"lifecycle.hi": "Hi {name}"},
        "fi": {"lifecycle.hi": "Hei {name}"},
        "pl": {"lifecycle.hi": "Cześć {name}"},
    }
    texts.update(overrides)
    return texts


class Lifecycle:
    """Records start-up and shutdown with the context it was given."""

    def __init__(self, log: list[str], name: str, *, fail: bool = False) -> None:
        self.log = log
        self.name = name
        self.fail = fail

    @hookimpl
    async def chatops_startup(self, ctx: Any) -> None:
        if self.fail:
            raise RuntimeError("cannot reach the calendar\nsecond line")
        self.log.append(f"start {ctx.name}")

    @hookimpl
    def chatops_shutdown(self, ctx: Any) -> None:
        self.log.append(f"stop {ctx.name}")


async def test_plugins_start_in_the_enabled_order_and_stop_in_reverse(fake_slack: FakeSlack, database_url: str) -> None:
    log: list[str] = []
    async with _bot(fake_slack, database_url, one=Lifecycle(log, "one"), two=Lifecycle(log, "two")) as bot:
        assert bot.app is not None
        assert log == ["start one", "start two"]
    assert log == ["start one", "start two", "stop two", "stop one"]


async def test_a_plugin_failing_to_start_stops_the_bot_with_one_line_naming_it(
    fake_slack: FakeSlack, database_url: str
) -> None:
    log: list[str] = []
    bot = _bot(fake_slack, database_url, good=Lifecycle(log, "good"), bad=Lifecycle(log, "bad", fail=True))
    with pytest.raises(PluginFailed) as failed:
        await bot.start()
    await bot.stop()
    assert str(failed.value) == "plugin bad: failed to start: RuntimeError: cannot reach the calendar second line"
    assert "\n" not in str(failed.value)


async def test_any_plugin_brings_texts_in_three_languages_checked_at_start(
    fake_slack: FakeSlack, database_url: str
) -> None:
    class Speaks:
        @hookimpl
        def chatops_texts(self) -> dict[str, dict[str, str]]:
            return _texts()

    class Incomplete:
        @hookimpl
        def chatops_texts(self) -> dict[str, dict[str, str]]:
            return _texts(pl={})

    class WrongPlaceholder:
        @hookimpl
        def chatops_texts(self) -> dict[str, dict[str, str]]:
            return _texts(fi={"lifecycle.hi": "Hei {nimi}"})

    async with TestBot(
        fake_slack,
        database_url,
        config={"team": {"language": "pl"}, "plugins": {"enabled": ["webhook", "speaks"]}},
        extra_plugins={"speaks": Speaks()},
    ) as bot:
        assert bot.app is not None
        assert bot.app.context("speaks").t("lifecycle.hi", name="Anna") == "Cześć Anna"
    with pytest.raises(PluginFailed, match=r"plugin incomplete: incomplete texts: .*pl.*lifecycle\.hi"):
        _bot(fake_slack, database_url, incomplete=Incomplete()).settings  # noqa: B018
        from chatops.app import ChatOps

        ChatOps(
            _bot(fake_slack, database_url, incomplete=Incomplete()).settings, extra_plugins={"incomplete": Incomplete()}
        )
    with pytest.raises(PluginFailed, match=r"plugin wrong: incomplete texts: .*lifecycle\.hi"):
        from chatops.app import ChatOps

        ChatOps(
            _bot(fake_slack, database_url, wrong=WrongPlaceholder()).settings,
            extra_plugins={"wrong": WrongPlaceholder()},
        )


async def test_a_command_no_plugin_handles_gets_a_generic_answer_and_a_plugins_own_command_works(
    fake_slack: FakeSlack, database_url: str
) -> None:
    class Hello:
        @hookimpl
        def chatops_slack_listeners(self, ctx: Any, bolt: Any) -> None:
            @bolt.command("/hello")
            async def hello(ack: Any) -> None:
                await ack(f"hello from {ctx.name}")

    async with _bot(fake_slack, database_url, hello=Hello()) as bot:
        anna = bot.person("Anna")

        async def command(name: str) -> str:
            body = slash_command_body(command=name, text="", user_id=anna.id, user_name="anna", channel_id="C1")
            response = await bot.slack_request(body)
            assert response.status_code == 200
            return response.text

        assert await command("/hello") == "hello from hello"
        for unknown in ("/rota", "/anything"):
            answer = await command(unknown)
            assert f"{unknown} is not enabled here" in answer
            assert "rota plugin" not in answer


class Recorder:
    """Every committed event, as a plugin hears it."""

    def __init__(self) -> None:
        self.events: list[ConversationEvent] = []
        self._waiting: dict[str, asyncio.Event] = {}

    @hookimpl
    def chatops_event(self, ctx: Any, event: ConversationEvent) -> None:
        self.events.append(event)
        self.heard(event.action).set()

    def heard(self, action: str) -> asyncio.Event:
        """Set once an event with ``action`` was heard."""
        return self._waiting.setdefault(action, asyncio.Event())

    def actions(self, conversation_id: int | None = None) -> list[str]:
        return [e.action for e in self.events if conversation_id is None or e.conversation_id == conversation_id]


async def test_plugins_hear_every_change_after_commit_with_the_audit_logs_names(
    fake_slack: FakeSlack, database_url: str, callback: CallbackReceiver
) -> None:
    recorder = Recorder()
    async with _bot(fake_slack, database_url, recorder=recorder) as bot:
        assert bot.app is not None
        anna, jari = bot.person("Anna"), bot.person("Jari")
        await bot.comment("Where is my parcel?", reply_url=callback.url, id="e-1", thread_id="e")
        card = await bot.next_card()
        await bot.click(anna, card, "claim")
        callback.fail_next(status=400, text="refused", times=1)
        await bot.reply(anna, card, "On its way!")
        card = await card.wait_for(lambda c: "retry" in c.buttons)
        await bot.click(anna, card, "retry")
        await callback.wait_for(1)
        tag_view = await bot.open_modal(jari, card, "tag")
        await bot.submit(jari, tag_view, {"new_tags": {"new_tags": "parcel"}})
        escalate_view = await bot.open_modal(jari, card, "escalate")
        await bot.submit(jari, escalate_view, {"reason": {"reason": "angry"}})
        await bot.idle()
        card = await card.wait_for(lambda c: "resolve" in c.buttons)
        await bot.click(anna, card, "resolve")
        await card.wait_for(lambda c: "reopen" in c.buttons)
        await bot.comment("Still nothing!", reply_url=callback.url, id="e-2", thread_id="e")
        # The author edits the first message and removes the second (as a source reports it).
        await bot.app.ingest(MessageEdited("webhook", "e-1", "Where is my parcel??"))
        await bot.app.ingest(MessageRemoved("webhook", "e-2"))
        await bot.idle()
        await bot.app.events.drain()
        async with bot.app.db.read() as session:
            audit = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    conversation = card.conversation_id
    # Exactly the audit log, line for line, in commit order.
    assert [(e.action, e.actor, e.at) for e in recorder.events] == [(a.action, a.actor, a.at) for a in audit]
    actions = recorder.actions(conversation)
    for expected in (
        "received",
        "claimed",
        "reply_queued",
        "reply_failed",
        "retry",
        "reply_sent",
        "tagged",
        "escalated",
        "resolved",
        "reopened",
        "edited",
        "removed",
    ):
        assert expected in actions, f"{expected} not heard; heard {actions}"
    sent = next(e for e in recorder.events if e.action == "reply_sent")
    assert sent.actor == anna.id and sent.message_id is not None and sent.at.tzinfo is not None
    reopened = next(e for e in recorder.events if e.action == "reopened")
    assert reopened.actor == "customer" and reopened.detail == {"reason": "follow-up"}
    assert actions.index("reply_failed") < actions.index("retry") < actions.index("reply_sent")


async def test_a_transaction_that_rolls_back_tells_nobody(fake_slack: FakeSlack, database_url: str) -> None:
    recorder = Recorder()
    async with _bot(fake_slack, database_url, recorder=recorder) as bot:
        assert bot.app is not None
        with pytest.raises(RuntimeError):
            async with bot.app.db.write() as session:
                bot.app.store.add_audit(session, None, "test", "never_committed")
                raise RuntimeError("the transaction fails after the audit line was added")
        await bot.comment("after the failure")
        await bot.next_card()
        await bot.app.events.drain()
    assert "never_committed" not in recorder.actions()
    assert "received" in recorder.actions()


async def test_a_slow_or_failing_listener_holds_up_no_click_and_no_other_plugin(
    fake_slack: FakeSlack, database_url: str
) -> None:
    release = asyncio.Event()

    class Slow:
        @hookimpl
        async def chatops_event(self, event: ConversationEvent) -> None:
            await release.wait()

    class Failing:
        @hookimpl
        def chatops_event(self, event: ConversationEvent) -> None:
            raise RuntimeError("listener bug")

    recorder = Recorder()
    async with _bot(fake_slack, database_url, slow=Slow(), failing=Failing(), recorder=recorder) as bot:
        assert bot.app is not None
        anna = bot.person("Anna")
        await bot.comment("hello")
        card = await bot.next_card()
        await bot.click(anna, card, "claim")
        await card.wait_for(lambda c: "Claimed by <@UANNA>" in c.text)
        # The slow plugin has not returned from the first event, yet the recorder hears everything.
        async with asyncio.timeout(5):
            await recorder.heard("claimed").wait()
        assert not release.is_set()
        release.set()
        await bot.app.events.drain()


class Checker:
    """A saved-replies input, a forbidden-word veto and a rewrite: what the reply dialog offers plugins."""

    def __init__(self) -> None:
        self.drafts: list[ReplyDraft] = []
        self.explode = False

    @hookimpl
    def chatops_reply_inputs(self, ctx: Any, card: Any, kind: str) -> list[dict[str, Any]]:
        return [
            {
                "type": "input",
                "block_id": "saved",
                "optional": True,
                "label": {"type": "plain_text", "text": "Saved reply"},
                "element": {
                    "type": "static_select",
                    "action_id": "choice",
                    "options": [{"text": {"type": "plain_text", "text": "Thanks"}, "value": "thanks"}],
                },
            },
            {"type": "video", "title": "not allowed in a dialog"},
        ]

    @hookimpl
    async def chatops_reply_check(self, ctx: Any, draft: ReplyDraft) -> Veto | Rewrite | None:
        self.drafts.append(draft)
        if self.explode:
            raise RuntimeError("checker bug")
        if "darn" in draft.text:
            return Veto("Please keep it polite: no 'darn'.")
        if not draft.text.strip() and draft.inputs.get("saved") == "thanks":
            return Rewrite("Thank you for writing to us!", "the saved reply 'Thanks' was used")
        return None


async def test_a_plugin_adds_dialog_inputs_and_vetoes_or_rewrites_replies(
    fake_slack: FakeSlack, database_url: str, callback: CallbackReceiver
) -> None:
    checker = Checker()
    async with _bot(fake_slack, database_url, checker=checker) as bot:
        anna = bot.person("Anna")
        await bot.comment("Hi!", reply_url=callback.url)
        card = await bot.next_card()
        view = await bot.open_modal(anna, card, "reply")
        ids = [b.get("block_id") for b in view["blocks"]]
        assert "plugin:checker:saved" in ids
        assert all(b.get("type") != "video" for b in view["blocks"])
        text_block = next(b for b in view["blocks"] if b.get("block_id") == "text")
        assert text_block.get("optional") is True

        refused = await bot.submit(anna, view, {"text": {"text": "darn late, sorry"}})
        assert refused.json() == {"response_action": "errors", "errors": {"text": "Please keep it polite: no 'darn'."}}

        view = await bot.open_modal(anna, card, "reply")
        accepted = await bot.submit(
            anna,
            view,
            {
                "text": {"text": ""},
                "plugin:checker:saved": {
                    "choice": {"type": "static_select", "selected_option": {"value": "thanks", "text": {}}}
                },
            },
        )
        assert accepted.status_code == 200 and not accepted.text
        [reply] = await callback.wait_for(1)
        assert reply["text"] == "Thank you for writing to us!"
        await asyncio.sleep(0.2)
        assert any("the saved reply 'Thanks' was used" in e for e in bot.ephemerals(anna))
        assert checker.drafts[-1].inputs == {"saved": "thanks"}

        checker.explode = True
        view = await bot.open_modal(anna, card, "reply")
        failed = await bot.submit(anna, view, {"text": {"text": "fine text"}})
        assert failed.json()["errors"]["text"].startswith("The reply could not be checked (checker)")
    assert len(callback.accepted) == 1


class Router:
    """Routes every new conversation to Jari, answers out of hours, and notes why."""

    def __init__(self) -> None:
        self.ctx: Any = None

    @hookimpl
    async def chatops_inbound(self, ctx: Any, message: Any, conversation_id: int, new: bool) -> None:
        self.ctx = ctx
        if new:
            assert await ctx.conversations.assign(conversation_id, "UJARI")
            outcome = await ctx.conversations.auto_reply(conversation_id, "We're closed, back at 8.")
            assert outcome.ok
            assert await ctx.conversations.note(conversation_id, "Routed to <!channel> *Jari* (on shift)")


async def test_a_plugin_acts_as_the_bot_and_the_audit_log_says_so(
    fake_slack: FakeSlack, database_url: str, callback: CallbackReceiver
) -> None:
    router = Router()
    async with _bot(fake_slack, database_url, router=router) as bot:
        assert bot.app is not None
        bot.person("Jari")
        anna = bot.person("Anna")
        await bot.comment("Are you open?", reply_url=callback.url)
        card = await bot.next_card()
        [auto] = await callback.wait_for(1)
        assert auto["text"] == "We're closed, back at 8."
        card = await card.wait_for(lambda c: "<@UJARI>" in c.text)
        # The note lands in the card's thread, escaped: a plugin's text pings nobody.
        card = await card.wait_for(lambda c: "Routed to" in c.thread_text())
        assert "🤖 router: Routed to &lt;!channel&gt; *Jari* (on shift)" in card.thread_text()
        assert "<!channel>" not in card.thread_text()
        # Someone owns it: routing does not take it away, unless told to.
        assert not await router.ctx.conversations.assign(card.conversation_id, "UANNA")
        assert await router.ctx.conversations.assign(card.conversation_id, "UANNA", replace=True)
        await card.wait_for(lambda c: "<@UANNA>" in c.text)
        await bot.click(anna, card, "resolve")
        await bot.idle()
        async with bot.app.db.read() as session:
            audit = [
                (a.actor, a.action, a.detail)
                for a in (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
                if a.actor.startswith("bot:")
            ]
    assert ("bot:router", "assigned", {"assignee": "UJARI", "previous": None}) in audit
    assert ("bot:router", "assigned", {"assignee": "UANNA", "previous": "UJARI"}) in audit
    assert any(actor == "bot:router" and action == "reply_queued" for actor, action, _ in audit)
    assert any(actor == "bot:router" and action == "reply_sent" for actor, action, _ in audit)


async def test_a_plugin_writes_its_own_audit_lines_which_others_hear_only_once_committed(
    fake_slack: FakeSlack, database_url: str
) -> None:
    heard: list[ConversationEvent] = []

    class Listener:
        @hookimpl
        def chatops_event(self, event: ConversationEvent) -> None:
            if event.action.startswith("rota."):
                heard.append(event)

    async with _bot(fake_slack, database_url, rota=object(), listener=Listener()) as bot:
        assert bot.app is not None
        ctx = bot.app.context("rota")
        assert await ctx.audit("shift_added", "ULENA", days="mon-fri") == "rota.shift_added"
        with pytest.raises(RuntimeError):
            async with ctx.db.write() as session:
                await ctx.audit("shift_removed", "ULENA", session=session, shift=3)
                raise RuntimeError("the change failed: its audit line goes with it")
        with pytest.raises(ValueError, match="without dots"):
            await ctx.audit("chatops.resolved", "ULENA")
        async with bot.app.db.read() as session:
            rows = (await session.execute(select(AuditEntry).where(AuditEntry.action.like("rota.%")))).scalars().all()
        assert [(r.action, r.actor, r.detail, r.conversation_id) for r in rows] == [
            ("rota.shift_added", "ULENA", {"days": "mon-fri"}, None)
        ]
        for _ in range(200):
            if heard:
                break
            await asyncio.sleep(0.01)
        assert [(e.action, e.actor, e.detail) for e in heard] == [("rota.shift_added", "ULENA", {"days": "mon-fri"})]


async def test_a_plugin_reads_another_enabled_plugins_validated_config_and_none_for_one_not_enabled(
    fake_slack: FakeSlack, database_url: str
) -> None:
    from pydantic import BaseModel

    class HoursConfig(BaseModel):
        opens: str = "08:00"

    class Hours:
        @hookimpl
        def chatops_config_model(self, name: str) -> type[BaseModel] | None:
            return HoursConfig if name == "hours" else None

    config = {"plugins": {"enabled": ["webhook", "hours", "watcher"], "hours": {"opens": "09:00"}}}
    bot = TestBot(fake_slack, database_url, config=config, extra_plugins={"hours": Hours(), "watcher": object()})
    async with bot:
        assert bot.app is not None
        ctx = bot.app.context("watcher")
        # The other plugin's own model, validated: how the digest reads the rota's service hours.
        assert ctx.plugin_config("hours") == HoursConfig(opens="09:00")
        assert ctx.plugin_config("rota") is None, "installed but not enabled"
        assert ctx.plugin_config("no-such-plugin") is None
