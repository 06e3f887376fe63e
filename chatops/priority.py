"""How urgent a customer's comment is: the score that orders cards while posts queue.

On a flood day Slack takes about one message per second per channel, so cards wait. They are
posted highest score first (see :class:`chatops.outbox.worker.OutboxWorker`), and a roll-up
(``chatops.rollups``) still gives its most urgent members their own cards. A comment's score is
the sum of the rules it meets, from ``[priority]`` in the config:

- a configured keyword or phrase in its text (any language, whole words, compared after Unicode
  NFKC normalisation and case folding, so ``HYVITYS`` and ``hyvitys`` are the same word). A
  keyword ending in ``*`` matches any word it begins: Finnish and Polish inflect their words, so
  ``hyvity*`` finds ``hyvitys``, ``hyvityksen`` and ``hyvitykset``, ``zwrot*`` finds ``zwrotu``.
  The stem before ``*`` must be at least :data:`MIN_STEM` letters (``a*`` would match half the
  language). Only the first :data:`SCAN_LIMIT` characters of a text are searched;
- a VIP author: their handle (with or without ``@``) or the platform's id for them, never the
  display name, which anyone can set to a newspaper's name;
- negative sentiment, as the source or a classifier plugin says (``extra["sentiment"]``);
- whatever classifier plugins add through the ``chatops_classify`` hook, each plugin's
  ``priority`` bounded to ±:data:`PLUGIN_LIMIT`.

A customer writing again after the team answered (a reply to our reply) is scored by the store,
which knows the conversation (``PriorityConfig.reply_to_us_score``). The result is kept with the
message as ``extra["priority"] = {"score": n, "reasons": [...]}``, written by the core only: a
source's own ``extra`` cannot claim a priority. Reasons are short labels (at most
:data:`MAX_REASONS` of :data:`REASON_LENGTH` characters, on one line): the configured keyword that
matched (the team's words, not the customer's), ``vip``, ``negative``, or a plugin's own words.
The card escapes them like any text.

Scoring never costs a message: a plugin's verdict that is not a :class:`Classification`, or whose
``priority`` is not a whole number, is refused with a log line naming the plugin, and a fault in
scoring itself leaves the message stored with score 0.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from chatops.config import PriorityConfig
from chatops.sources import InboundMessage

log = logging.getLogger(__name__)

#: Where the score and its reasons are kept in a message's ``extra``.
PRIORITY_KEY = "priority"
#: Where sentiment is kept in a message's ``extra``: ``negative``, ``neutral`` or ``positive``.
SENTIMENT_KEY = "sentiment"
#: The sentiments a classifier may give (others are refused).
SENTIMENTS = frozenset({"negative", "neutral", "positive"})
#: A score is kept within these bounds, whatever plugins add.
MAX_SCORE = 10_000
#: One plugin's ``priority`` is kept within ±this (the configured rules' own scores go to 1,000).
PLUGIN_LIMIT = 1_000
#: Reasons kept per message, and characters per reason.
MAX_REASONS = 5
REASON_LENGTH = 40
#: Characters of a text searched for keywords: comments are short, and a 60,000-character
#: post must not cost the ingest path a long scan.
SCAN_LIMIT = 10_000
#: Letters a prefix keyword (``stem*``) needs before its ``*``.
MIN_STEM = 3

#: What the app's classify step gives: each enabled classifier plugin's name and its answer.
Verdicts = Sequence[tuple[str, Any]]


@dataclass(frozen=True, slots=True)
class Classification:
    """What a classifier plugin says of a message; every field is optional.

    ``priority`` (a whole number) is added to the score, bounded to ±:data:`PLUGIN_LIMIT`
    (negative lowers it); ``sentiment`` (``negative``, ``neutral`` or ``positive``) is kept in
    ``extra["sentiment"]`` when the source gave none (a negative one then scores like any);
    ``reasons`` are short words shown on the card beside the score ("angry", "legal threat"),
    in the team's language (``ctx.t``).
    """

    priority: int = 0
    sentiment: str | None = None
    reasons: Sequence[str] = field(default_factory=tuple)


def fold(text: str) -> str:
    """``text`` as keywords are compared: NFKC-normalised and case-folded (``Straße`` → ``strasse``)."""
    return unicodedata.normalize("NFKC", text).casefold()


def keyword_pattern(words: Sequence[str]) -> re.Pattern[str] | None:
    """One compiled alternation matching any of ``words`` as whole words (``stem*``: as a word's start).

    Phrases match across any run of spaces; the match is the folded word, phrase or stem (see
    :func:`keyword_key`). A word that folds to nothing is left out; None when none is left.
    """
    parts: set[str] = set()
    for word in words:
        folded = fold(word.strip().removesuffix("*")).split()
        if folded:
            end = "" if word.strip().endswith("*") else r"(?!\w)"
            parts.add(r"\s+".join(map(re.escape, folded)) + end)
    if not parts:
        return None
    # Longest first, so "money back" wins over "money". One pattern, and no group per word: with
    # plain alternatives the regex engine skips ahead by their first letters, ~40x faster.
    return re.compile(r"(?<!\w)(" + "|".join(sorted(parts, key=len, reverse=True)) + ")")


def keyword_key(text: str) -> str:
    """What :func:`keyword_pattern` matched, or a configured keyword, as one comparable key."""
    return " ".join(fold(text.strip().removesuffix("*")).split())


def score_of(extra: dict[str, Any] | None) -> int:
    """The score kept in a message's ``extra`` (0 when there is none or it is not a whole number)."""
    found = (extra or {}).get(PRIORITY_KEY)
    score = found.get("score") if isinstance(found, dict) else None
    return score if isinstance(score, int) and not isinstance(score, bool) else 0


def reasons_of(extra: dict[str, Any] | None) -> list[str]:
    """The reasons kept in a message's ``extra``: at most :data:`MAX_REASONS` short strings."""
    found = (extra or {}).get(PRIORITY_KEY)
    reasons = found.get("reasons") if isinstance(found, dict) else None
    if not isinstance(reasons, list):
        return []
    return [short(r) for r in reasons[:MAX_REASONS] if isinstance(r, str) and short(r)]


def short(reason: str) -> str:
    """A reason on one line, without control or format characters, at most :data:`REASON_LENGTH` long."""
    kept = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in reason[: REASON_LENGTH * 4])
    return " ".join(kept.split())[:REASON_LENGTH].rstrip()


