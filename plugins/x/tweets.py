"""X posts as inbound messages, and the rule that puts a reply on the right card.

Polling reads X API v2 post objects (with ``includes.users``); the Account Activity webhook gets
v1.1 shapes. Both end here through :class:`Post`, built from plain values, so the card text, the
links and the thread rule are the same whichever way a mention arrived:

- a post replying to a post the bot knows (a customer's stored post, or an answer the team sent)
  joins that post's card (``ctx.thread_of``);
- else a post whose ``conversation_id`` is a post the bot knows joins that conversation's card;
- else it starts a new card keyed by its own id.

The account's own posts are answers made directly on X (``from_account=True``): recorded in the
card's thread when they answer a known post; the core drops the others.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chatops.inbound_checks import believable_or_none
from chatops.sources import Author, Context, InboundMessage, SourceContext

NAME = "x"
#: X ids are decimal snowflakes.
_ID_RE = re.compile(r"[0-9]{1,20}")
_HANDLE_RE = re.compile(r"[A-Za-z0-9_]{1,15}")
#: X escapes these three in post text (v1.1 and v2 alike).
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}
_ENTITY_RE = re.compile("|".join(map(re.escape, _ENTITIES)))
#: The longest context (the post a mention answers) kept on the card.
CONTEXT_CHARS = 500


class MalformedPost(ValueError):
    """A post object X sent that cannot become a message (no usable id)."""


@dataclass(frozen=True, slots=True)
class Post:
    """One X post, in plain values, whichever API shape it came in."""

    id: str
    text: str
    author_id: str | None = None
    username: str | None = None
    name: str | None = None
    created_at: datetime | None = None
    conversation_id: str | None = None
    in_reply_to: str | None = None
    #: ``(t.co link, expanded URL)`` pairs: the card shows where a link goes, not t.co.
    urls: tuple[tuple[str, str], ...] = ()
    #: The post this one answers, when X included it.
    context: Context | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


def is_id(value: object) -> bool:
    """Whether ``value`` is an X id (a string of digits)."""
    return isinstance(value, str) and _ID_RE.fullmatch(value) is not None


def status_url(tweet_id: str, username: str | None = None) -> str:
    """The post's public link: ``https://x.com/<user>/status/<id>`` (``/i/web/`` without a username)."""
    if username and _HANDLE_RE.fullmatch(username):
        return f"https://x.com/{username}/status/{tweet_id}"
    return f"https://x.com/i/web/status/{tweet_id}"


def profile_url(username: str | None) -> str | None:
    """The author's profile link, when the username looks like one."""
    return f"https://x.com/{username}" if username and _HANDLE_RE.fullmatch(username) else None


