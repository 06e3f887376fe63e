"""Hostile tests of the X source: the real bot, FakeX over real HTTP, tweepy on its production path.

Each open defect is a test marked ``xfail(strict=True)`` whose reason names it, so the suite stays
green while it is open and turns red the moment it is fixed (then drop the mark). The other tests
document hostile paths that hold: restarts part-way through a pass, replicas polling at once, the
webhook and polling racing on one mention, Slack syntax in every field of a post, secrets in logs.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from x_world import (
    ACCESS_SECRET,
    ACCESS_TOKEN,
    ACCOUNT,
    AINO,
    BEARER,
    CONSUMER_SECRET,
    EERO,
    USERNAME,
    XWorld,
    sqlite_only,
    x_config,
)

from chatops.cli import SecretMaskingFormatter, secrets_of
from chatops.models import Message
from chatops.testing.bot import TestBot
from chatops.testing.customers import NoCustomer
from chatops.testing.fake_slack import FakeSlack
from chatops_plugins.x import polling
from chatops_plugins.x.activity_payloads import XUser, encode, signed_activity, tweet_create_payload, tweet_object
from chatops_plugins.x.client import TOKEN_LOGGERS
from chatops_plugins.x.source import XSource
from chatops_plugins.x.testing import FakeX, problem

MENTIONS = f"{{kind}}:mentions:{ACCOUNT}"
postgres_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def key(kind: str) -> str:
    return MENTIONS.format(kind=kind)


def slack_payloads(bot: TestBot) -> str:
    """Every request body the bot sent to the fake Slack, as one JSON text."""
    return json.dumps([c.args for c in bot.slack.calls], ensure_ascii=False, default=str)


async def stored_rows(bot: TestBot) -> list[Message]:
    assert bot.app is not None
    async with bot.app.db.read() as session:
        return list(await session.scalars(select(Message).where(Message.source == "x").order_by(Message.id)))


def edit_tweet(tweet_id: str, change: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], Any]:
    """A mangle for FakeX that changes one post of a timeline page in place."""

    def mangle(body: dict[str, Any]) -> dict[str, Any]:
        for item in body.get("data", []):
            if item.get("id") == tweet_id:
                change(item)
        return body

    return mangle


def raw_page(fake: FakeX, *tweets: dict[str, Any], users: list[dict[str, Any]] | None = None) -> bytes:
    """A mentions page as bytes (``ensure_ascii`` keeps a lone surrogate as its JSON escape)."""
    body = {
        "data": list(tweets),
        "includes": {"users": users or [{"id": AINO[0], "username": AINO[1], "name": AINO[2]}]},
        "meta": {"result_count": len(tweets), "newest_id": tweets[0]["id"], "oldest_id": tweets[-1]["id"]},
    }
    return json.dumps(body, ensure_ascii=True).encode()


# -- one bad post or header must not stop polling ------------------------------------------------


@sqlite_only
@pytest.mark.parametrize("created_at", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
async def test_a_post_time_at_the_edge_of_datetime_costs_only_its_time(
    x_bot: TestBot, x: XWorld, created_at: str
) -> None:
    odd = x.mention("kello on sekaisin")
    later = x.mention("tavallinen")
    x.fake.mangle_next("mentions", edit_tweet(odd, lambda item: item.update(created_at=created_at)))

    await polling.poll(x.source)

    assert await x.stored_ids() == [odd, later]


@sqlite_only
@pytest.mark.parametrize("created_at", ["0001-01-01T00:00:00.000Z", "9999-12-31T23:59:59.000Z", "1970-01-01T00:00:00Z"])
async def test_an_impossible_post_time_is_not_shown_as_the_posts_time(
    x_bot: TestBot, x: XWorld, created_at: str
) -> None:
    odd = x.mention("kello on sekaisin")
    x.fake.mangle_next("mentions", edit_tweet(odd, lambda item: item.update(created_at=created_at)))

    await polling.poll(x.source)

    (row,) = await stored_rows(x_bot)
    assert row.external_id == odd
    # The webhook (and Facebook's polling) store None for such a time: the card shows the arrival time.
    assert row.source_created_at is None


@sqlite_only
async def test_a_post_time_without_a_timezone_is_taken_as_utc(x_bot: TestBot, x: XWorld) -> None:
    odd = x.mention("ilman aikavyöhykettä")
    x.fake.mangle_next("mentions", edit_tweet(odd, lambda item: item.update(created_at="2024-03-01T12:00:00")))

    await polling.poll(x.source)

    (row,) = await stored_rows(x_bot)
    stored = row.source_created_at
    assert stored is not None
    assert stored.replace(tzinfo=stored.tzinfo or UTC) == datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


@sqlite_only
async def test_a_lone_surrogate_in_a_polled_post_does_not_wedge_polling(x_bot: TestBot, x: XWorld) -> None:
    post = {"id": "1860000000009000001", "text": "@kahvila_aurinko rikki \ud800 teksti", "author_id": AINO[0]}
    x.fake.fail_next("mentions", 200, raw_page(x.fake, post))

    await polling.poll(x.source)

    (row,) = await stored_rows(x_bot)
    assert row.external_id == post["id"] and "rikki" in row.text


@postgres_only
async def test_a_nul_in_a_polled_post_does_not_wedge_polling_on_postgres(x_bot: TestBot, x: XWorld) -> None:
    odd = x.mention("nolla")
    x.fake.mangle_next("mentions", edit_tweet(odd, lambda item: item.update(text="@kahvila_aurinko nolla\x00merkki")))

    await polling.poll(x.source)

    assert await x.stored_ids() == [odd]


@sqlite_only
async def test_a_429_with_a_garbled_reset_holds_polling_back_instead_of_failing(x_bot: TestBot, x: XWorld) -> None:
    waiting = x.mention("odotan")
    x.fake.fail_next(
        "mentions", 429, problem(429, "Too Many Requests", "Too Many Requests"), {"x-rate-limit-reset": "soon"}
    )

    report = await polling.poll(x.source)

    assert "mentions" in report.held_back
    x.clock.advance(16 * 60)
    await polling.poll(x.source)
    assert await x.stored_ids() == [waiting]


@sqlite_only
async def test_a_429_without_any_rate_limit_headers_waits_one_window(
    x_bot: TestBot, x: XWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    waiting = x.mention("odotan")
    x.fake.fail_next("mentions", 429, problem(429, "Too Many Requests", "Too Many Requests"))
    real = x.fake._limit_headers
    monkeypatch.setattr(x.fake, "_limit_headers", lambda endpoint: {} if endpoint == "mentions" else real(endpoint))

    report = await polling.poll(x.source)
    assert "mentions" in report.held_back
    await polling.poll(x.source)
    assert len(x.fake.calls_to("mentions")) == 1  # held back: not asked again within the window

    x.clock.advance(15 * 60 + 1)
    await polling.poll(x.source)
    assert await x.stored_ids() == [waiting]


@sqlite_only
@pytest.mark.parametrize("reset", ["-5", "0", "soon", "", "12.5e3"])
async def test_a_used_up_window_with_a_past_or_garbled_reset_waits_at_most_one_window(
    x_bot: TestBot, x: XWorld, monkeypatch: pytest.MonkeyPatch, reset: str
) -> None:
    first = x.mention("eka")
    real = x.fake._limit_headers

    def headers(endpoint: str) -> dict[str, str]:
        out = real(endpoint)
        if endpoint == "mentions":
            out.update({"x-rate-limit-remaining": "0", "x-rate-limit-reset": reset})
        return out

    monkeypatch.setattr(x.fake, "_limit_headers", headers)
    await polling.poll(x.source)
    assert await x.stored_ids() == [first]
    monkeypatch.setattr(x.fake, "_limit_headers", real)

    second = x.mention("toka")
    x.clock.advance(15 * 60 + 1)
    await polling.poll(x.source)
    assert await x.stored_ids() == [first, second]


@sqlite_only
@pytest.mark.parametrize("reset", ["inf", "nan", "1e300"])
async def test_an_absurd_reset_on_a_used_up_window_neither_crashes_nor_holds_forever(
    x_bot: TestBot, x: XWorld, monkeypatch: pytest.MonkeyPatch, reset: str
) -> None:
    first = x.mention("eka")
    real = x.fake._limit_headers

    def headers(endpoint: str) -> dict[str, str]:
        out = real(endpoint)
        if endpoint == "mentions":
            out.update({"x-rate-limit-remaining": "0", "x-rate-limit-reset": reset})
        return out

    monkeypatch.setattr(x.fake, "_limit_headers", headers)
    await polling.poll(x.source)
    monkeypatch.setattr(x.fake, "_limit_headers", real)

    second = x.mention("toka")
    x.clock.advance(24 * 3600)
    await polling.poll(x.source)
    assert await x.stored_ids() == [first, second]


@sqlite_only
async def test_a_reset_years_ahead_does_not_hold_polling_back_for_years(x_bot: TestBot, x: XWorld) -> None:
    x.mention("eka")
    x.fake.fail_next(
        "mentions",
        429,
        problem(429, "Too Many Requests", "Too Many Requests"),
        {"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(int(x.clock.now) + 10 * 365 * 86400)},
    )
    await polling.poll(x.source)

    x.clock.advance(24 * 3600)
    await polling.poll(x.source)
    assert len(await x.stored_ids()) == 1


@sqlite_only
async def test_a_since_id_x_refuses_does_not_wedge_polling(x_bot: TestBot, x: XWorld) -> None:
    await x.source.ctx.state.set(key("since_id"), "99999999999999999999")
    waiting = x.mention("odotan")

    for _ in range(2):
        try:
            await polling.poll(x.source)
        except Exception:  # noqa: S112 - one failed pass may be the way to notice
            continue

    assert await x.stored_ids() == [waiting]


@sqlite_only
@pytest.mark.parametrize("status", [503, 403])
async def test_a_failing_own_posts_read_does_not_keep_mentions_from_the_inbox(
    x_bot: TestBot, x: XWorld, status: int
) -> None:
    waiting = x.mention("tärkeä asia")
    x.fake.fail_next("user_tweets", status, problem(status, "Nope", "Own posts unavailable"), times=3)

    for _ in range(3):
        try:
            await polling.poll(x.source)
        except Exception:  # noqa: S112 - the failure may be reported; the mention must still arrive
            continue

    assert await x.stored_ids() == [waiting]
    if status == 403:
        # The mentions read working does not clear the alert about the own posts refused.
        assert polling.READ_ALERT in await x.open_alerts()


@sqlite_only
async def test_an_own_post_without_author_id_is_never_a_customer_card(x_bot: TestBot, x: XWorld) -> None:
    own = x.own_post("Uusi kanelipulla on täällä!")
    x.fake.mangle_next("user_tweets", edit_tweet(own, lambda item: item.pop("author_id", None)))

    await polling.poll(x.source)

    await x_bot.idle()
    assert x_bot.cards() == []


@sqlite_only
async def test_duplicate_ids_missing_authors_self_replies_and_cycles_cost_nothing(x_bot: TestBot, x: XWorld) -> None:
    first = x.mention("eka")
    second = x.mention("toka", who=EERO)
    third = x.mention("kolmas")

    def hostile(body: dict[str, Any]) -> dict[str, Any]:
        data = body["data"]
        by_id = {item["id"]: item for item in data}
        # The page repeats a post, one post answers itself, two answer each other, authors vanish.
        data.append(dict(by_id[first]))
        by_id[second]["referenced_tweets"] = [{"type": "replied_to", "id": second}]
        by_id[second]["conversation_id"] = second
        by_id[first]["referenced_tweets"] = [{"type": "replied_to", "id": third}]
        by_id[third]["referenced_tweets"] = [{"type": "replied_to", "id": first}]
        by_id[first]["conversation_id"] = third
        by_id[third]["conversation_id"] = first
        body["includes"]["users"] = []
        return body

    x.fake.mangle_next("mentions", hostile)
    await polling.poll(x.source)

    stored = await x.stored_ids()
    assert sorted(stored) == sorted([first, second, third])
    await x_bot.idle()
    cards = x_bot.cards()
    assert 1 <= len(cards) <= 3
    # Without the author in includes the card still links the post (X's /i/web/ form).
    assert f"https://x.com/i/web/status/{second}" in slack_payloads(x_bot)
    assert await x.state(key("since_id")) == third


# -- restarts, replicas and races ------------------------------------------------------------------


class Crash(Exception):
    """The bot stopping at a chosen point of a pass."""


@sqlite_only
@pytest.mark.parametrize("crash", ["after reading", "after storing", "between the two positions"])
async def test_a_restart_part_way_through_a_pass_neither_misses_nor_repeats(
    fake_slack: FakeSlack, database_url: str, x_fake: FakeX, monkeypatch: pytest.MonkeyPatch, crash: str
) -> None:
    config = x_config(x_fake.base_url, page_size=5)
    async with TestBot(fake_slack, database_url, config=config, customer=NoCustomer) as bot:
        world = XWorld(bot, x_fake)
        ids = [world.mention(f"viesti {n}") for n in range(7)]
        own = world.own_post("Vastaus suoraan X:ssä", in_reply_to=ids[0])
        if crash == "after reading":
            real_inbound = polling.to_inbound
            seen: list[int] = []

            async def stop_midway(*args: Any, **kwargs: Any) -> Any:
                seen.append(1)
                if len(seen) == 4:
                    raise Crash(crash)
                return await real_inbound(*args, **kwargs)

            monkeypatch.setattr(polling, "to_inbound", stop_midway)
        else:
            real_commit = polling._commit
            commits: list[int] = []

            async def stop_at_commit(source: XSource, walk: polling.Walk) -> None:
                commits.append(1)
                if crash == "after storing" or len(commits) == 2:
                    raise Crash(crash)
                await real_commit(source, walk)

            monkeypatch.setattr(polling, "_commit", stop_at_commit)
        with pytest.raises(Crash):
            await polling.poll(world.source)
        monkeypatch.undo()
    during = world.mention("kun botti oli alhaalla")

    async with TestBot(fake_slack, database_url, config=config, customer=NoCustomer) as bot:
        world.attach(bot)
        await polling.poll(world.source)
        await polling.poll(world.source)
        await bot.idle()
        stored = await world.stored_ids()
        assert sorted(stored) == sorted([*ids, own, during]) and len(stored) == len(set(stored))
        assert len(bot.cards()) == len(ids) + 1
        assert await world.state(key("since_id")) == during


@pytest.mark.x_config(page_size=5)
async def test_two_replicas_polling_at_once_store_and_card_each_mention_once(
    fake_slack: FakeSlack, database_url: str, x_bot: TestBot, x: XWorld
) -> None:
    ids = [x.mention(f"viesti #{n}#", who=AINO if n % 2 else EERO) for n in range(12)]
    x.own_post("Vastaus", in_reply_to=ids[3])
    config = x_config(x.fake.base_url, page_size=5)
    async with TestBot(fake_slack, database_url, config=config, customer=NoCustomer, instance_id="b") as other:
        assert other.app is not None
        second = other.app.sources["x"]
        assert isinstance(second, XSource)
        second.clock = x.clock
        await asyncio.gather(polling.poll(x.source), polling.poll(second))
        late = x.mention("kesken kaiken")
        await asyncio.gather(polling.poll(second), polling.poll(x.source))
        await x_bot.idle()
        await other.idle()
        stored = await x.stored_ids()
        assert sorted(stored) == sorted([*ids, late, *[p["id"] for p in x.fake.replies_to(ids[3])]])
        assert len(stored) == len(set(stored))
        cards = x_bot.cards()
        assert len(cards) == len(ids) + 1
        texts = [c.text for c in cards]
        for n in range(12):
            assert sum(f"viesti #{n}#" in t for t in texts) == 1


async def test_the_webhook_and_polling_delivering_one_mention_at_once_store_it_once(
    fake_slack: FakeSlack, database_url: str, x_fake: FakeX
) -> None:
    config = x_config(x_fake.base_url, webhook=True)
    async with TestBot(fake_slack, database_url, config=config, customer=NoCustomer) as bot:
        world = XWorld(bot, x_fake)
        mentions = [world.mention(f"kahdesti {n}") for n in range(5)]
        company = XUser(ACCOUNT, USERNAME, "Kahvila Aurinko")
        tweets = [
            tweet_object(tweet_id=m, text=f"@{USERNAME} kahdesti {n}", user=XUser(*AINO), mentions=[company])
            for n, m in enumerate(mentions)
        ]
        body, headers = signed_activity(CONSUMER_SECRET, encode(tweet_create_payload(ACCOUNT, *tweets)))
        assert bot.http is not None
        answer, _report = await asyncio.gather(
            bot.http.post("/webhooks/x", content=body, headers=headers), polling.poll(world.source)
        )
        assert answer.status_code == 200, answer.text
        await bot.idle()
        assert sorted(await world.stored_ids()) == sorted(mentions)
        assert len(bot.cards()) == len(mentions)


@sqlite_only
@pytest.mark.x_config(page_size=5, max_pages=2)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    before=st.integers(min_value=0, max_value=14),
    arrivals=st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=6),
)
async def test_mentions_arriving_between_the_page_reads_of_a_pass_are_stored_exactly_once(
    x_bot: TestBot, x: XWorld, before: int, arrivals: list[int]
) -> None:
    written: list[str] = list(getattr(x, "written", []))
    written.extend(x.mention(f"ennen {len(written)}-{n}") for n in range(before))
    pending = list(arrivals)

    def arrive(body: dict[str, Any]) -> dict[str, Any]:
        # Runs while the fake answers a page: these posts are newer than every page of this walk.
        count = pending.pop(0) if pending else 0
        written.extend(x.fake.mention(f"välissä {len(written)}-{n}") for n in range(count))
        return body

    x.fake.mangle_next("mentions", arrive, times=len(arrivals))
    for _ in range(40):
        known = len(written)
        report = await polling.poll(x.source)
        quiet = len(written) == known and not report.read.get("mentions")
        if quiet and not pending and not await x.state(key("resume")):
            break
    x.written = written  # type: ignore[attr-defined]
    stored = await x.stored_ids()
    assert sorted(stored) == sorted(written)
    assert len(stored) == len(set(stored))


# -- what reaches Slack ------------------------------------------------------------------------------

HOSTILE = (
    "<!channel> <!everyone> <!here> @channel @here <@U0123ABC> <#C0123ABC> "
    "<https://evil.example/login|Your bank> *bold* ~strike~ `code` \u200b<\u200b!channel\u200b>"
)
PINGS = ("<!channel>", "<!everyone>", "<!here>", "<@U0123ABC>", "<#C0123ABC>", "<https://evil.example")


@sqlite_only
async def test_slack_syntax_in_any_field_of_a_post_never_pings_or_hides_a_link(x_bot: TestBot, x: XWorld) -> None:
    villain = ("2244994999", "pahis", "<!channel> <https://evil.example|Support>")
    parent = x.fake.post_by(f"{HOSTILE} (alkuperäinen)", author=villain)
    root = x.mention(f"{HOSTILE} https://evil.example/x", who=villain, in_reply_to=parent)

    def evil_link(body: dict[str, Any]) -> dict[str, Any]:
        for item in body.get("data", []):
            for url in item.get("entities", {}).get("urls", []):
                url["expanded_url"] = "https://evil.example/|<!channel>"
        return body

    x.fake.mangle_next("mentions", evil_link)
    await polling.poll(x.source)
    card = await x_bot.next_card()
    x.mention(f"{HOSTILE} (jatko)", who=villain, in_reply_to=root)
    x.own_post(f"{HOSTILE} (yrityksen vastaus)", in_reply_to=root)
    await polling.poll(x.source)
    await card.wait_for(lambda c: "jatko" in c.thread_text() and "yrityksen vastaus" in c.thread_text())
    await x_bot.idle()

    sent = slack_payloads(x_bot)
    for ping in PINGS:
        assert ping not in sent, ping
    assert "&lt;!channel&gt;" in card.text  # shown, as text
    for call in x_bot.slack.calls:
        if call.method.startswith("chat."):
            assert str(call.args.get("link_names", "")).lower() not in ("1", "true"), call.args
            assert call.args.get("parse") != "full", call.args


@sqlite_only
async def test_a_ten_thousand_character_post_is_stored_whole_and_its_card_fits(x_bot: TestBot, x: XWorld) -> None:
    long_text = ("Pitkä valitus & <lisää> " * 420)[:10_000]
    post = x.mention(long_text)
    x.fake.mangle_next("mentions", edit_tweet(post, lambda item: item.update(text=long_text)))

    await polling.poll(x.source)
    card = await x_bot.next_card()

    (row,) = await stored_rows(x_bot)
    assert row.text == long_text
    assert len(card.text) < 5_000 and "<lisää>" not in card.text


# -- secrets -----------------------------------------------------------------------------------------

SECRETS = (BEARER, CONSUMER_SECRET, ACCESS_SECRET)


@sqlite_only
async def test_no_secret_reaches_the_log_output_a_card_or_an_alert_even_at_debug(
    x_bot: TestBot, x: XWorld, caplog: pytest.LogCaptureFixture
) -> None:
    assert x_bot.app is not None
    # The formatter `chatops run` installs, with the secrets it finds in the settings and plugin configs.
    output = io.StringIO()
    handler = logging.StreamHandler(output)
    handler.setFormatter(
        SecretMaskingFormatter(
            "%(levelname)s %(name)s: %(message)s", secrets_of(x_bot.app.settings, x_bot.app.plugin_configs.values())
        )
    )
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    # Forced to DEBUG, past the plugin's guard (TOKEN_LOGGERS): the formatter alone must hold.
    names = ("tweepy", "tweepy.client", "urllib3", "requests_oauthlib", "oauthlib", "chatops_plugins.x")
    levels = {name: logging.getLogger(name).level for name in names}
    try:
        with caplog.at_level(logging.DEBUG):
            for name in names:
                logging.getLogger(name).setLevel(logging.DEBUG)
            first = x.mention("Eka")
            second = x.mention("Toka", who=EERO)
            await polling.poll(x.source)
            cards = [await x_bot.next_card(), await x_bot.next_card()]
            anna = x_bot.person("Anna")
            await x_bot.reply(anna, cards[0], "Vastaus")  # OAuth 1.0a signed post
            x.fake.drop_next_post_answer()
            await x_bot.reply(anna, cards[1], "Toinen vastaus")  # lost answer, looked up
            await x_bot.idle()
            x.fake.revoke_bearer()
            with pytest.raises(polling.ReadRefused):
                await polling.poll(x.source)
            await x_bot.idle()
    finally:
        root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        x.fake.restore_tokens()

    text = output.getvalue()
    assert "Making API request" in text and "oauth_signature" in text  # tweepy and oauthlib were heard
    assert x.fake.replies_to(first) and x.fake.replies_to(second)
    shown = slack_payloads(x_bot) + json.dumps(x.ops_alerts()) + str(await x.job_error())
    for secret in SECRETS:
        assert secret not in text
        assert secret not in shown


@sqlite_only
async def test_a_debug_root_logger_receives_no_token_from_a_poll_or_a_reply(
    x_bot: TestBot, x: XWorld, caplog: pytest.LogCaptureFixture
) -> None:
    # No masking formatter here: an operator's own handler at DEBUG must not be handed a credential.
    tokens = (BEARER, ACCESS_TOKEN, ACCESS_SECRET, CONSUMER_SECRET)
    with caplog.at_level(logging.DEBUG):
        x.mention("Eka")
        await polling.poll(x.source)
        card = await x_bot.next_card()
        await x_bot.reply(x_bot.person("Anna"), card, "Vastaus")  # OAuth 1.0a signed post
        await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
        await x_bot.idle()

    assert any(r.name.startswith("urllib3") for r in caplog.records)  # DEBUG records did flow
    assert not [r for r in caplog.records if r.name.startswith(TOKEN_LOGGERS) and r.levelno < logging.INFO]
    for record in caplog.records:
        said = str(record.msg) + " " + repr(record.args)
        for token in tokens:
            assert token not in said, (record.name, token)


# -- replies -----------------------------------------------------------------------------------------


@sqlite_only
async def test_retry_pressed_twice_at_once_posts_the_reply_once(x_bot: TestBot, x: XWorld) -> None:
    mention = x.mention("Huono palvelu!")
    await polling.poll(x.source)
    card = await x_bot.next_card()
    x.fake.fail_next_post(
        403, problem(403, "Forbidden", "You attempted to reply to a Tweet that is deleted or not visible to you.")
    )
    await x_bot.reply(x_bot.person("Anna"), card, "Pahoittelut!")
    await card.wait_for(lambda c: "retry" in c.buttons)

    ben, cid = x_bot.person("Ben"), x_bot.person("Cid")
    await asyncio.gather(x_bot.click(ben, card, "retry", replay=2, concurrently=True), x_bot.click(cid, card, "retry"))
    await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
    await x_bot.idle()
    assert [p["text"] for p in x.fake.replies_to(mention)] == ["Pahoittelut!"]
    assert [c.status for c in x.fake.calls_to("post")] == [403, 201]


@sqlite_only
async def test_a_lost_answer_then_retry_pressed_twice_posts_nothing_twice(x_bot: TestBot, x: XWorld) -> None:
    mention = x.mention("Missä tilaukseni on?")
    await polling.poll(x.source)
    card = await x_bot.next_card()
    x.fake.drop_next_post_answer()
    x.fake.mangle_next("user_tweets", lambda body: {"meta": {"result_count": 0}})  # X's timeline lags
    await x_bot.reply(x_bot.person("Anna"), card, "Tilauksesi on matkalla.")
    await card.wait_for(lambda c: "retry" in c.buttons)

    ben = x_bot.person("Ben")
    await x_bot.click(ben, card, "retry", replay=3, concurrently=True)
    await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
    await x_bot.idle()
    (reply,) = x.fake.replies_to(mention)
    assert reply["text"] == "Tilauksesi on matkalla."
    answers = [r for r in await stored_rows(x_bot) if r.direction == "outbound"]
    assert [a.external_id for a in answers] == [reply["id"]]


@sqlite_only
async def test_a_reply_to_a_post_deleted_after_its_card_fails_without_posting_anywhere(
    x_bot: TestBot, x: XWorld
) -> None:
    mention = x.mention("Poistan tämän kohta")
    await polling.poll(x.source)
    card = await x_bot.next_card()
    x.fake.delete(mention)
    await x_bot.reply(x_bot.person("Anna"), card, "Vastaus poistettuun")
    await card.wait_for(lambda c: "retry" in c.buttons)
    await x_bot.idle()
    assert x.fake.posts == []
    assert x.ops_alerts() == []


@sqlite_only
@pytest.mark.parametrize("reset", [str(10**30), "99999999999999"])
async def test_a_429_on_a_reply_with_an_absurd_reset_is_a_retryable_failure_on_the_card(
    x_bot: TestBot, x: XWorld, reset: str
) -> None:
    x.mention("Hei")
    await polling.poll(x.source)
    card = await x_bot.next_card()
    x.fake.fail_next_post(
        429,
        problem(429, "Too Many Requests", "Too Many Requests"),
        {"x-rate-limit-remaining": "0", "x-rate-limit-reset": reset},
    )
    await x_bot.reply(x_bot.person("Anna"), card, "Hei!")
    await card.wait_for(lambda c: "retrying automatically" in c.text or "retry" in c.buttons)
    assert "X's limit on posts is used up" in card.text


@sqlite_only
async def test_a_lost_reply_read_by_polling_before_retry_finds_it_is_one_answer(x_bot: TestBot, x: XWorld) -> None:
    mention = x.mention("Missä tilaukseni on?")
    await polling.poll(x.source)
    card = await x_bot.next_card()
    x.fake.drop_next_post_answer()
    x.fake.mangle_next("user_tweets", lambda body: {"meta": {"result_count": 0}})  # X's timeline lags
    await x_bot.reply(x_bot.person("Anna"), card, "Tilauksesi on matkalla.")
    await card.wait_for(lambda c: "retry" in c.buttons)
    (posted,) = x.fake.replies_to(mention)

    # The next pass reads the reply X did post among the account's own posts, before anyone presses Retry.
    await polling.poll(x.source)
    await x_bot.idle()
    await x_bot.click(x_bot.person("Ben"), card, "retry")
    await x.bot.idle()
    await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)

    assert [p["id"] for p in x.fake.replies_to(mention)] == [posted["id"]]
    # One row for the post, and it is the team's answer (the thread keeps the "answered on X" line it showed).
    rows = [r for r in await stored_rows(x_bot) if r.external_id == posted["id"]]
    assert [r.direction for r in rows] == ["outbound"]


@sqlite_only
@pytest.mark.xfail(
    strict=True,
    reason="webhook mode: a mention replying to a post the bot never stored (a third person's reply in a known "
    "conversation) starts a new card, while polling joins the conversation's card by conversation_id",
)
async def test_the_webhook_joins_a_mention_deep_in_a_known_conversation_to_its_card_as_polling_does(
    fake_slack: FakeSlack, database_url: str, x_fake: FakeX
) -> None:
    config = x_config(x_fake.base_url, webhook=True)
    async with TestBot(fake_slack, database_url, config=config, customer=NoCustomer) as bot:
        world = XWorld(bot, x_fake)
        root = world.mention("Aloitus")
        await polling.poll(world.source)
        await bot.next_card()
        between = x_fake.post_by("Minullekin kävi näin", author=EERO, in_reply_to=root)
        company = XUser(ACCOUNT, USERNAME, "Kahvila Aurinko")
        deep = tweet_object(
            tweet_id=str(int(between) + 1),
            text=f"@{USERNAME} @eero_e samaa mieltä",
            user=XUser(*AINO),
            in_reply_to=(between, XUser(*EERO)),
            mentions=[company],
        )
        body, headers = signed_activity(CONSUMER_SECRET, encode(tweet_create_payload(ACCOUNT, deep)))
        assert bot.http is not None
        answer = await bot.http.post("/webhooks/x", content=body, headers=headers)
        assert answer.status_code == 200, answer.text
        await bot.idle()
        assert len(bot.cards()) == 1


@sqlite_only
async def test_mentions_beyond_the_800_x_keeps_reachable_are_not_lost_silently(
    fake_slack: FakeSlack, database_url: str, x_fake: FakeX, caplog: pytest.LogCaptureFixture
) -> None:
    config = x_config(x_fake.base_url)
    async with TestBot(fake_slack, database_url, config=config, customer=NoCustomer, deliver=False) as bot:
        world = XWorld(bot, x_fake)
        world.mention("ennen")
        await polling.poll(world.source)
        for n in range(805):  # while the bot was away: X lets only the newest 800 be read
            world.mention(f"ruuhka {n}")
        with caplog.at_level(logging.WARNING, logger="chatops_plugins.x"):
            await polling.poll(world.source)
        assert len(await world.stored_ids()) == 801  # X's limit: the five oldest cannot be read
        assert any(r.name.startswith("chatops_plugins.x") for r in caplog.records), "nobody was told"
        assert polling.REACH_ALERT in await world.open_alerts()
        # A later pass that stays short of X's reach clears the alert; a pass within it raises none.
        world.mention("rauhallista")
        await polling.poll(world.source)
        assert polling.REACH_ALERT not in await world.open_alerts()


# -- properties of the conversion ----------------------------------------------------------------------

_JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.sampled_from(["1860000000001000003", ""]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
_FIELD = st.sampled_from(
    ["author_id", "text", "conversation_id", "referenced_tweets", "entities", "created_at", "in_reply_to_user_id"]
)


@settings(max_examples=300, deadline=None)
@given(
    tweet=st.dictionaries(_FIELD, _JUNK, max_size=7).map(lambda d: {"id": "1860000000009000001", **d}),
    users=_JUNK,
    referenced=_JUNK,
)
def test_any_shape_of_a_v2_post_with_an_id_becomes_a_post(tweet: dict[str, Any], users: Any, referenced: Any) -> None:
    from chatops_plugins.x.tweets import post_from_v2, tweets_by_id, users_by_id

    includes = {"users": users, "tweets": referenced}
    post = post_from_v2(tweet, users_by_id(includes), tweets_by_id(includes))
    assert post.id == tweet["id"]
    assert isinstance(post.text, str)


async def test_the_webhook_and_polling_delivering_one_company_answer_at_once_record_it_once(
    fake_slack: FakeSlack, database_url: str, x_fake: FakeX
) -> None:
    config = x_config(x_fake.base_url, webhook=True)
    async with TestBot(fake_slack, database_url, config=config, customer=NoCustomer) as bot:
        world = XWorld(bot, x_fake)
        question = world.mention("Aukeatteko huomenna?")
        await polling.poll(world.source)
        card = await bot.next_card()
        answer_id = world.own_post("Aukeamme klo 8!", in_reply_to=question)
        company = XUser(ACCOUNT, USERNAME, "Kahvila Aurinko")
        tweet = tweet_object(
            tweet_id=answer_id, text="Aukeamme klo 8!", user=company, in_reply_to=(question, XUser(*AINO))
        )
        body, headers = signed_activity(CONSUMER_SECRET, encode(tweet_create_payload(ACCOUNT, tweet)))
        assert bot.http is not None
        answer, _report = await asyncio.gather(
            bot.http.post("/webhooks/x", content=body, headers=headers), polling.poll(world.source)
        )
        assert answer.status_code == 200, answer.text
        await card.wait_for(lambda c: "Aukeamme klo 8" in c.thread_text())
        await bot.idle()
        assert card.thread_text().count("Aukeamme klo 8") == 1
        assert (await world.stored_ids()).count(answer_id) == 1


@sqlite_only
async def test_slack_syntax_in_xs_own_error_words_never_pings_the_ops_channel_or_the_card(
    x_bot: TestBot, x: XWorld
) -> None:
    x.mention("Hei")
    await polling.poll(x.source)
    card = await x_bot.next_card()
    said = "<!channel> <https://evil.example|click here> suspended"
    x.fake.fail_next_post(403, problem(403, "Forbidden", said, "https://api.twitter.com/2/problems/user-suspended"))
    await x_bot.reply(x_bot.person("Anna"), card, "Hei!")
    await card.wait_for(lambda c: "retry" in c.buttons)
    x.fake.fail_next("mentions", 403, problem(403, "Forbidden", said))
    with pytest.raises(polling.ReadRefused):
        await polling.poll(x.source)
    await x_bot.idle()

    assert len(x.ops_alerts()) == 2
    sent = slack_payloads(x_bot)
    for ping in PINGS:
        assert ping not in sent, ping
    assert "&lt;!channel&gt;" in card.text


@sqlite_only
async def test_x_answering_a_reply_with_an_html_page_and_200_posts_nothing_and_says_check_x(
    x_bot: TestBot, x: XWorld
) -> None:
    mention = x.mention("Hei")
    await polling.poll(x.source)
    card = await x_bot.next_card()
    x.fake.fail_next_post(200, "<html><body>Welcome to the captive portal</body></html>")
    await x_bot.reply(x_bot.person("Anna"), card, "Hei!")
    await card.wait_for(lambda c: "retry" in c.buttons)
    assert "Check X before pressing Retry" in card.text and "<html>" not in card.text
    await x_bot.idle()
    assert x.fake.replies_to(mention) == []
    assert len(x.fake.calls_to("post")) == 1


@sqlite_only
async def test_a_bot_dying_after_x_posted_the_reply_sends_it_once_when_the_job_runs_again(
    x_bot: TestBot, x: XWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chatops_plugins.x import replies

    mention = x.mention("Hei")
    await polling.poll(x.source)
    card = await x_bot.next_card()
    real_sent = replies._sent
    calls: list[str] = []

    async def die_once(source: XSource, post_id: str) -> Any:
        calls.append(post_id)
        if len(calls) == 1:
            raise Crash("the bot stopped after X posted, before the result was stored")
        return await real_sent(source, post_id)

    monkeypatch.setattr(replies, "_sent", die_once)
    await x_bot.reply(x_bot.person("Anna"), card, "Hei vaan!")
    await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
    await x_bot.idle()

    (reply,) = x.fake.replies_to(mention)
    assert [c.status for c in x.fake.calls_to("post")] == [201, 403]  # the second one refused as a duplicate
    answers = [r for r in await stored_rows(x_bot) if r.direction == "outbound"]
    assert [a.external_id for a in answers] == [reply["id"]]


async def test_a_lone_surrogate_and_a_nul_delivered_by_the_webhook_are_stored_replaced(
    fake_slack: FakeSlack, database_url: str, x_fake: FakeX
) -> None:
    config = x_config(x_fake.base_url, webhook=True)
    async with TestBot(fake_slack, database_url, config=config, customer=NoCustomer) as bot:
        company = XUser(ACCOUNT, USERNAME, "Kahvila Aurinko")
        tweet = tweet_object(
            tweet_id="1860000000009000001", text=f"@{USERNAME} rikki X nolla Y", user=XUser(*AINO), mentions=[company]
        )
        raw = (
            encode(tweet_create_payload(ACCOUNT, tweet))
            .replace(b"rikki X", b"rikki \\ud800")
            .replace(b"nolla Y", b"nolla \\u0000")
        )
        body, headers = signed_activity(CONSUMER_SECRET, raw)
        assert bot.http is not None
        answer = await bot.http.post("/webhooks/x", content=body, headers=headers)
        assert answer.status_code == 200, answer.text
        (row,) = await stored_rows(bot)
        assert row.text == f"@{USERNAME} rikki \ufffd nolla \ufffd"


@sqlite_only
async def test_only_own_posts_held_back_does_not_say_mentions_wait(x_bot: TestBot, x: XWorld) -> None:
    x.fake.block("user_tweets", until=x.clock.now + 3 * 3600)
    for n in range(4):
        x.mention(f"viesti {n}")
        await polling.poll(x.source)
        x.clock.advance(15 * 60)
    await x_bot.idle()

    assert len(await x.stored_ids()) == 4  # mentions flow
    assert not [a for a in x.ops_alerts() if "new mentions wait" in a]


@sqlite_only
async def test_the_same_words_answered_again_are_not_shown_as_sent_when_x_refused_them(
    x_bot: TestBot, x: XWorld
) -> None:
    mention = x.mention("Onko teillä kauramaitoa?")
    await polling.poll(x.source)
    card = await x_bot.next_card()
    await x_bot.reply(x_bot.person("Anna"), card, "On, tervetuloa!")
    await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
    x.mention("Entä soijamaitoa?", in_reply_to=mention)
    await polling.poll(x.source)
    await card.wait_for(lambda c: "soijamaitoa" in c.thread_text())

    await x_bot.reply(x_bot.person("Ben"), card, "On, tervetuloa!")
    await card.wait_for(lambda c: "✅ Reply by <@UBEN>" in c.text or "retry" in c.buttons)
    await x_bot.idle()

    assert len(x.fake.posts) == 1  # X refused the second as a duplicate: the customer got one reply
    assert "✅ Reply by <@UBEN>" not in card.text
    assert "X refused it as a duplicate" in card.text


@pytest.mark.x_config(page_size=5, max_pages=1)
async def test_two_replicas_racing_through_unfinished_walks_lose_and_repeat_nothing(
    fake_slack: FakeSlack, database_url: str, x_bot: TestBot, x: XWorld
) -> None:
    written = [x.mention(f"viesti #{n}#") for n in range(13)]
    config = x_config(x.fake.base_url, page_size=5, max_pages=1)
    async with TestBot(
        fake_slack, database_url, config=config, customer=NoCustomer, instance_id="b", deliver=False
    ) as other:
        assert other.app is not None
        second = other.app.sources["x"]
        assert isinstance(second, XSource)
        second.clock = x.clock
        for round_ in range(8):
            # Each replica's walk stops after one page; they read and commit their positions in between.
            await asyncio.gather(polling.poll(x.source), polling.poll(second))
            if round_ in (1, 3):
                written.extend(x.mention(f"välissä #{round_}-{n}#") for n in range(3))
        for _ in range(10):
            report = await polling.poll(x.source)
            if not report.read.get("mentions") and not await x.state(key("resume")):
                break
        stored = await x.stored_ids()
        assert sorted(stored) == sorted(written) and len(stored) == len(set(stored))
        await x_bot.idle()
        assert len(x_bot.cards()) == len(written)
