"""The sandbox page's HTML: the channel as Slack shows it to one person, the customers' feeds, the open modal.

Messages and modals are drawn by :mod:`chatops.sandbox.blockkit_html`; around them this module
adds what Slack's client adds (who posted, threads under their parent, what only you see,
shared images) and the customers' pane. Every text is escaped, here or by the renderer.

The browser tests rely on these ``data-testid`` names: ``user-switcher`` (a ``<select>``, options
Anna, Jari, Lead; values UANNA, UJARI, ULEAD), ``channel`` (the channel pane), ``message`` (a
top-level message, with ``data-ts`` and ``data-channel``), ``thread`` (inside its parent) holding
``reply`` messages, ``ephemeral`` (only the current person sees it), ``composer`` (the message
box), ``customer-<key>`` (a source's section: inputs ``author`` and ``text``, the button "Post as
customer", ``feed``), ``customer-post`` (a comment in a feed) with ``team-reply`` and
``customer-reply`` under it and a "Follow up" button, ``play-script``; and, drawn by the page's
script, ``modal`` (the open modal's form) and ``confirm`` (a ``<dialog>``).
"""

from __future__ import annotations

import html
import logging
import mimetypes
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from chatops.sandbox import people
from chatops.sandbox.blockkit_html import message_html, view_html
from chatops.sandbox.runtime import Sandbox
from chatops.sandbox.slack_bridge import SlackBridge
from chatops.sandbox.sources import CustomerPost, SandboxSource
from chatops.testing.bot import INBOX

log = logging.getLogger(__name__)

#: The customer's name the form starts with.
DEFAULT_AUTHOR = "Maija Virtanen"
#: File types shown as images (the digest's chart).
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _ts_key(ts: str) -> tuple[int, int]:
    seconds, _, micros = ts.partition(".")
    try:
        return int(seconds), int(micros or 0)
    except ValueError:
        return 0, 0


