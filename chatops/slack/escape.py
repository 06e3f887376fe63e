"""Make untrusted text safe for Slack mrkdwn: no pings, no disguised links, no hidden or reversed text.

Slack parses ``<…>`` in mrkdwn as mentions (``<!channel>``, ``<@U123>``,
``<!subteam^S1>``) and links (``<https://evil|label>``), whatever ``verbatim``
says. Escaping ``&``, ``<`` and ``>`` (``&`` first) makes all of them literal
text. Truncation happens on the raw text, counting the escaped length, so an
entity such as ``&amp;`` is never cut in half.

Bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F) and
zero-width characters (U+200B–U+200D, U+2060, U+FEFF) are shown as visible
``⟨U+202E⟩`` marks on what Slack displays: a customer's text cannot read
backwards or hide words, and the team can still see that the characters were
there. The stored text keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}

#: Characters that reorder or hide text; shown as ``⟨U+XXXX⟩`` instead of taking effect.
INVISIBLE_CONTROLS = frozenset(
    [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
    + ["\u200e", "\u200f", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
)
_VISIBLE = {c: f"⟨U+{ord(c):04X}⟩" for c in INVISIBLE_CONTROLS}
_MRKDWN = {**_ESCAPES, **_VISIBLE}
_MRKDWN_TABLE = str.maketrans(_MRKDWN)
_VISIBLE_TABLE = str.maketrans(_VISIBLE)

#: Longest URL put inside a mrkdwn ``<url|label>``: longer ones are shown as text only, so a link never
#: eats the budget of the text around it.
LINK_URL_LIMIT = 500


def mrkdwn_escape(text: str) -> str:
    """Escape text for a mrkdwn field so it shows literally, pings nobody and shows invisible controls."""
    return text.translate(_MRKDWN_TABLE)


def show_controls(text: str) -> str:
    """Text for a ``plain_text`` object: invisible and bidi controls made visible, nothing else changed."""
    return text.translate(_VISIBLE_TABLE)


@dataclass(frozen=True, slots=True)
class Fitted:
    """Escaped text cut to a budget: the text, how many raw characters it shows, and whether it was cut."""

    text: str
    shown: int
    truncated: bool


def escape_fit(text: str, limit: int, *, ellipsis: str = "…", quote: bool = False, plain: bool = False) -> Fitted:
    """Escape ``text`` so that the result, ellipsis included, is at most ``limit`` characters.

    ``quote`` continues a mrkdwn block quote on every line (each newline becomes ``"\\n>"``);
    ``plain`` only makes controls visible (for ``plain_text`` objects). Never cuts an entity or a
    ``⟨U+…⟩`` mark in half.
    """
    table = _VISIBLE if plain else _MRKDWN
    out: list[str] = []
    used = 0
    for char in text:
        piece = table.get(char, char)
        if quote and char == "\n":
            piece = "\n>"
        if used + len(piece) > limit:
            budget = max(limit - len(ellipsis), 0)
            while out and used > budget:
                used -= len(out.pop())
            cut = "".join(out)
            return Fitted(cut + ellipsis if limit >= len(ellipsis) else cut, len(out), True)
        out.append(piece)
        used += len(piece)
    return Fitted("".join(out), len(text), False)


def escape_truncated(text: str, limit: int, ellipsis: str = "…") -> tuple[str, bool]:
    """Escape ``text`` keeping the escaped result within ``limit`` characters.

    Returns the escaped text and whether anything was cut.
    """
    fitted = escape_fit(text, limit, ellipsis=ellipsis)
    return fitted.text, fitted.truncated


def clip_mrkdwn(text: str, limit: int, ellipsis: str = "…") -> str:
    """Cut finished mrkdwn to ``limit`` characters without breaking an entity, a ``<…>`` token or a mark.

    The last line of defence: each part of a block has its own budget, so this cuts only
    when a translation or a configured name is longer than foreseen.
    """
    if len(text) <= limit:
        return text
    cut = text[: max(limit - len(ellipsis), 0)]
    for opener, closer in (("&", ";"), ("<", ">"), ("⟨", "⟩")):
        start = cut.rfind(opener)
        if start != -1 and cut.find(closer, start) == -1:
            cut = cut[:start]
    return cut + ellipsis


def plain_truncated(text: str, limit: int, ellipsis: str = "…") -> str:
    """Cut plain text (not parsed by Slack) to ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - len(ellipsis)] + ellipsis


def safe_url(url: str | None, limit: int = 3000) -> str | None:
    """Return ``url`` if it is an http(s) URL safe to put inside ``<url|label>``, else None."""
    if not url or len(url) > limit:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    if any(c in url for c in "<>|\n\r\t ") or any(c in INVISIBLE_CONTROLS for c in url):
        return None
    if not url.isprintable():
        return None
    escaped = url.replace("&", "&amp;")
    return escaped if len(escaped) <= limit else None


def link(url: str | None, label: str, *, label_limit: int = 300) -> str:
    """A mrkdwn link with an escaped label (at most ``label_limit`` characters), or just the label."""
    target = safe_url(url, LINK_URL_LIMIT)
    escaped = escape_fit(label, label_limit).text
    return f"<{target}|{escaped}>" if target else escaped


def mention(slack_id: str) -> str:
    """The mention of a configured (trusted) id: ``<!subteam^S…>`` for a user group, ``<@U…>`` for a user."""
    slack_id = slack_id.strip()
    return f"<!subteam^{slack_id}>" if slack_id.startswith("S") else f"<@{slack_id}>"


def one_line(text: str | None, limit: int = 150) -> str:
    """First line of ``text``, cut to ``limit`` characters (raw, not escaped)."""
    if not text:
        return ""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return plain_truncated(first, limit)
