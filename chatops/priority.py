"""How urgent a customer's comment is: the score that orders cards while posts queue.

On a flood day Slack takes about one message per second per channel, so cards wait. They are
posted highest score first (see :class:`chatops.outbox.worker.OutboxWorker`), and a roll-up
(``chatops.rollups``) still gives its most urgent members their own cards. A comment's score is
the sum of the rules it meets, from ``[priority]`` in the config:

- a configured keyword or phrase in its text (any language, case-insensitive, whole words);
- a VIP author (a handle, with or without ``@``, or the platform's id for them);
- negative sentiment, as the source or a classifier plugin says (``extra["sentiment"]``);
- whatever classifier plugins add through the ``chatops_classify`` hook.

A customer writing again after the team answered (a reply to our reply) is scored by the store,
which knows the conversation (``PriorityConfig.reply_to_us_score``). The result is kept with the
message as ``extra["priority"] = {"score": n, "reasons": [...]}``, written by the core only: a
source's own ``extra`` cannot claim a priority.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from chatops.config import PriorityConfig
from chatops.sources import InboundMessage

#: Where the score and its reasons are kept in a message's ``extra``.
PRIORITY_KEY = "priority"
#: Where sentiment is kept in a message's ``extra``: ``negative``, ``neutral`` or ``positive``.
SENTIMENT_KEY = "sentiment"
#: A score is kept within these bounds, whatever plugins add.
MAX_SCORE = 10_000


@dataclass(frozen=True, slots=True)
class Classification:
    """What a classifier plugin says of a message; every field is optional.

    ``priority`` is added to the score (negative lowers it); ``sentiment`` is kept in
    ``extra["sentiment"]`` when the source gave none (a negative one then scores like any);
    ``reasons`` are short words shown on the card beside the score ("angry", "legal threat").
    """

    priority: int = 0
    sentiment: str | None = None
    reasons: Sequence[str] = field(default_factory=tuple)


def score_of(extra: dict[str, Any] | None) -> int:
    """The score kept in a message's ``extra`` (0 when there is none or it is not a whole number)."""
    found = (extra or {}).get(PRIORITY_KEY)
    score = found.get("score") if isinstance(found, dict) else None
    return score if isinstance(score, int) and not isinstance(score, bool) else 0


def is_negative(sentiment: Any) -> bool:
    """A sentiment label or number that counts as negative (``"negative"``, or a score ≤ -0.5)."""
    if isinstance(sentiment, str):
        return sentiment.strip().lower() == "negative"
    return isinstance(sentiment, int | float) and not isinstance(sentiment, bool) and sentiment <= -0.5


class Prioritizer:
    """Scores customers' messages by the configured rules and the classifier plugins."""

    def __init__(
        self, config: PriorityConfig, classify: Callable[[InboundMessage], Sequence[Classification | None]]
    ) -> None:
        self.config = config
        self._classify = classify
        words = sorted({k.strip().lower() for k in config.keywords if k.strip()}, key=len, reverse=True)
        # One compiled alternation: a flood is scored at ingest speed, not per keyword.
        self._keywords = re.compile(r"(?<!\w)(" + "|".join(map(re.escape, words)) + r")(?!\w)") if words else None
        self._vips = {v.strip().lower().removeprefix("@") for v in config.vip_authors if v.strip()}

    def annotate(self, msg: InboundMessage) -> InboundMessage:
        """``msg`` with its score and reasons in ``extra`` (and a classifier's sentiment)."""
        extra = {k: v for k, v in msg.extra.items() if k != PRIORITY_KEY}
        score = 0
        reasons: list[str] = []
        for verdict in self._classify(msg):
            if verdict is None:
                continue
            score += int(verdict.priority)
            reasons.extend(str(r)[:40] for r in verdict.reasons)
            if verdict.sentiment and SENTIMENT_KEY not in extra:
                extra[SENTIMENT_KEY] = verdict.sentiment
        if self._keywords is not None:
            found = self._keywords.search(msg.text.lower())
            if found:
                score += self.config.keyword_score
                reasons.append(found.group(1))
        if self._vips and self._is_vip(msg):
            score += self.config.vip_score
            reasons.append("vip")
        if is_negative(extra.get(SENTIMENT_KEY)):
            score += self.config.negative_score
            reasons.append("negative")
        extra[PRIORITY_KEY] = {"score": max(-MAX_SCORE, min(MAX_SCORE, score)), "reasons": reasons[:5]}
        return dataclasses.replace(msg, extra=extra)

    def _is_vip(self, msg: InboundMessage) -> bool:
        author = msg.author
        # Not the display name: anyone can call themselves a newspaper's name.
        names = (author.handle, author.id)
        return any(n is not None and n.strip().lower().removeprefix("@") in self._vips for n in names)
