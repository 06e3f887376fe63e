"""Block Kit as HTML, the way Slack's client shows it, and a submitted modal back into ``view.state.values``.

Placeholder: the interface the page uses. Filled in by the Block Kit renderer work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def mrkdwn_html(text: str, *, users: Mapping[str, str] | None = None) -> str:
    """Slack ``mrkdwn`` (bold, italic, strike, code, quotes, ``<url|label>``, ``<@U…>``) as safe HTML."""
    raise NotImplementedError


def message_html(message: Mapping[str, Any], *, users: Mapping[str, str] | None = None) -> str:
    """One message (its ``blocks``, else its ``text``) as HTML, interactive elements carrying their action data."""
    raise NotImplementedError


def view_html(view: Mapping[str, Any], *, users: Mapping[str, str] | None = None) -> str:
    """A modal view as an HTML ``<form>``: title, blocks, inputs named by block and action id, submit and close."""
    raise NotImplementedError


def form_state(view: Mapping[str, Any], form: Mapping[str, Sequence[str]]) -> dict[str, dict[str, dict[str, Any]]]:
    """The ``view.state.values`` Slack would send for ``view`` given the submitted ``form`` fields."""
    raise NotImplementedError
