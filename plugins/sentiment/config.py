"""``[plugins.sentiment]``: which languages' word lists run, the team's own words, and the bumps."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: The languages the plugin has word lists for.
Language = Literal["en", "fi", "pl"]


def _check_words(value: tuple[str, ...]) -> tuple[str, ...]:
    for word in value:
        stem = word.strip().removesuffix("*")
        if not stem.strip() or len(word) > 100:
            raise ValueError(f"{word[:20]!r}: a word is 1 to 100 characters")
        if "*" in stem:
            raise ValueError(f"{word!r}: * may only end a word (stem*, a prefix match)")
        if word.strip().endswith("*") and len(stem.strip()) < 3:
            raise ValueError(f"{word!r}: a prefix word needs at least 3 letters before the *")
    return value


class SentimentConfig(BaseModel):
    """``[plugins.sentiment]``.

    ``languages``: the built-in word lists used (drop one to switch it off; the team's own words
    always apply). ``negative`` / ``positive``: the team's own words, any language, ``stem*`` for
    a prefix (``reklamaatio*``). ``angry`` / ``legal`` / ``safety``: the team's own words for the
    strong negatives, added to the built-in ones. ``angry_score``, ``legal_score``,
    ``safety_score``: the priority a comment gets for each kind of strong negative it holds.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    languages: tuple[Language, ...] = ("en", "fi", "pl")
    negative: tuple[str, ...] = Field(default=(), max_length=500)
    positive: tuple[str, ...] = Field(default=(), max_length=500)
    angry: tuple[str, ...] = Field(default=(), max_length=500)
    legal: tuple[str, ...] = Field(default=(), max_length=500)
    safety: tuple[str, ...] = Field(default=(), max_length=500)
    angry_score: int = Field(default=20, ge=0, le=1000)
    legal_score: int = Field(default=50, ge=0, le=1000)
    safety_score: int = Field(default=60, ge=0, le=1000)

    @field_validator("negative", "positive", "angry", "legal", "safety")
    @classmethod
    def _words(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _check_words(value)