class PageHtml:
    """Draws the page and its fragments from the running sandbox's state."""

    def __init__(self, sandbox: Sandbox, bridge: SlackBridge) -> None:
        """Draw what ``sandbox`` holds and ``bridge`` keeps (open modals, notes only one person sees)."""
        self.sandbox = sandbox
        self.bridge = bridge
        self.users = people.names()
        bot = sandbox.bot
        #: The team's timezone: feeds show times as the cards do.
        self.tz: tzinfo = bot.settings.team.tz if bot is not None else UTC

    def message_block(self, message: dict[str, Any], *, testid: str) -> str:
        """One message as Slack shows it: who posted it, its blocks, its files."""
        edited = ' <span class="edited">(edited)</span>' if message.get("edits") else ""
        files = "".join(self.file_html(f) for f in message.get("files") or [])
        shown = message.get("blocks") or message.get("text")
        prefix = "m" + str(message["ts"]).replace(".", "-")
        body = message_html(message, users=self.users, channels=people.CHANNELS, id_prefix=prefix) if shown else ""
        return (
            f'<div class="msg" data-testid="{testid}" data-ts="{_e(message["ts"])}"'
            f' data-channel="{_e(message["channel"])}">'
            f'<div class="msg-head"><span class="author">chatops</span> <span class="badge">APP</span>{edited}</div>'
            f'<div class="msg-body">{body}{files}</div>'
        )

    def file_html(self, file: dict[str, Any]) -> str:
        """A shared file: an image inline, anything else as a link."""
        url = f"/files/{_e(file.get('id', ''))}"
        title = _e(file.get("title") or file.get("name") or "file")
        kind = mimetypes.guess_type(str(file.get("name") or ""))[0]
        if kind in IMAGE_TYPES:
            return f'<figure class="file"><img src="{url}" alt="{title}"><figcaption>{title}</figcaption></figure>'
        return f'<a class="file" href="{url}" download>{title}</a>'

    def note_block(self, text: str, blocks: Sequence[Any], number: int) -> str:
        """A message only the current person sees."""
        message = {"text": text, "blocks": list(blocks)}
        body = message_html(message, users=self.users, channels=people.CHANNELS, id_prefix=f"e{number}")
        return (
            '<div class="msg ephemeral" data-testid="ephemeral">'
            '<div class="msg-head"><span class="author">chatops</span> <span class="badge">APP</span>'
            ' <span class="only-you">Only visible to you</span></div>'
            f'<div class="msg-body">{body}</div></div>'
        )

    def channel_html(self, user: str, channel: str) -> str:
        """The channel as ``user`` sees it: messages with their threads, and what only ``user`` sees, in order."""
        slack = self.sandbox.slack
        live = slack.messages(channel)
        replies: dict[str, list[str]] = {}
        for message in live:
            if message["thread_ts"] is not None:
                replies.setdefault(message["thread_ts"], []).append(
                    self.message_block(message, testid="reply") + "</div>"
                )
        items: list[tuple[tuple[int, int], int, str]] = []
        for number, ephemeral in enumerate(slack.ephemerals(user)):
            if ephemeral["channel"] != channel:
                continue
            block = self.note_block(ephemeral["text"], ephemeral.get("blocks") or [], number)
            if ephemeral.get("thread_ts") and ephemeral["thread_ts"] in replies:
                replies[ephemeral["thread_ts"]].append(block)
            else:
                items.append((_ts_key(ephemeral["message_ts"]), 1, block))
        for message in live:
            if message["thread_ts"] is not None:
                continue
            thread = replies.get(message["ts"], [])
            shown = f'<div class="thread" data-testid="thread">{"".join(thread)}</div>' if thread else ""
            items.append((_ts_key(message["ts"]), 0, self.message_block(message, testid="message") + shown + "</div>"))
        for number, note in enumerate(self.bridge.notes):
            if note.user == user and note.channel == channel:
                block = self.note_block(note.text, note.blocks, 100_000 + number)
                items.append((_ts_key(note.after_ts), 2 + number, block))
        if not items:
            return '<p class="empty">Nothing here yet. Post as a customer on the right, or play a scripted day.</p>'
        return "".join(block for _key, _order, block in sorted(items, key=lambda item: (item[0], item[1])))

    def channel_counts(self) -> dict[str, int]:
        """How many top-level messages each channel has (the sidebar shows them)."""
        return {channel: len(self.sandbox.slack.top_level_messages(channel)) for channel in people.CHANNELS}

    def feed_html(self, source: SandboxSource) -> str:
        """A source's feed as the customers see it: their comments, newest first, the team's replies under them."""
        try:
            posts = list(source.feed())
        except Exception:
            log.exception("sandbox source %s: its feed could not be read", source.key)
            return '<p class="empty">The feed could not be read (see the terminal).</p>'
        if not posts:
            return '<p class="empty">No comments yet.</p>'
        return "".join(self.post_html(post) for post in posts)

    def post_html(self, post: CustomerPost, *, reply: bool = False) -> str:
        """One comment, with the replies under it."""
        testid = ("team-reply" if post.from_team else "customer-reply") if reply else "customer-post"
        team = " team" if post.from_team else ""
        note = f' <span class="note">{_e(post.note)}</span>' if post.note else ""
        replies = "".join(self.post_html(r, reply=True) for r in post.replies)
        # A customer may write again under their comment (a follow-up lands in the card's thread).
        follow_up = (
            ""
            if reply
            else f'<button type="button" class="follow-up" data-post-id="{_e(post.id)}" data-author="{_e(post.author)}"'
            f' title="Write under this comment as its customer">Follow up</button>'
        )
        return (
            f'<article class="post{team}" data-testid="{testid}" data-id="{_e(post.id)}">'
            f'<div class="post-head"><b>{_e(post.author)}</b> <time>{_e(self.local_time(post.at))}</time>{note}</div>'
            f'<div class="post-text">{_e(post.text)}</div>{replies}{follow_up}</article>'
        )

    def local_time(self, at: datetime) -> str:
        """``at`` as the team reads it (the bot's timezone, as on the cards)."""
        return at.astimezone(self.tz).strftime("%H:%M")

    def modal(self, user: str) -> dict[str, str] | None:
        """The modal ``user`` sees now (id, hash, HTML), or None."""
        view = self.bridge.modals.top(user)
        if view is None:
            return None
        return {"id": str(view["id"]), "hash": str(view.get("hash", "")), "html": self.view_block(view)}

    def view_block(self, view: dict[str, Any], errors: dict[str, str] | None = None, state: Any = None) -> str:
        """A modal as a form (with the bot's validation errors and what was typed, when sent back)."""
        return view_html(view, users=self.users, channels=people.CHANNELS, errors=errors, state=state)

    def customers_html(self) -> str:
        """The customers' pane: the scripted day, then one section per source."""
        sections = []
        for source in self.sandbox.sources.values():
            key = _e(source.key)
            sections.append(
                f'<section class="customer" data-testid="customer-{key}" data-key="{key}">'
                f"<h3>{_e(source.label)}</h3>"
                f'<form class="customer-form" data-key="{key}">'
                f'<label>Customer <input name="author" value="{_e(DEFAULT_AUTHOR)}" maxlength="80" required></label>'
                f'<label>Comment <textarea name="text" rows="3" required></textarea></label>'
                f'<input type="hidden" name="reply_to" value=""><p class="answering" hidden></p>'
                f'<button type="submit">Post as customer</button><p class="form-error" role="alert"></p></form>'
                f'<div class="feed" data-testid="feed" data-feed="{key}">{self.feed_html(source)}</div></section>'
            )
        if not sections:
            sections.append('<p class="empty">No installed plugin has a customers\' side.</p>')
        return (
            '<div class="script"><button type="button" data-testid="play-script" id="play-script">'
            'Play a scripted day</button> <button type="button" data-testid="play-crisis" id="play-crisis">'
            'Play a crisis (120 comments)</button><p class="script-status" role="status"></p></div>' + "".join(sections)
        )

    def page_html(self) -> str:
        """The whole page (the first person in the switcher, the inbox channel)."""
        user = people.TEAM[0].id
        options = "".join(
            f'<option value="{_e(p.id)}" data-role="{_e(p.role)}">{_e(p.label)}</option>' for p in people.TEAM
        )
        channels = "".join(
            f'<button type="button" class="channel-link{" active" if cid == INBOX else ""}" data-channel="{_e(cid)}">'
            f'# {_e(name)} <span class="count"></span></button>'
            for cid, name in people.CHANNELS.items()
        )
        return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>chatops sandbox</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/sandbox.css"></head>
