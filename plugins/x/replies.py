"""Replies posted on X: ``create_tweet(in_reply_to_tweet_id=…)``, and what each failure means.

Every failure becomes a :class:`~chatops.sources.SendError` the card shows (with Retry once it is
final), worded for the team:

* 401: the account's access token was revoked or expired. ``alert="token"``: the core raises one
  ops alert naming the config keys and keeps the answer queued until the token works again.
* 403: duplicate content (reword it: Retry would send the same text), no permission to write
  (``alert="permission:reply"``), the account suspended (final, plus one ``suspended`` ops alert),
  or the reply not allowed (the post deleted, or replies limited by its author): final.
* 429: retried when X's window resets (``x-rate-limit-reset``, or the 24-hour post limit's reset
  when that is what ran out; one 15-minute window when X does not say). A spent monthly usage
  cap (``.../problems/usage-capped``) is final, plus one ``usage-capped`` ops alert: no window helps.
* 5xx, a refusal tweepy itself could not read, and a connection that failed before the request
  went out: retried.
* A lost answer (a timeout or a dropped connection after the request went out): X may have posted
  it, and posting again could post it twice. The account's recent posts are searched for a reply
  to the same post with the same text; found, it is the answer; not found, the failure is final
  and says to check X before Retry. A duplicate-content refusal is looked up the same way, so a
  Retry after a lost answer that X did post finds that post instead of failing. A post already
  recorded as another answer is never taken: the team sending the very words an earlier answer
  under that post said gets the duplicate refusal, not that earlier post shown as its own.

tweepy is synchronous: its calls run in a worker thread so the event loop never waits on X.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import unicodedata
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import requests
import tweepy
from sqlalchemy import select
from twitter_text.extract_urls import extract_urls_with_indices
from urllib3.exceptions import MaxRetryError

from chatops.db import Database
from chatops.models import Direction, Message
from chatops.sources import Answer, SendError, SendResult, Target

from .errors import Refusal, clip
from .tweets import is_id, readable_text, status_url

if TYPE_CHECKING:
    from .account import XAccount

log = logging.getLogger(__name__)

#: Pages of the account's recent posts searched for a reply whose answer was lost (100 each).
LOOKUP_PAGES = 3
#: The alert raised when X says the account is suspended (cleared by the next successful post).
SUSPENDED_ALERT = "suspended"
#: The alert raised when the app's monthly usage cap is spent (cleared by the next successful post).
USAGE_CAP_ALERT = "usage-capped"
#: X's rate-limit window, assumed when a 429 does not say when it resets.
WINDOW_SECONDS = 900.0
#: The longest wait a 429 may ask for: X's longest limit (posts per 24 hours) resets within a day;
#: a reset further ahead (``1e30``, years) is an X or proxy bug, not a reason to wait for ever.
MAX_WAIT_SECONDS = 24 * 3600.0
#: A t.co link as X shows it in a post's text, in place of the link that was written.
_TCO = re.compile(r"https?://t\.co/[A-Za-z0-9]+")
#: Mentions X may put in front of a reply's text (the people replied to).
_LEADING_MENTIONS = re.compile(r"^(?:\s*@[A-Za-z0-9_]{1,15})+\s*")


async def send_reply(source: XAccount, target: Target, answer: Answer) -> SendResult:
    """Post ``answer`` under the customer's post (``target.external_id``); raise SendError on failure."""
    client = source.client
    try:
        response = await asyncio.to_thread(
            client.create_tweet, text=answer.text, in_reply_to_tweet_id=target.external_id
        )
    except tweepy.errors.HTTPException as exc:
        refusal = Refusal.of(exc)
        if refusal.duplicate:
            # A lost answer that X did post comes back as a duplicate when Retry sends it again.
            found = await _find_posted(source, target, answer)
            if found is not None:
                return await _sent(source, found)
        raise await _send_error(source, answer, refusal) from None
    except requests.RequestException as exc:
        if _never_sent(exc):
            raise SendError(source.t("x.reply.unreachable", detail=_describe(exc)), retryable=True) from None
        return await _lost(source, target, answer, _describe(exc))
    except (AttributeError, ValueError) as exc:
        # tweepy reads a refusal itself: ``response_json.get`` on a JSON array or string body, or
        # ``int()`` of a garbled ``x-rate-limit-reset``, raises instead of its HTTPException. It only
        # reads answers that are not 2xx, so nothing was posted.
        log.warning("%s: X answered an error tweepy could not read", source.name, exc_info=True)
        raise SendError(source.t("x.reply.server", detail=_describe(exc)), retryable=True) from None
    posted = _posted_id(response)
    if posted is None:
        # X took it (2xx) but the answer does not say which post it made.
        return await _lost(source, target, answer, f"HTTP {response.status_code} without the post's id")
    return await _sent(source, posted)


