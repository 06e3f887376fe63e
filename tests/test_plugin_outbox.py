"""A plugin's outbox: its own jobs and Slack posts, paced, retried, given up with an alert, never doubled.

Everything runs through the real delivery worker of a running bot against the fake Slack over HTTP.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from chatops.models import Alert, OutboxJob, utcnow
from chatops.outbox import PluginJob, PluginOutbox, Upload
from chatops.outbox.plugin import MAX_UPLOAD_BYTES
from chatops.testing.bot import OPS, TestBot
from chatops.testing.fake_slack import UPLOAD_METHOD, FakeSlack

ROTA = "CROTA"
LEADS = "CLEADS"


def outbox_of(bot: TestBot, plugin: str = "rota") -> PluginOutbox:
    """The outbox the plugin ``plugin`` would get from the core."""
    assert bot.app is not None
    return PluginOutbox(plugin, bot.app.db, bot.app.delivery.kinds, bot.app.delivery.wake)


async def job_row(bot: TestBot, job_id: int) -> OutboxJob:
    assert bot.app is not None
    async with bot.app.db.read() as session:
        return await session.get_one(OutboxJob, job_id)


async def wait_until_done(bot: TestBot, job_id: int, timeout: float = 10.0) -> OutboxJob:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while (row := await job_row(bot, job_id)).status == "pending":
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still pending: {row.last_error}")
        await asyncio.sleep(0.02)
    return row


async def test_a_plugin_kind_runs_and_posts_once(bot: TestBot) -> None:
    outbox = outbox_of(bot)
    seen: list[PluginJob] = []

    async def remind(job: PluginJob) -> None:
        seen.append(job)
        await job.post(channel=job.payload["channel"], text=f"Your shift starts at {job.payload['at']}")

    outbox.register("remind", remind)
    job_id = await outbox.enqueue("remind", {"channel": ROTA, "at": "08:00"}, channel=ROTA)
    [call] = await bot.slack.wait_for("chat.postMessage", lambda c: c.ok and c.args.get("channel") == ROTA)
    assert call.args["text"] == "Your shift starts at 08:00"
    row = await wait_until_done(bot, job_id)
    assert (row.kind, row.status, row.attempts) == ("rota:remind", "done", 0)
    assert [(j.id, j.kind, j.payload, j.channel) for j in seen] == [
        (job_id, "remind", {"channel": ROTA, "at": "08:00"}, ROTA)
    ]


async def test_kinds_are_checked_when_registered_and_queued(bot: TestBot) -> None:
    outbox = outbox_of(bot)

    async def nothing(job: PluginJob) -> None:
        return None

    outbox.register("remind", nothing)
    with pytest.raises(ValueError, match="registered already"):
        outbox.register("remind", nothing)
    with pytest.raises(ValueError, match="characters"):
        outbox.register("x" * 64, nothing)
    with pytest.raises(ValueError, match="not registered"):
        await outbox.enqueue("unknown", {})
    # Another plugin's kind of the same name is its own.
    outbox_of(bot, "digest").register("remind", nothing)


async def test_a_failing_job_is_retried_then_given_up_with_one_ops_alert_cleared_by_a_success(
    fake_slack: FakeSlack, database_url: str
) -> None:
    config = {"delivery": {"max_attempts": 3, "backoff_base_seconds": 0.05}}
    async with TestBot(fake_slack, database_url, config=config) as bot:
        assert bot.app is not None
        outbox = outbox_of(bot)
        runs: list[tuple[int, int]] = []
        broken = [True]

        async def nudge(job: PluginJob) -> None:
            runs.append((job.id, job.attempts))
            if broken[0]:
                raise ConnectionError("calendar unreachable")

        outbox.register("nudge", nudge)
        job_id = await outbox.enqueue("nudge", {"who": "UANNA"})
        [alert] = await fake_slack.wait_for("chat.postMessage", lambda c: c.ok and c.args.get("channel") == OPS)
        row = await wait_until_done(bot, job_id)
        assert (row.status, row.attempts, row.last_error) == ("dead", 3, "ConnectionError: calendar unreachable")
        assert runs == [(job_id, 0), (job_id, 1), (job_id, 2)]
        text = alert.args["text"]
        assert "rota" in text and "rota:nudge" in text and "calendar unreachable" in text
        assert f"chatops outbox retry {job_id}" in text

        # A second job of the kind that fails adds no second alert; the kind's next success clears it.
        second = await outbox.enqueue("nudge", {"who": "UBEN"})
        await wait_until_done(bot, second)
        broken[0] = False
        third = await outbox.enqueue("nudge", {"who": "UCARL"})
        assert (await wait_until_done(bot, third)).status == "done"
        await bot.idle()
        assert len([c for c in fake_slack.calls_to("chat.postMessage") if c.args.get("channel") == OPS]) == 1
        # The success is recorded first, the alert cleared right after it: wait for the clear.
        deadline = asyncio.get_running_loop().time() + 5
        while True:
            async with bot.app.db.read() as session:
                stored = await session.get_one(Alert, ("rota", "outbox:rota:nudge"))
            if stored.cleared_at is not None or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.02)
        assert stored.cleared_at is not None


async def test_messages_to_two_channels_are_paced_per_channel(fake_slack: FakeSlack, database_url: str) -> None:
    fake_slack.post_interval = 0.3  # the fake answers 429 to a channel posted to sooner than this
    config = {"slack": {"post_interval_seconds": 0.3}}
    async with TestBot(fake_slack, database_url, config=config) as bot:
        outbox = outbox_of(bot)
        ids = [await outbox.post_message(ROTA, text=f"rota {i}") for i in range(3)]
        ids += [await outbox.post_message(LEADS, text=f"leads {i}") for i in range(3)]
        for job_id in ids:
            assert (await wait_until_done(bot, job_id)).status == "done"
    posts = [c for c in fake_slack.calls_to("chat.postMessage") if c.ok]
    assert fake_slack.rate_limited == 0
    by_channel = {ch: [c for c in posts if c.args["channel"] == ch] for ch in (ROTA, LEADS)}
    assert [c.args["text"] for c in by_channel[ROTA]] == ["rota 0", "rota 1", "rota 2"]
    assert [c.args["text"] for c in by_channel[LEADS]] == ["leads 0", "leads 1", "leads 2"]
    for calls in by_channel.values():
        assert min(b.at - a.at for a, b in itertools.pairwise(calls)) >= 0.29
    # The second channel does not wait behind the first one's pace: its first message goes
    # out before the first channel's second.
    assert posts.index(by_channel[LEADS][0]) < posts.index(by_channel[ROTA][1])


async def test_a_429_is_waited_out_and_the_message_posted_once(bot: TestBot) -> None:
    bot.slack.fail_next("chat.postMessage", status=429, retry_after=1)
    job_id = await outbox_of(bot).post_message(ROTA, text="Hand-off: Anna → Ben")
    assert (await wait_until_done(bot, job_id)).status == "done"
    calls = bot.slack.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[1].at - calls[0].at >= 0.95
    assert [m["text"] for m in bot.slack.top_level_messages(ROTA)] == ["Hand-off: Anna → Ben"]
    assert (await job_row(bot, job_id)).attempts == 0  # a rate limit is not a failure


@pytest.mark.parametrize("how", ["drop", "500"])
async def test_a_lost_answer_is_reconciled_not_posted_twice(bot: TestBot, how: str) -> None:
    outbox = outbox_of(bot)
    runs: list[dict[str, str]] = []

    async def handoff(job: PluginJob) -> None:
        runs.append(await job.post(channel=ROTA, text="Ben takes over"))

    outbox.register("handoff", handoff)
    bot.slack.lose_answers("chat.postMessage", how=how, times=1)
    handoff_id = await outbox.enqueue("handoff", {}, channel=ROTA)
    digest_id = await outbox.post_message(LEADS, text="Daily digest")
    for job_id in (handoff_id, digest_id):
        assert (await wait_until_done(bot, job_id)).status == "done"
    assert [m["text"] for m in bot.slack.top_level_messages(ROTA)] == ["Ben takes over"]
    assert [m["text"] for m in bot.slack.top_level_messages(LEADS)] == ["Daily digest"]
    # The handler ran again after the lost answer and got the message already posted.
    assert len(runs) == 1 and runs[0]["ts"] == bot.slack.top_level_messages(ROTA)[0]["ts"]
    assert len(bot.slack.calls_to("chat.postMessage")) == 2


async def test_a_job_queued_in_a_rolled_back_transaction_is_not_queued(bot: TestBot) -> None:
    assert bot.app is not None
    outbox = outbox_of(bot)
    ran: list[int] = []

    async def remind(job: PluginJob) -> None:
        ran.append(job.id)

    outbox.register("remind", remind)
    with pytest.raises(RuntimeError, match="the shift could not be saved"):
        async with bot.app.db.write() as session:
            await outbox.enqueue("remind", {"shift": 1}, session=session)
            await outbox.post_message(ROTA, text="Shift saved", session=session)
            raise RuntimeError("the shift could not be saved")
    async with bot.app.db.write() as session:
        committed = await outbox.enqueue("remind", {"shift": 2}, session=session)
    assert (await wait_until_done(bot, committed)).status == "done"
    await bot.idle()
    assert ran == [committed]
    async with bot.app.db.read() as session:
        kinds = (await session.scalars(select(OutboxJob.kind))).all()
    assert list(kinds) == ["rota:remind"]
    assert bot.slack.top_level_messages(ROTA) == []


async def test_a_job_leased_by_a_dead_worker_is_taken_over_after_its_lease(
    fake_slack: FakeSlack, database_url: str
) -> None:
    async with TestBot(fake_slack, database_url) as bot:
        assert bot.app is not None
        # Queued, then leased by a worker that died before posting (its lease runs 1 s more).
        async with bot.app.db.write() as session:
            job_id = await outbox_of(bot).post_message(ROTA, text="Reminder", session=session)
            await session.execute(
                update(OutboxJob)
                .where(OutboxJob.id == job_id)
                .values(leased_by="dead-worker", lease_until=utcnow() + timedelta(seconds=1))
            )
        leased_at = time.monotonic()
        [call] = await fake_slack.wait_for("chat.postMessage", lambda c: c.ok and c.args.get("channel") == ROTA)
        assert call.at - leased_at >= 0.9
        assert (await wait_until_done(bot, job_id)).status == "done"
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


async def test_a_message_with_a_file_arrives_with_the_file(bot: TestBot) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    job_id = await outbox_of(bot, "digest").post_message(
        LEADS,
        text="Weekly digest",
        blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "*Weekly digest*"}}],
        files=[Upload("chart.png", png, "Answers per day")],
    )
    assert (await wait_until_done(bot, job_id)).status == "done"
    [complete] = [c for c in bot.slack.calls_to("files.completeUploadExternal") if c.ok]
    [shared] = complete.response["files"]
    stored = bot.slack.file(shared["id"])
    assert stored["content"] == png and stored["title"] == "Answers per day" and stored["completed"]
    assert stored["channels"] == [LEADS]
    assert len(bot.slack.calls_to(UPLOAD_METHOD)) == 1
    messages = bot.slack.top_level_messages(LEADS)
    assert [m["text"] for m in messages] == ["Weekly digest", ""]
    assert [f["name"] for f in messages[1]["files"]] == ["chart.png"]


async def test_files_over_the_limit_are_refused_when_queued(bot: TestBot) -> None:
    assert bot.app is not None
    big = Upload("huge.png", b"\0" * (MAX_UPLOAD_BYTES + 1), None)
    with pytest.raises(ValueError, match="more than the outbox takes"):
        await outbox_of(bot).post_message(ROTA, text="too big", files=[big])
    async with bot.app.db.read() as session:
        assert await session.scalar(select(func.count(OutboxJob.id))) == 0


async def test_a_job_links_to_a_posted_message_and_gets_none_for_an_unknown_one(bot: TestBot) -> None:
    await bot.comment("Where is my parcel?")
    card = await bot.next_card()
    outbox = outbox_of(bot)
    links: list[str | None] = []

    async def link(job: PluginJob) -> None:
        links.append(await job.permalink(card.channel, card.ts))
        links.append(await job.permalink(card.channel, "1.000001"))

    outbox.register("link", link)
    await wait_until_done(bot, await outbox.enqueue("link", {}))
    assert links[0] is not None and links[0].endswith(f"/archives/{card.channel}/p{card.ts.replace('.', '')}")
    assert links[1] is None


async def test_a_job_uploads_files_after_its_message_and_a_retry_posts_the_message_once(bot: TestBot) -> None:
    outbox = outbox_of(bot, "digest")
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    runs: list[int] = []

    async def post_with_chart(job: PluginJob) -> None:
        runs.append(job.attempts)
        posted = await job.post(channel=LEADS, text="Daily digest")
        if len(runs) == 1:
            raise RuntimeError("the chart failed the first time")
        await job.upload(channel=posted["channel"], files=[Upload("chart.png", png, "Last 14 days")])

    outbox.register("post", post_with_chart)
    row = await wait_until_done(bot, await outbox.enqueue("post", {}, channel=LEADS), timeout=30)
    assert row.status == "done" and runs == [0, 1]
    messages = bot.slack.top_level_messages(LEADS)
    assert [m["text"] for m in messages] == ["Daily digest", ""], "the message once, then the file"
    [shared] = messages[1]["files"]
    assert bot.slack.file(shared["id"])["content"] == png


async def test_a_job_uploading_too_much_is_refused_before_slack_is_called(bot: TestBot) -> None:
    outbox = outbox_of(bot, "digest")
    errors: list[str] = []

    async def too_big(job: PluginJob) -> None:
        try:
            await job.upload(channel=LEADS, files=[Upload("huge.png", b"\0" * (MAX_UPLOAD_BYTES + 1))])
        except ValueError as exc:
            errors.append(str(exc))
        await job.upload(channel=LEADS, files=[])  # nothing to upload: no call

    outbox.register("big", too_big)
    await wait_until_done(bot, await outbox.enqueue("big", {}))
    assert errors and "more than one job uploads" in errors[0]
    assert bot.slack.calls_to("files.getUploadURLExternal") == []
