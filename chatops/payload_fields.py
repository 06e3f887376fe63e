"""Strict readers of JSON payload fields, for sources that parse platform deliveries by hand.

Each reader takes the containing object, the key and ``where`` (the JSON path so far) and raises
:class:`PayloadError` naming the full path of the first bad field, so a source's 400 answer tells
whoever reads the platform's delivery log exactly what was wrong (``entry[0].changes[1].value.from:
must be an object``). Meta's and X's webhooks use them; a pydantic model serves as well where the
shape is the source's own (the generic webhook).
"""

from __future__ import annotations

import re
from typing import Any


class PayloadError(Exception):
    """A delivery without the documented shape; the message names the field (the 400's text)."""


def obj(value: Any, where: str) -> dict[str, Any]:
    """``value`` as a JSON object, else PayloadError."""
    if not isinstance(value, dict):
        raise PayloadError(f"{where}: must be an object")
    return value


def optional_obj(container: dict[str, Any], key: str, where: str) -> dict[str, Any] | None:
    """An optional nested object (absent or null gives None)."""
    value = container.get(key)
    return None if value is None else obj(value, f"{where}.{key}")


def array(container: dict[str, Any], key: str, where: str, *, required: bool = True) -> list[Any]:
    """A list field; an absent (or null) optional one is empty."""
    value = container.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{where}.{key}: {'is required' if value is None else 'must be a list'}")
    return value


def string(container: dict[str, Any], key: str, where: str, *, required: bool = False) -> str | None:
    """A text field (None when absent and optional)."""
    value = container.get(key)
    if value is None:
        if required:
            raise PayloadError(f"{where}.{key}: is required")
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{where}.{key}: must be a string")
    return value


def id_field(
    container: dict[str, Any], key: str, where: str, *, pattern: re.Pattern[str], what: str, required: bool = True
) -> str | None:
    """An id field, a string or the number itself, that must match ``pattern`` (``what`` names it in the error)."""
    value = container.get(key)
    if value is None:
        if required:
            raise PayloadError(f"{where}.{key}: is required")
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PayloadError(f"{where}.{key}: must be an id string")
    text = str(value)
    if not pattern.fullmatch(text):
        raise PayloadError(f"{where}.{key}: {what}")
    return text