async def _sent(source: XAccount, post_id: str) -> SendResult:
    """The result for a post X made; a post going through proves the account is neither suspended nor capped."""
    await source.ctx.alerts.clear(SUSPENDED_ALERT, USAGE_CAP_ALERT)
    return SendResult(external_id=post_id, url=status_url(post_id, source.config.username))


# -- refusals ---------------------------------------------------------------------------------


async def _send_error(source: XAccount, answer: Answer, refusal: Refusal) -> SendError:
    """The SendError for a refusal: what the card says, whether to retry, what an admin must do."""
    t = source.t
    detail = refusal.detail
    if refusal.status == 401:
        keys, env = _token_keys(source)
        return SendError(t("x.reply.token", detail=detail, keys=keys, env=env), retryable=True, alert="token")
    if refusal.usage_capped:
        await source.ctx.alerts.raise_once(USAGE_CAP_ALERT, t("x.alert.usage_capped", detail=detail))
        return SendError(t("x.reply.usage_capped", detail=detail), retryable=False)
    if refusal.status == 429:
        now = _now(source)
        retry_at = _retry_at(refusal.headers) or now + WINDOW_SECONDS
        if retry_at > now + MAX_WAIT_SECONDS:
            log.warning("%s: ignoring X's rate-limit reset %r: more than a day ahead", source.name, retry_at)
            retry_at = now + MAX_WAIT_SECONDS
        when = datetime.fromtimestamp(retry_at, UTC).strftime("%H:%M")
        return SendError(
            t("x.reply.rate_limited", detail=detail, time=when), retryable=True, retry_after=max(1.0, retry_at - now)
        )
    if refusal.status >= 500:
        return SendError(t("x.reply.server", detail=detail), retryable=True)
    if refusal.duplicate:
        return SendError(t("x.reply.duplicate", detail=detail), retryable=False)
    if refusal.suspended:
        await source.ctx.alerts.raise_once(
            SUSPENDED_ALERT, t("x.alert.suspended", account=_account(source), detail=detail)
        )
        return SendError(t("x.reply.suspended", detail=detail), retryable=False)
    if refusal.no_permission:
        keys, env = _token_keys(source)
        return SendError(
            t("x.reply.permission", detail=detail, keys=keys, env=env),
            retryable=True,
            alert=f"permission:{answer.kind}",
        )
    if refusal.status == 403:
        return SendError(t("x.reply.not_allowed", detail=detail), retryable=False)
    return SendError(t("x.reply.refused", detail=detail), retryable=False)


def _token_keys(source: XAccount) -> tuple[str, str]:
    """The config keys of the user token and their environment names, for the admin's instructions."""
    keys = ("access_token", "access_token_secret")
    name = source.name
    return (
        ", ".join(f"plugins.{name}.{key}" for key in keys),
        ", ".join(f"CHATOPS_PLUGINS__{name.upper()}__{key.upper()}" for key in keys),
    )


def _account(source: XAccount) -> str:
    username = source.config.username
    return f"@{username}" if username else source.config.user_id


def _retry_at(headers: Mapping[str, str]) -> float | None:
    """When X allows posting again: the 24-hour post limit's reset when that is what ran out, else the window's."""
    lowered = {key.lower(): value for key, value in headers.items()}
    resets = []
    for scope in ("x-user-limit-24hour", "x-app-limit-24hour"):
        if _number(lowered.get(f"{scope}-remaining")) == 0:
            resets.append(_number(lowered.get(f"{scope}-reset")))
    if not any(r is not None for r in resets):
        resets = [_number(lowered.get("x-rate-limit-reset"))]
    known = [r for r in resets if r is not None and r > 0]
    return max(known) if known else None


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _now(source: XAccount) -> float:
    """Epoch seconds on the source's clock (tests move it by hand)."""
    return float(source.clock())


# -- connections ------------------------------------------------------------------------------


def _never_sent(exc: requests.RequestException) -> bool:
    """Whether the request certainly never reached X (no connection was made), so sending again is safe.

    The client's adapter retries nothing (``max_retries=0``, reads never retried), so urllib3
    wraps only a failure to connect in ``MaxRetryError``; a connection that broke after the
    request went out surfaces as the bare error (``Connection aborted``, a read timeout).
    """
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        return bool(exc.args) and isinstance(exc.args[0], MaxRetryError)
    return isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema)


def _describe(exc: BaseException) -> str:
    """A short, secret-free description of a connection failure (type and first line)."""
    first = str(exc).splitlines()[0] if str(exc) else ""
    return clip(f"{type(exc).__name__}: {first}" if first else type(exc).__name__)