<body data-user="{_e(user)}" data-channel="{_e(INBOX)}">
<header class="top"><h1>chatops sandbox</h1>
<label class="switcher">You are <select data-testid="user-switcher" id="user-switcher">{options}</select></label>
<span class="role" id="role">{_e(people.TEAM[0].role)}</span>
<span class="hint">Everything here runs on your computer:
 a Slack stand-in, the real bot, and the customers.</span></header>
<main>
<nav class="sidebar" aria-label="Channels">{channels}</nav>
<section class="slack" aria-label="Slack">
<h2 class="channel-title" id="channel-title"># {_e(people.CHANNELS[INBOX])}</h2>
<div class="channel" data-testid="channel" id="channel">{self.channel_html(user, INBOX)}</div>
<form class="composer" id="composer-form"><input data-testid="composer" id="composer" autocomplete="off"
 placeholder="Type /rota help or /chatops digest and press Enter" aria-label="Message box"></form>
</section>
<section class="customers" aria-label="Customers" id="customers">{self.customers_html()}</section>
</main>
<div class="overlay" id="modal-overlay" hidden></div>
<dialog class="confirm" data-testid="confirm" id="confirm"><h2 id="confirm-title"></h2><div id="confirm-text"></div>
<div class="actions"><button type="button" id="confirm-deny"></button>
<button type="button" id="confirm-yes"></button></div></dialog>
<script src="/static/sandbox.js"></script></body></html>"""
