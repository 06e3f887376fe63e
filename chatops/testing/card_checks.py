"""Would Slack post this message? One checker for tests of cards, thread posts and plugins' decorations.

``message_problems(message)`` runs a ``chat.postMessage`` body (``text``, ``blocks``,
``metadata``) through slack_sdk's block models *and* the fake Slack's Block Kit
checks (the ones that answer ``invalid_blocks`` / ``msg_blocks_too_long``), so a
plugin author can assert in a unit test that a card with their decoration stays
postable::

    from chatops.testing.card_checks import assert_postable
    assert_postable(render_card(card, ctx, my_plugin_blocks))

``slack_tokens(message)`` lists every ``<…>`` Slack would act on (mentions, links),
for asserting that customer text produced none.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Mapping
from typing import Any

from slack_sdk.models.blocks import Block

from chatops.testing.fake_slack import MAX_MESSAGE_BLOCKS, message_content_errors

_TOKEN = re.compile(r"<([^<>]*)>")


def message_problems(message: Mapping[str, Any], *, max_blocks: int = MAX_MESSAGE_BLOCKS) -> list[str]:
    """Why Slack would refuse this message body (empty when it would post).

    ``max_blocks=100`` checks a modal's blocks instead (no message text limits then).
    """
    problems: list[str] = []
    blocks = message.get("blocks")
    if isinstance(blocks, list):
        for i, block in enumerate(blocks):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    parsed = Block.parse(block)
                    if parsed is None:
                        problems.append(f"/blocks/{i}: slack_sdk does not know block type {block.get('type')!r}")
                    else:
                        parsed.to_dict()
            except Exception as exc:  # any failure to model the block is a problem to report
                problems.append(f"/blocks/{i}: slack_sdk: {type(exc).__name__}: {exc}")
    # The fake Slack's own checks, all of them rather than the first it would answer.
    for error, details in message_content_errors(message, max_blocks=max_blocks):
        if error == "invalid_blocks":
            problems += details
        else:
            problems.append(f"{error} ({'; '.join(details)})" if details else error)
    return problems


def assert_postable(message: Mapping[str, Any], *, max_blocks: int = MAX_MESSAGE_BLOCKS) -> None:
    """Fail with Slack's reasons unless ``message`` would be posted."""
    problems = message_problems(message, max_blocks=max_blocks)
    assert not problems, "Slack would refuse this message:\n" + "\n".join(problems)


def mrkdwn_texts(message: Mapping[str, Any]) -> Iterator[str]:
    """Every text Slack parses as mrkdwn: the top-level ``text`` and each mrkdwn text object."""
    if isinstance(message.get("text"), str):
        yield message["text"]

    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, list):
            for item in node:
                yield from walk(item)
        elif isinstance(node, Mapping):
            if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
                yield node["text"]
            for value in node.values():
                yield from walk(value)

    yield from walk(message.get("blocks", []))


def slack_tokens(message: Mapping[str, Any]) -> list[str]:
    """The inside of every ``<…>`` in the message's mrkdwn: mentions (``@U1``, ``!here``) and links."""
    return [token for text in mrkdwn_texts(message) for token in _TOKEN.findall(text)]
