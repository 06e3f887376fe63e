"""Make untrusted text safe for Slack mrkdwn: no pings, no disguised links.

Slack parses ``<…>`` in mrkdwn as mentions (``<!channel>``, ``<@U123>``,
``<!subteam^S1>``) and links (``<https://evil|label>``), whatever ``verbatim``
says. Escaping ``&``, ``<`` and ``>`` (``&`` first) makes all of them literal
text. Truncation happens on the raw text, counting the escaped length, so an
entity such as ``&amp;`` is never cut in half.
"""

from __future__ import annotations

from urllib.parse import urlsplit

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def mrkdwn_escape(text: str) -> str:
    """Escape text for a mrkdwn field so it shows literally and pings nobody."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_truncated(text: str, limit: int, ellipsis: str = "…") -> tuple[str, bool]:
    """Escape ``text`` keeping the escaped result within ``limit`` characters.

    Returns the escaped text and whether anything was cut.
    """
    escaped = mrkdwn_escape(text)
    if len(escaped) <= limit:
        return escaped, False
    budget = limit - len(ellipsis)
    out: list[str] = []
    used = 0
    for char in text:
        piece = _ESCAPES.get(char, char)
        if used + len(piece) > budget:
            break
        out.append(piece)
        used += len(piece)
    return "".join(out) + ellipsis, True


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
    if any(c in url for c in "<>|\n\r\t "):
        return None
    return url.replace("&", "&amp;")


def link(url: str | None, label: str) -> str:
    """A mrkdwn link with an escaped label, or just the escaped label if the URL is unsafe."""
    target = safe_url(url)
    label = mrkdwn_escape(label)
    return f"<{target}|{label}>" if target else label


def one_line(text: str | None, limit: int = 150) -> str:
    """First line of ``text``, cut to ``limit`` characters (raw, not escaped)."""
    if not text:
        return ""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return plain_truncated(first, limit)