def parse_time(value: object) -> datetime | None:
    """X's ``created_at``: v2's ``2024-01-15T10:30:00.000Z``, or v1.1's ``Wed Oct 10 20:19:24 +0000 2018``."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            moment = datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y")
        except ValueError:
            return None
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:  # year 1 at +05:00, 9999-12-31 at -05:00: past datetime's range in UTC
        return None


def readable_text(text: str, urls: Iterable[tuple[str, str]] = ()) -> str:
    """Post text as the customer wrote it: X's ``&amp;``-style escapes undone, t.co links expanded.

    Only http(s) expansions are used; the text stays data (the card escapes it for Slack).
    """
    text = _ENTITY_RE.sub(lambda m: _ENTITIES[m.group(0)], text)
    for short, expanded in urls:
        if short and expanded.startswith(("https://", "http://")) and short != expanded:
            text = text.replace(short, expanded)
    return text


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _url_pairs(entities: object) -> tuple[tuple[str, str], ...]:
    """``(url, expanded_url)`` of ``entities.urls`` (v1.1 and v2 use the same names); bad items skipped."""
    if not isinstance(entities, Mapping):
        return ()
    items = entities.get("urls")
    if not isinstance(items, list):
        return ()
    pairs = []
    for item in items:
        if isinstance(item, Mapping):
            short, expanded = _str(item.get("url")), _str(item.get("expanded_url"))
            if short and expanded:
                pairs.append((short, expanded))
    return tuple(pairs)


def _replied_to(tweet: Mapping[str, Any]) -> str | None:
    refs = tweet.get("referenced_tweets")
    if not isinstance(refs, list):
        return None
    for ref in refs:
        if isinstance(ref, Mapping) and ref.get("type") == "replied_to" and is_id(ref.get("id")):
            return str(ref["id"])
    return None


def users_by_id(includes: object) -> dict[str, Mapping[str, Any]]:
    """``includes.users`` of a v2 answer by id (missing or malformed entries left out)."""
    users = includes.get("users") if isinstance(includes, Mapping) else None
    if not isinstance(users, list):
        return {}
    return {u["id"]: u for u in users if isinstance(u, Mapping) and is_id(u.get("id"))}


def tweets_by_id(includes: object) -> dict[str, Mapping[str, Any]]:
    """``includes.tweets`` of a v2 answer by id (the posts the page's posts reference)."""
    tweets = includes.get("tweets") if isinstance(includes, Mapping) else None
    if not isinstance(tweets, list):
        return {}
    return {t["id"]: t for t in tweets if isinstance(t, Mapping) and is_id(t.get("id"))}


def post_from_v2(
    tweet: object,
    users: Mapping[str, Mapping[str, Any]],
    referenced: Mapping[str, Mapping[str, Any]] | None = None,
) -> Post:
    """A v2 post object (``data[]`` item) as a :class:`Post`; MalformedPost when it has no usable id.

    Missing fields cost only what they carry: no author in ``includes.users`` leaves the author's
    id alone, no (or no believable) ``created_at`` leaves the time to the bot, no ``conversation_id`` leaves the
    thread to ``in_reply_to``.
    """
    if not isinstance(tweet, Mapping) or not is_id(tweet.get("id")):
        raise MalformedPost(f"a post without a usable id: {str(tweet)[:200]}")
    author_id = _str(tweet.get("author_id"))
    user = users.get(author_id) if author_id else None
    in_reply_to = _replied_to(tweet)
    context = None
    parent = (referenced or {}).get(in_reply_to) if in_reply_to else None
    if parent is not None:
        parent_user = users.get(str(parent.get("author_id")))
        parent_text = readable_text(_str(parent.get("text")) or "", _url_pairs(parent.get("entities")))
        context = Context(
            text=parent_text[:CONTEXT_CHARS] or None,
            url=status_url(str(parent["id"]), _str(parent_user.get("username")) if parent_user else None),
        )
    conversation_id = tweet.get("conversation_id")
    return Post(
        id=str(tweet["id"]),
        text=_str(tweet.get("text")) or "",
        author_id=author_id,
        username=_str(user.get("username")) if user else None,
        name=_str(user.get("name")) if user else None,
        # A time no post can have (before 2000, in the future) is left to the bot, as the webhook does.
        created_at=believable_or_none(parse_time(tweet.get("created_at"))),
        conversation_id=conversation_id if is_id(conversation_id) else None,
        in_reply_to=in_reply_to,
        urls=_url_pairs(tweet.get("entities")),
        context=context,
    )


async def known_thread(
    ctx: SourceContext,
    *,
    in_reply_to: str | None,
    conversation_id: str | None,
    batch: Mapping[str, str] | None = None,
) -> str | None:
    """The card a post joins: its parent's, else its conversation's; None when neither is known.

    ``batch`` holds the threads of posts read in the same pass but not stored yet (oldest first),
    so a reply read together with its parent still joins the parent's card.
    """
    batch = batch or {}
    for candidate in (in_reply_to, conversation_id):
        if candidate is None:
            continue
        thread = batch.get(candidate) or await ctx.thread_of(NAME, candidate)
        if thread is not None:
            return thread
    return None


async def to_inbound(
    ctx: SourceContext,
    post: Post,
    *,
    account_id: str,
    account_username: str | None = None,
    batch: MutableMapping[str, str] | None = None,
) -> InboundMessage:
    """The inbound message of ``post`` on the right card.

    A customer's post joins a known thread or starts its own; the account's own post
    (``author_id == account_id``) is ``from_account`` on the thread it answers (when none is known,
    the core drops it). ``batch`` (post id -> thread) is read and extended, so posts of one pass
    ingested oldest first form their threads before any is stored.
    """
    own = post.author_id == account_id
    thread = await known_thread(ctx, in_reply_to=post.in_reply_to, conversation_id=post.conversation_id, batch=batch)
    if batch is not None and (thread is not None or not own):
        # Our own post answering nothing we know is no thread: a customer replying to it starts one.
        batch[post.id] = thread or post.id
    username = post.username or (account_username if own else None)
    return InboundMessage(
        source=NAME,
        external_id=post.id,
        thread_id=thread or post.id,
        text=readable_text(post.text, post.urls) or "(no text)",
        author=Author(
            id=post.author_id,
            name=post.name or username,
            handle=username,
            url=profile_url(username),
        ),
        url=status_url(post.id, username),
        created_at=post.created_at,
        channel_name=f"@{account_username}" if account_username else None,
        context=post.context,
        extra={
            "conversation_id": post.conversation_id,
            "in_reply_to": post.in_reply_to,
            **post.extra,
        },
        from_account=own,
    )


async def inbound_message(
    ctx: SourceContext,
    *,
    tweet_id: str,
    text: str,
    author_id: str | None,
    username: str | None,
    name: str | None,
    created_at: datetime | None,
    conversation_id: str | None,
    in_reply_to: str | None,
    account_id: str,
    account_username: str | None = None,
    urls: Iterable[tuple[str, str]] = (),
    batch: MutableMapping[str, str] | None = None,
) -> InboundMessage:
    """:func:`to_inbound` from plain values (what the webhook has from v1.1's shapes)."""
    post = Post(
        id=tweet_id,
        text=text,
        author_id=author_id,
        username=username,
        name=name,
        created_at=created_at,
        conversation_id=conversation_id,
        in_reply_to=in_reply_to,
        urls=tuple(urls),
    )
    return await to_inbound(ctx, post, account_id=account_id, account_username=account_username, batch=batch)
