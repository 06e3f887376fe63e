"""Slack ``mrkdwn`` as safe HTML, the way Slack's client shows a message's text.

Slack sends text with ``&``, ``<`` and ``>`` written as ``&amp;``, ``&lt;`` and ``&gt;``;
a literal ``<…>`` is a link, a mention or a special word, and a literal ``>`` at the start
of a line is a quote. Those marks are read from the text as sent; every piece of text is
then decoded once (those three entities only) and HTML-escaped, so no text can make an
element or an attribute the renderer did not make.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["attr", "decode_entities", "mrkdwn_html", "plain_html", "safe_href"]

#: Schemes a link may open; anything else is shown as text.
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})

_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
_SPECIAL = re.compile(r"<([^<>\n]*)>")
_CODE_BLOCK = re.compile(r"```(.*?)```", re.DOTALL)
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
#: A placeholder for an already rendered piece (a link, a mention, inline code); NUL never shows in Slack.
_HOLE = re.compile(r"\x00(\d+)\x00")
#: Formatting nested deeper than this is shown as text (Slack's client nests only a few levels too).
MAX_NESTING = 6
_BROADCASTS = {"channel": "@channel", "here": "@here", "everyone": "@everyone"}


def attr(value: object) -> str:
    """``value`` escaped for an HTML attribute in double quotes (quotes, ``&``, ``<``, ``>``)."""
    return html.escape(str(value), quote=True)


def decode_entities(text: str) -> str:
    """Slack's three entities decoded, exactly once (``&amp;lt;`` stays ``&lt;`` as text)."""
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text)


def plain_html(text: str) -> str:
    """A ``plain_text`` object's text as HTML: escaped, line breaks kept (Slack decodes nothing in it)."""
    return html.escape(text, quote=True).replace("\n", "<br>")


