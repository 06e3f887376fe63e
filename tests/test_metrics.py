"""``GET /metrics``: what a Prometheus scrape of a running bot reads, value by value."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl

from apscheduler.triggers.interval import IntervalTrigger
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from chatops import __version__
from chatops import store as kinds
from chatops.app import ChatOps
from chatops.config import parse_settings
from chatops.jobs import Job
from chatops.server import connect_socket_mode
from chatops.testing.bot import CallbackReceiver, TestBot
from chatops.testing.fake_slack import FakeSlack
from chatops.testing.slack_requests import signed_headers, slash_command_body

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(bot: TestBot) -> Samples:
    """Every sample of the bot's ``/metrics``, parsed as Prometheus parses it."""
    assert bot.http is not None
    response = await bot.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return parse(response.text)


def parse(text: str) -> Samples:
    """Samples by name and labels, parsed as Prometheus parses the exposition format."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; fails naming what there is when it is absent."""
    key = (name, frozenset(labels.items()))
    assert key in samples, f"no {name}{labels}; have {sorted(k for k in samples if k[0] == name)}"
    return samples[key]


async def scrape_until(bot: TestBot, name: str, labels: Mapping[str, str], expected: float) -> Samples:
    """Scrape until ``name{labels}`` reads ``expected`` (an ack is counted just after its response went out)."""
    deadline = time.monotonic() + 5
    while True:
        samples = await scrape(bot)
        if samples.get((name, frozenset(labels.items()))) == expected or time.monotonic() > deadline:
            return samples
        await asyncio.sleep(0.02)


async def test_a_scrape_counts_messages_cards_replies_429s_and_job_runs(
    bot: TestBot, callback: CallbackReceiver
) -> None:
    assert bot.app is not None
    anna = bot.person("Anna")
    before = await scrape(bot)
    # Every source's series exists from the start, at zero.
    assert value(before, "chatops_messages_received_total", source="webhook") == 0
    assert value(before, "chatops_replies_total", source="webhook", outcome="sent") == 0
    assert value(before, "chatops_build_info", version=__version__) == 1

    # The first card is refused once with a 429; it is posted after the Retry-After.
    bot.slack.fail_next("chat.postMessage", status=429, retry_after=1)
    payload = bot.comment_payload("Where is my order?", reply_url=callback.url)
    assert (await bot.webhook(payload)).status_code == 201
    assert (await bot.webhook(payload)).status_code == 200  # the platform delivers it twice: a duplicate
    first = await bot.next_card(timeout=10)
    await bot.reply(anna, first, "On its way!")
    await callback.wait_for(1)

    callback.fail_next(404, "no such ticket")
    await bot.comment("Refund please", reply_url=callback.url)
    second = await bot.next_card()
    await bot.reply(anna, second, "Refund is on its way.")
    await second.wait_for(lambda c: "retry" in c.buttons)

    async def fine(due_at: datetime) -> None:
        return None

    async def broken(due_at: datetime) -> None:
        raise RuntimeError("digest query failed")

    bot.app.scheduler.jobs["fine"] = Job("fine", IntervalTrigger(minutes=5), fine)
    bot.app.scheduler.jobs["broken"] = Job("broken", IntervalTrigger(minutes=5), broken)
    due = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # long past: the failure is not tried again
    assert await bot.app.scheduler.run_claimed("fine", due)
    assert await bot.app.scheduler.run_claimed("broken", due)
    assert not await bot.app.scheduler.run_claimed("fine", due)  # already claimed: not a run
    await bot.idle()

    samples = await scrape(bot)
    assert value(samples, "chatops_messages_received_total", source="webhook") == 2
    assert value(samples, "chatops_messages_duplicate_total", source="webhook") == 1
    assert value(samples, "chatops_cards_posted_total", source="webhook") == 2
    assert value(samples, "chatops_replies_total", source="webhook", outcome="sent") == 1
    assert value(samples, "chatops_replies_total", source="webhook", outcome="failed") == 1
    assert value(samples, "chatops_replies_total", source="webhook", outcome="retrying") == 0
    assert value(samples, "chatops_slack_rate_limited_total", method="chat.postMessage") == 1
    assert value(samples, "chatops_job_runs_total", job="fine", outcome="ok") == 1
    assert value(samples, "chatops_job_runs_total", job="broken", outcome="failed") == 1
    assert ("chatops_job_runs_total", frozenset({("job", "fine"), ("outcome", "failed")})) not in samples
    # Two Reply clicks and two submissions were acknowledged, plus the fake's metadata events.
    assert value(samples, "chatops_slack_ack_seconds_count", transport="http") >= 4
    assert value(samples, "chatops_outbox_readable") == 1
    assert value(samples, "chatops_outbox_pending_jobs", kind=kinds.POST_CARD) == 0