def _posted_id(response: Any) -> str | None:
    """The id of the post X made, from ``create_tweet``'s answer (``{"data": {"id": …}}``)."""
    try:
        body = response.json()
    except ValueError:
        return None
    data = body.get("data") if isinstance(body, dict) else None
    post_id = data.get("id") if isinstance(data, dict) else None
    return post_id if is_id(post_id) else None


# -- lost answers -----------------------------------------------------------------------------


async def _lost(source: XAccount, target: Target, answer: Answer, why: str) -> SendResult:
    """X may have posted it: use the post if the account's timeline shows it, else fail for a person to check."""
    found = await _find_posted(source, target, answer)
    if found is not None:
        log.info("%s: answer %s was posted as %s although X's answer was lost", source.name, answer.id, found)
        return await _sent(source, found)
    raise SendError(source.t("x.reply.lost", detail=why), retryable=False)


async def _find_posted(source: XAccount, target: Target, answer: Answer) -> str | None:
    """The id of the account's reply to ``target`` saying the answer's text, among its recent posts.

    None if not seen. A post already recorded as another answer of the team is not this one,
    though its words are the same: taking it would show this answer as sent when X refused it.
    """
    try:
        found = await asyncio.to_thread(_search_own_replies, source, target.external_id, answer.text)
    except (tweepy.errors.TweepyException, requests.RequestException, ValueError) as exc:
        log.warning("%s: could not look for a reply whose answer was lost: %s", source.name, _describe(exc))
        return None
    for post_id in found:
        if not await _another_answers(source, post_id, answer.id):
            return post_id
        log.info(
            "%s: post %s with the same words is already another answer's, not answer %s's",
            source.name,
            post_id,
            answer.id,
        )
    return None


async def _another_answers(source: XAccount, post_id: str, answer_id: int) -> bool:
    """Whether ``post_id`` is stored as a team answer other than ``answer_id``.

    An answer the account made on X (polling read it before Retry) is not: it may be this very
    answer, which X posted while its answer to the bot was lost; the core merges the two.
    """
    db = getattr(source.ctx, "db", None)
    if not isinstance(db, Database):
        raise TypeError("the x source needs the plugin context's database to check a post is not another answer")
    async with db.read() as session:
        other = await session.scalar(
            select(Message.id).where(
                Message.source == source.name,
                Message.external_id == post_id,
                Message.direction == Direction.OUTBOUND.value,
                Message.id != answer_id,
            )
        )
    return other is not None


def _search_own_replies(source: XAccount, target_id: str, text: str) -> list[str]:
    """The account's replies to the target saying ``text``, among its posts newer than it (worker thread)."""
    client = source.client
    token: str | None = None
    found: list[str] = []
    for _ in range(LOOKUP_PAGES):
        response = client.get_users_tweets(
            source.config.user_id,
            since_id=target_id,
            max_results=100,
            tweet_fields=["referenced_tweets", "created_at"],
            exclude=["retweets"],
            pagination_token=token,
        )
        body = response.json()
        if not isinstance(body, dict):
            return found
        for post in _posts(body):
            if _replies_to(post, target_id) and same_text(str(post.get("text", "")), text):
                post_id = post.get("id")
                if is_id(post_id):
                    found.append(str(post_id))
        meta = body.get("meta")
        token = meta.get("next_token") if isinstance(meta, dict) else None
        if not isinstance(token, str) or not token:
            return found
    return found


def _posts(body: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    data = body.get("data")
    if isinstance(data, list):
        yield from (post for post in data if isinstance(post, dict))


def _replies_to(post: Mapping[str, Any], target_id: str) -> bool:
    references = post.get("referenced_tweets")
    return isinstance(references, list) and any(
        isinstance(ref, dict) and ref.get("type") == "replied_to" and ref.get("id") == target_id for ref in references
    )


def same_text(posted: str, sent: str) -> bool:
    """Whether a post's text, as X shows it, is the text that was sent.

    X shows text NFC-normalised, with ``&``, ``<`` and ``>`` escaped, every link it detected
    replaced by a t.co link, and possibly the people replied to in front as @mentions; none of
    that makes it a different reply.
    """
    ours = _comparable(_links_marked(sent))
    return any(_comparable(_TCO.sub("\x00", shown)) == ours for shown in (readable_text(posted), posted))


def _links_marked(text: str) -> str:
    """``text`` (NFC) with every link X would detect replaced by one mark: X swaps each for a t.co link."""
    text = unicodedata.normalize("NFC", text)
    for found in sorted(extract_urls_with_indices(text), key=lambda u: u["indices"][0], reverse=True):
        start, end = found["indices"]
        text = text[:start] + "\x00" + text[end:]
    return text


def _comparable(text: str) -> str:
    text = _LEADING_MENTIONS.sub("", unicodedata.normalize("NFC", text))
    return " ".join(text.split())