def safe_href(url: str) -> str | None:
    """``url`` when it may be a link's target (http, https, mailto with something after it), else None."""
    url = url.strip()
    if not url or any(ord(c) < 0x20 or c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in SAFE_SCHEMES:
        return None
    if parts.scheme.lower() != "mailto" and not parts.netloc:
        return None
    return url


@dataclass(frozen=True, slots=True)
class _Piece:
    """A rendered piece of a line: its HTML, and its text for places that show no markup (inside code)."""

    html: str
    text: str


class _Renderer:
    """One text's rendering: the pieces found so far, looked up by their placeholders."""

    def __init__(self, users: Mapping[str, str], channels: Mapping[str, str]) -> None:
        self.users = users
        self.channels = channels
        self.pieces: list[_Piece] = []

    def hole(self, piece: _Piece) -> str:
        self.pieces.append(piece)
        return f"\x00{len(self.pieces) - 1}\x00"

    # -- <…> -------------------------------------------------------------------------

    def special(self, inside: str) -> _Piece:
        """``<@U1>``, ``<#C1|name>``, ``<!here>``, ``<https://x|label>`` as a piece; unknown forms as text."""
        target, _, label = inside.partition("|")
        label = decode_entities(label)
        if target.startswith("@"):
            name = self.users.get(target[1:]) or label.lstrip("@") or target[1:]
            return self._mention("@" + name, "bk-mention")
        if target.startswith("#"):
            name = self.channels.get(target[1:]) or label.lstrip("#") or target[1:]
            return self._mention("#" + name, "bk-channel")
        if target.startswith("!"):
            return self._mention(self._word(target[1:], label), "bk-mention")
        href = safe_href(decode_entities(target))
        shown = label or decode_entities(target)
        if href is None:
            return _Piece(html.escape(shown), shown)
        link = f'<a href="{attr(href)}" target="_blank" rel="noopener noreferrer">{html.escape(shown)}</a>'
        return _Piece(link, shown)

    @staticmethod
    def _word(name: str, label: str) -> str:
        """A special word (``!here``, ``!subteam^S1``, ``!date^…``) as Slack's client writes it."""
        if name in _BROADCASTS:
            return _BROADCASTS[name]
        if name.startswith("subteam^"):
            return label if label.startswith("@") else "@" + (label or name.removeprefix("subteam^"))
        return label or "@" + name

    @staticmethod
    def _mention(text: str, css: str) -> _Piece:
        return _Piece(f'<span class="{css}">{html.escape(text)}</span>', text)

    # -- lines -------------------------------------------------------------------------

    def text_html(self, raw: str) -> str:
        """Raw text with placeholders: text decoded and escaped, placeholders replaced by their HTML."""
        out: list[str] = []
        at = 0
        for m in _HOLE.finditer(raw):
            out.append(html.escape(decode_entities(raw[at : m.start()])))
            out.append(self.pieces[int(m.group(1))].html)
            at = m.end()
        out.append(html.escape(decode_entities(raw[at:])))
        return "".join(out)

    def text_only(self, raw: str) -> str:
        """Raw text with placeholders as the text it shows (inside code, where nothing is formatted)."""
        return decode_entities(_HOLE.sub(lambda m: self.pieces[int(m.group(1))].text, raw))

    def inline(self, raw: str) -> str:
        """One line (placeholders in it) with ``*bold*``, ``_italic_``, ``~strike~`` and ``code``."""
        raw = _CODE_SPAN.sub(lambda m: self.hole(self._code(m.group(1))), raw)
        return self._emphasis(raw)

    def _code(self, raw: str) -> _Piece:
        text = self.text_only(raw)
        return _Piece(f"<code>{html.escape(text)}</code>", text)

    def _emphasis(self, raw: str, depth: int = 0) -> str:
        out: list[str] = []
        while True:
            best: tuple[re.Match[str], str] | None = None
            for pattern, tag in _EMPHASIS if depth < MAX_NESTING else ():
                m = pattern.search(raw)
                if m is not None and (best is None or m.start() < best[0].start()):
                    best = (m, tag)
            if best is None:
                out.append(self.text_html(raw))
                return "".join(out)
            m, tag = best
            out.append(f"{self.text_html(raw[: m.start()])}<{tag}>{self._emphasis(m.group(1), depth + 1)}</{tag}>")
            raw = raw[m.end() :]

    def block(self, raw: str) -> str:
        """Text without code blocks: quotes (``>`` at a line's start as sent) and line breaks."""
        out: list[str] = []
        quote: list[str] = []
        lines = raw.split("\n")
        for i, line in enumerate(lines):
            if line.startswith(">"):
                quote.append(self.inline(line[1:]))
                continue
            if quote:
                out.append("<blockquote>" + "<br>".join(quote) + "</blockquote>")
                quote = []
            out.append(self.inline(line))
            if i < len(lines) - 1 and not lines[i + 1].startswith(">"):
                out.append("<br>")
        if quote:
            out.append("<blockquote>" + "<br>".join(quote) + "</blockquote>")
        return "".join(out)


def _emphasis_pattern(mark: str) -> re.Pattern[str]:
    m = re.escape(mark)
    # Slack's rule: the marks touch the words they wrap and stand apart from other words.
    return re.compile(rf"(?<![\w{m}]){m}(?=[^\s{m}])([^\n]*?[^\s{m}]|[^\s{m}]){m}(?![\w{m}])")


_EMPHASIS: tuple[tuple[re.Pattern[str], str], ...] = (
    (_emphasis_pattern("*"), "b"),
    (_emphasis_pattern("_"), "i"),
    (_emphasis_pattern("~"), "s"),
)


def mrkdwn_html(text: str, *, users: Mapping[str, str] | None = None, channels: Mapping[str, str] | None = None) -> str:
    """Slack ``mrkdwn`` (bold, italic, strike, code, quotes, ``<url|label>``, ``<@U…>``) as safe HTML.

    ``users`` and ``channels`` name ids (``<@U1>`` → ``@Anna``); an unknown id is shown as
    its label or itself. Links open only http(s) and mailto targets, in a new tab; any
    other target is shown as text. Emoji short codes stay as they are.
    """
    renderer = _Renderer(users or {}, channels or {})
    # NUL marks the renderer's placeholders; Slack shows none, so none in the text can pose as one.
    raw = text.replace("\x00", "\ufffd")
    raw = _SPECIAL.sub(lambda m: renderer.hole(renderer.special(m.group(1))), raw)
    out: list[str] = []
    at = 0
    for m in _CODE_BLOCK.finditer(raw):
        out.append(renderer.block(raw[at : m.start()].removesuffix("\n")))
        out.append(f"<pre>{html.escape(renderer.text_only(m.group(1).strip(chr(10))))}</pre>")
        at = m.end()
    out.append(renderer.block(raw[at:].removeprefix("\n") if at else raw))
    return "".join(out)
