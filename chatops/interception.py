"""Plugins looking at a reply before it is queued: add inputs to the dialog, veto or rewrite.

A saved-replies plugin adds a select to the reply dialog and fills in the text; a
duplicate-text warning or a forbidden-word check refuses a reply with a reason the
person sees in the dialog. Checks run in the order of ``[plugins] enabled``, each on
the text the previous one left; the core's own checks (empty, too long, possible on
the source) run on the final text.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chatops.inbound_checks import replace_unstorable
from chatops.slack.blockkit import block_problem
from chatops.slack.modals import state_value

if TYPE_CHECKING:
    from chatops.cards import CardData
    from chatops.hooks import HookRunner

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReplyDraft:
    """A reply a person submitted, before it is stored and queued.

    ``inputs`` holds the values of the inputs the receiving plugin added to the dialog
    (``chatops_reply_inputs``), by the ``block_id`` it gave them; a select's value is the
    chosen option's value, a multi-select's a list.
    """

    card: CardData
    kind: str
    text: str
    user: str
    inputs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def conversation_id(self) -> int:
        """The conversation the reply answers."""
        return self.card.conversation_id


@dataclass(frozen=True, slots=True)
class Veto:
    """Refuse the reply; ``reason`` (in the team's language) is shown under the text in the dialog."""

    reason: str


@dataclass(frozen=True, slots=True)
class Rewrite:
    """Send ``text`` instead; ``reason`` is shown to the person once it is queued."""

    text: str
    reason: str


Verdict = Veto | Rewrite


#: Prefix of the block ids of plugins' inputs in the reply dialog: ``plugin:<name>:<their id>``.
INPUT_PREFIX = "plugin:"
#: Block types a plugin may add to the reply dialog.
ALLOWED_INPUT_BLOCKS = frozenset({"input", "section", "context", "divider"})
#: A modal holds 100 blocks; the core's take a few, and plugins share the rest.
MAX_PLUGIN_BLOCKS = 90
#: All reply checks together must leave time to answer Slack within its 3 s.
CHECK_BUDGET_SECONDS = 2.0


class CheckFailed(Exception):
    """A plugin's reply check raised or ran out of time: the reply is refused, naming the plugin."""

    def __init__(self, plugin: str) -> None:
        super().__init__(plugin)
        self.plugin = plugin


class ReplyInterceptors:
    """Runs the plugins' reply-dialog inputs and reply checks (see the module docstring)."""

    def __init__(self, hooks: HookRunner, order: Sequence[str]) -> None:
        self._hooks = hooks
        self._order = list(order)

    def _in_order(self, hook: str) -> list[str]:
        return self._hooks.implementers_in(hook, self._order)

    def inputs(self, card: CardData, kind: str) -> list[dict[str, Any]]:
        """The plugins' blocks for the reply dialog, namespaced; a block that is not allowed is dropped."""
        blocks: list[dict[str, Any]] = []
        taken: set[str] = set()
        for plugin in self._in_order("chatops_reply_inputs"):
            try:
                provided = self._hooks.call_sync("chatops_reply_inputs", only=plugin, card=card, kind=kind)
            except Exception:
                log.exception("plugin %s failed in chatops_reply_inputs", plugin)
                continue
            for found in provided:
                if not isinstance(found, Sequence) or isinstance(found, str | bytes):
                    log.warning("plugin %s: chatops_reply_inputs returned a %s, not a list", plugin, _type_of(found))
                    continue
                for block in found:
                    if not isinstance(block, dict) or block.get("type") not in ALLOWED_INPUT_BLOCKS:
                        log.warning("dropping a reply-dialog block of plugin %s: type %r", plugin, _type_of(block))
                        continue
                    if len(blocks) >= MAX_PLUGIN_BLOCKS:
                        log.warning("dropping reply-dialog blocks of plugin %s: the dialog is full", plugin)
                        break
                    namespaced = dict(block)
                    if block.get("block_id"):
                        namespaced["block_id"] = f"{INPUT_PREFIX}{plugin}:{block['block_id']}"
                    # One block Slack refuses (an id too long once namespaced, a duplicate, an input
                    # without an element) would keep the dialog from opening for everyone.
                    problem = block_problem(namespaced, taken)
                    if problem is not None:
                        log.warning("dropping a reply-dialog block of plugin %s: %s", plugin, problem)
                        continue
                    if isinstance(namespaced.get("block_id"), str):
                        taken.add(namespaced["block_id"])
                    blocks.append(namespaced)
        return blocks

    async def check(self, draft: ReplyDraft, values: Mapping[str, Mapping[str, Any]]) -> tuple[ReplyDraft, list[str]]:
        """Run the checks in order; returns the final draft and the reasons of rewrites.

        Raises :class:`VetoedReply` for a veto and :class:`CheckFailed` for a check that
        raised or took too long.
        """
        reasons: list[str] = []
        deadline = asyncio.get_running_loop().time() + CHECK_BUDGET_SECONDS
        for plugin in self._in_order("chatops_reply_check"):
            mine = dataclasses.replace(draft, inputs=_inputs_of(plugin, values))
            try:
                async with asyncio.timeout_at(deadline):
                    verdicts = await self._hooks.call("chatops_reply_check", only=plugin, draft=mine)
            except Exception as exc:
                log.exception("plugin %s failed in chatops_reply_check", plugin)
                raise CheckFailed(plugin) from exc
            if asyncio.get_running_loop().time() > deadline:
                # A synchronous check cannot be interrupted: one that overran has kept Slack waiting
                # past its 3 s, so the person was shown an error; sending now would send it twice.
                log.error("plugin %s: chatops_reply_check took longer than %.0fs", plugin, CHECK_BUDGET_SECONDS)
                raise CheckFailed(plugin)
            for verdict in verdicts:
                if isinstance(verdict, Veto) and isinstance(verdict.reason, str) and verdict.reason.strip():
                    raise VetoedReply(plugin, verdict.reason)
                if isinstance(verdict, Rewrite) and isinstance(verdict.text, str):
                    # As for typed text: a NUL or lone surrogate would fail the store after the dialog closed.
                    draft = dataclasses.replace(draft, text=replace_unstorable(verdict.text))
                    reasons.append(verdict.reason)
                    continue
                # Not None, not a verdict (True, "forbidden", a Veto without a reason to show, a Rewrite
                # without text): the check meant something the core cannot read, and a check must never
                # be skipped silently.
                log.error("plugin %s: chatops_reply_check returned %r, not None, Veto or Rewrite", plugin, verdict)
                raise CheckFailed(plugin)
        return draft, reasons


class VetoedReply(Exception):
    """A plugin refused the reply; ``reason`` is shown in the dialog."""

    def __init__(self, plugin: str, reason: str) -> None:
        super().__init__(reason)
        self.plugin = plugin
        self.reason = reason


def _type_of(block: object) -> object:
    return block.get("type") if isinstance(block, dict) else type(block).__name__


def _inputs_of(plugin: str, values: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The submitted values of one plugin's inputs, by the block id the plugin gave them."""
    prefix = f"{INPUT_PREFIX}{plugin}:"
    found: dict[str, Any] = {}
    for block_id, actions in values.items():
        if block_id.startswith(prefix):
            found[block_id[len(prefix) :]] = replace_unstorable(next((state_value(s) for s in actions.values()), None))
    return found
