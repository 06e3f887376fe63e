"""The lexicon classifier: one compiled pattern over every enabled language's words, one scan per message."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from chatops.priority import SCAN_LIMIT, fold

from .config import SentimentConfig
from .lexicon import KINDS, LEXICON, STRONG


@dataclass(frozen=True, slots=True)
class Reading:
    """What the words of one text say: its sentiment and the strong kinds found (safety, legal, angry)."""

    sentiment: str
    strong: tuple[str, ...]


def _word(word: str) -> str | None:
    """A word (``stem*`` for a prefix) as a pattern piece, compared folded; None when it folds to nothing."""
    tokens = fold(word.strip().removesuffix("*")).split()
    if not tokens:
        return None
    body = r"\s+".join(map(re.escape, tokens))
    return body if word.strip().endswith("*") else body + r"(?!\w)"


class Classifier:
    """Reads a text against the built-in word lists of ``config.languages`` and the team's own words."""

    def __init__(self, config: SentimentConfig) -> None:
        self.config = config
        groups: list[str] = []
        for kind in KINDS:
            words = [w for language in config.languages for w in LEXICON[language][kind]]
            words += getattr(config, kind)
            pieces = sorted({p for p in map(_word, words) if p}, key=len, reverse=True)
            if pieces:
                groups.append(f"(?P<{kind}>{'|'.join(pieces)})")
        # The message's language is not known, so every enabled language's words are one pattern:
        # one scan per message, whichever language the customer wrote in.
        self._pattern = re.compile(r"(?<!\w)(?:" + "|".join(groups) + ")") if groups else None

    def read(self, text: str) -> Reading:
        """The sentiment of ``text`` (``negative``, ``positive`` or ``neutral``) and its strong kinds."""
        if self._pattern is None:
            return Reading("neutral", ())
        found = Counter(m.lastgroup for m in self._pattern.finditer(fold(text[:SCAN_LIMIT])))
        strong = tuple(kind for kind in STRONG if found[kind])
        negative = found["negative"] + sum(found[kind] for kind in STRONG)
        positive = found["positive"]
        if strong or negative > positive:
            return Reading("negative", strong)
        return Reading("positive" if positive > negative else "neutral", ())

    def priority(self, reading: Reading) -> int:
        """The priority the strong kinds of ``reading`` add, each kind once."""
        scores = {
            "safety": self.config.safety_score,
            "legal": self.config.legal_score,
            "angry": self.config.angry_score,
        }
        return sum(scores[kind] for kind in reading.strong)
