"""The lexicon classifier: one compiled pattern over every enabled language's words, one scan per message."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from chatops.priority import SCAN_LIMIT, fold, keyword_key, keyword_pattern

from .config import SentimentConfig
from .lexicon import KINDS, LEXICON, STRONG


@dataclass(frozen=True, slots=True)
class Reading:
    """What the words of one text say: its sentiment and the strong kinds found (safety, legal, angry)."""

    sentiment: str
    strong: tuple[str, ...]


class Classifier:
    """Reads a text against the built-in word lists of ``config.languages`` and the team's own words."""

    def __init__(self, config: SentimentConfig) -> None:
        self.config = config
        words: list[str] = []
        #: The kind of each word as matched (folded; a stem without its ``*``): the first kind listing it.
        self._kinds: dict[str, str] = {}
        for kind in KINDS:
            for word in [w for language in config.languages for w in LEXICON[language][kind]] + list(
                getattr(config, kind)
            ):
                words.append(word)
                self._kinds.setdefault(keyword_key(word), kind)
        # The message's language is not known, so every enabled language's words are one pattern
        # (the same matching as [priority] keywords): one scan per message, whichever language.
        self._pattern = keyword_pattern(words)

    def read(self, text: str) -> Reading:
        """The sentiment of ``text`` (``negative``, ``positive`` or ``neutral``) and its strong kinds."""
        if self._pattern is None:
            return Reading("neutral", ())
        found = Counter(
            self._kinds.get(keyword_key(m.group(1))) for m in self._pattern.finditer(fold(text[:SCAN_LIMIT]))
        )
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