def is_negative(sentiment: Any) -> bool:
    """A sentiment label or number that counts as negative (``"negative"``, or a score ≤ -0.5)."""
    if isinstance(sentiment, str):
        return sentiment.strip().casefold() == "negative"
    return isinstance(sentiment, int | float) and not isinstance(sentiment, bool) and sentiment <= -0.5


def checked(plugin: str, verdict: Any) -> Classification | None:
    """``verdict`` if it is a usable :class:`Classification` (its priority bounded), else None, logged."""
    if verdict is None:
        return None
    if not isinstance(verdict, Classification):
        log.warning("plugin %s: chatops_classify returned %s, not a Classification; ignored", plugin, _kind(verdict))
        return None
    priority = verdict.priority
    if not isinstance(priority, int) or isinstance(priority, bool):
        log.warning("plugin %s: classification priority %s is not a whole number; ignored", plugin, _kind(priority))
        return None
    if abs(priority) > PLUGIN_LIMIT:
        log.warning("plugin %s: classification priority %d kept within ±%d", plugin, priority, PLUGIN_LIMIT)
        priority = max(-PLUGIN_LIMIT, min(PLUGIN_LIMIT, priority))
    sentiment = verdict.sentiment
    if sentiment is not None and sentiment not in SENTIMENTS:
        log.warning(
            "plugin %s: classification sentiment %s is not one of %s; ignored",
            plugin,
            _kind(sentiment),
            sorted(SENTIMENTS),
        )
        sentiment = None
    raw = verdict.reasons
    items = [raw] if isinstance(raw, str) else list(raw[:MAX_REASONS]) if isinstance(raw, list | tuple) else []
    reasons = tuple(r for r in (short(x) for x in items if isinstance(x, str)) if r)
    return Classification(priority=priority, sentiment=sentiment, reasons=reasons)


def _kind(value: Any) -> str:
    """A value described for a log line without dumping it (a plugin's garbage may be huge)."""
    if isinstance(value, int | float | bool) or value is None:
        return repr(value)[:40]
    return type(value).__name__


class Prioritizer:
    """Scores customers' messages by the configured rules and the classifier plugins."""

    def __init__(self, config: PriorityConfig, classify: Callable[[InboundMessage], Verdicts]) -> None:
        self.config = config
        self._classify = classify
        words = [k.strip() for k in config.keywords if k.strip()]
        self._keywords = keyword_pattern(words)
        #: The configured keyword (as the team wrote it, without ``*``) of each folded key.
        self._words = {keyword_key(w): w.removesuffix("*") for w in reversed(words)}
        self._vips = {fold(v.strip()).removeprefix("@") for v in config.vip_authors if v.strip()}

    def annotate(self, msg: InboundMessage) -> InboundMessage:
        """``msg`` with its score and reasons in ``extra`` (and a classifier's sentiment). Never raises."""
        try:
            return self._annotate(msg)
        except Exception:
            # Scoring is a convenience; the customer's comment must be stored whatever happens here.
            where = f"{getattr(msg, 'source', '?')}:{str(getattr(msg, 'external_id', '?'))[:100]}"
            log.exception("priority: scoring message %s failed; stored with score 0", where)
            extra = {k: v for k, v in msg.extra.items() if k != PRIORITY_KEY}
            extra[PRIORITY_KEY] = {"score": 0, "reasons": []}
            return dataclasses.replace(msg, extra=extra)

    def _annotate(self, msg: InboundMessage) -> InboundMessage:
        extra = {k: v for k, v in msg.extra.items() if k != PRIORITY_KEY}
        score = 0
        reasons: list[str] = []
        for plugin, answer in self._classify(msg):
            verdict = checked(plugin, answer)
            if verdict is None:
                continue
            score += verdict.priority
            reasons.extend(verdict.reasons)
            if verdict.sentiment and SENTIMENT_KEY not in extra:
                extra[SENTIMENT_KEY] = verdict.sentiment
        if self._keywords is not None:
            found = self._keywords.search(fold(msg.text[:SCAN_LIMIT]))
            if found:
                score += self.config.keyword_score
                # The team's configured word, not the customer's text.
                reasons.insert(0, self._words.get(keyword_key(found.group(1)), "keyword"))
        if self._vips and self._is_vip(msg):
            score += self.config.vip_score
            reasons.insert(0, "vip")
        if is_negative(extra.get(SENTIMENT_KEY)):
            score += self.config.negative_score
            reasons.append("negative")
        kept = list(dict.fromkeys(r for r in map(short, reasons) if r))[:MAX_REASONS]
        extra[PRIORITY_KEY] = {"score": max(-MAX_SCORE, min(MAX_SCORE, score)), "reasons": kept}
        return dataclasses.replace(msg, extra=extra)

    def _is_vip(self, msg: InboundMessage) -> bool:
        author = msg.author
        # Not the display name: anyone can call themselves a newspaper's name.
        names = (author.handle, author.id)
        return any(isinstance(n, str) and fold(n.strip()).removeprefix("@") in self._vips for n in names)
