"""Sentiment from words: a quick lexicon classifier for English, Finnish and Polish comments.

Implements ``chatops_classify``: every customer message is read against small word lists (see
``lexicon``) and marked negative, positive or neutral; a strong negative (a safety problem, a legal
threat, an angry customer) also raises the message's priority, so on a flood day it is carded
first. Configured in ``[plugins.sentiment]`` (see ``config``); off unless listed in
``[plugins] enabled``. It runs on the ingest path, so it does no I/O: one compiled pattern, one
scan of the text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from pydantic import BaseModel

from chatops.hookspecs import hookimpl
from chatops.priority import Classification

from .classifier import Classifier
from .config import SentimentConfig
from .words import TEXTS

if TYPE_CHECKING:
    from chatops.context import PluginContext
    from chatops.sources import InboundMessage

NAME = "sentiment"

#: The classifier built for each config seen (a bot has one; tests build several), kept with its
#: config so an id is never reused for another.
_built: dict[int, tuple[SentimentConfig, Classifier]] = {}


def classifier_for(config: SentimentConfig) -> Classifier:
    """The compiled classifier of ``config``, built once."""
    found = _built.get(id(config))
    if found is None or found[0] is not config:
        found = _built[id(config)] = (config, Classifier(config))
    return found[1]


@hookimpl
def chatops_config_model(name: str) -> type[BaseModel] | None:
    """``[plugins.sentiment]`` is a SentimentConfig."""
    return SentimentConfig if name == NAME else None


@hookimpl
def chatops_texts() -> Mapping[str, Mapping[str, str]]:
    """The reasons shown on a card, in en, fi and pl."""
    return TEXTS


@hookimpl
def chatops_classify(ctx: PluginContext, message: InboundMessage) -> Classification:
    """The message's sentiment, and a priority bump with its reasons for a strong negative."""
    classifier = classifier_for(ctx.config or SentimentConfig())
    reading = classifier.read(message.text)
    return Classification(
        priority=classifier.priority(reading),
        sentiment=reading.sentiment,
        reasons=tuple(ctx.t(f"sentiment.{kind}") for kind in reading.strong),
    )