async def test_each_acknowledged_slack_request_is_timed_once_and_a_forged_one_not(
    fake_slack: FakeSlack, database_url: str
) -> None:
    async with TestBot(fake_slack, database_url, metadata_events=False) as bot:
        assert bot.http is not None
        lead = bot.person("Lead")
        await bot.command(lead, "/chatops", "help")
        samples = await scrape_until(bot, "chatops_slack_ack_seconds_count", {"transport": "http"}, 1)
        assert value(samples, "chatops_slack_ack_seconds_count", transport="http") == 1
        assert value(samples, "chatops_slack_ack_seconds_sum", transport="http") > 0
        # Slack asks for an ack within 3 s: the bucket at 3 s is there to alert on.
        assert ("chatops_slack_ack_seconds_bucket", frozenset({("transport", "http"), ("le", "3.0")})) in samples

        body = "command=%2Fchatops&text=help&user_id=ULEAD"
        forged = await bot.http.post("/slack/events", content=body, headers=signed_headers("wrong-secret", body))
        assert forged.status_code == 401
        samples = await scrape(bot)
        assert value(samples, "chatops_slack_ack_seconds_count", transport="http") == 1


async def test_outbox_depth_and_oldest_age_per_kind_while_delivery_is_stopped(
    fake_slack: FakeSlack, database_url: str
) -> None:
    async with TestBot(fake_slack, database_url, deliver=False) as bot:
        empty = await scrape(bot)
        assert value(empty, "chatops_outbox_pending_jobs", kind=kinds.POST_CARD) == 0
        assert value(empty, "chatops_outbox_oldest_pending_age_seconds", kind=kinds.POST_CARD) == 0
        await bot.comment("first, while delivery is stopped")
        await bot.comment("second, while delivery is stopped")
        samples = await scrape(bot)
        assert value(samples, "chatops_outbox_pending_jobs", kind=kinds.POST_CARD) == 2
        assert value(samples, "chatops_outbox_oldest_pending_age_seconds", kind=kinds.POST_CARD) > 0
        # Kinds with nothing queued are shown at zero, not left out.
        assert value(samples, "chatops_outbox_pending_jobs", kind=kinds.SEND_ANSWER) == 0
        assert value(samples, "chatops_outbox_dead_jobs", kind=kinds.POST_CARD) == 0
        assert value(samples, "chatops_messages_received_total", source="webhook") == 2
        assert value(samples, "chatops_cards_posted_total", source="webhook") == 0


async def test_metrics_can_be_turned_off(fake_slack: FakeSlack, database_url: str) -> None:
    async with TestBot(fake_slack, database_url, config={"http": {"metrics": False}}) as bot:
        assert bot.http is not None
        assert (await bot.http.get("/metrics")).status_code == 404
        assert (await bot.http.get("/healthz")).status_code == 200


async def test_two_bots_in_one_process_count_apart(fake_slack: FakeSlack, database_url: str) -> None:
    async with (
        TestBot(fake_slack, database_url, instance_id="a") as one,
        TestBot(fake_slack, database_url, instance_id="b") as two,
    ):
        await one.comment("only to the first bot")
        assert value(await scrape(one), "chatops_messages_received_total", source="webhook") == 1
        assert value(await scrape(two), "chatops_messages_received_total", source="webhook") == 0


async def test_socket_mode_acks_are_timed(fake_slack: FakeSlack, tmp_path: Path) -> None:
    settings = parse_settings(
        {
            "slack": {
                "mode": "socket",
                "bot_token": fake_slack.bot_token,
                "app_token": fake_slack.app_token,
                "api_url": fake_slack.api_url,
                "inbox_channel": "CINBOX",
            },
            "database": {"url": f"sqlite+aiosqlite:///{tmp_path / 'chatops.db'}"},
            "plugins": {"enabled": []},
        },
        environ={},
    )
    app = ChatOps(settings, instance_id="socket-metrics")
    await app.start(deliver=False)
    handler = await connect_socket_mode(app)
    try:
        await fake_slack.wait_for_socket()
        body = slash_command_body(command="/chatops", text="help", user_id="UANNA", user_name="anna", channel_id="C1")
        ack = await fake_slack.send_socket_envelope(
            dict(parse_qsl(body)), type="slash_commands", accepts_response_payload=True
        )
        assert ack["envelope_id"]
        deadline = time.monotonic() + 5
        while True:  # the time is recorded just after the ack went out
            samples = parse(generate_latest(app.metrics.registry).decode())
            if samples.get(("chatops_slack_ack_seconds_count", frozenset({("transport", "socket_mode")}))) or (
                time.monotonic() > deadline
            ):
                break
            await asyncio.sleep(0.02)
        assert value(samples, "chatops_slack_ack_seconds_count", transport="socket_mode") == 1
        assert value(samples, "chatops_slack_ack_seconds_sum", transport="socket_mode") > 0
    finally:
        await handler.close_async()
        await app.stop()
