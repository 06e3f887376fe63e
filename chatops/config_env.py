"""Environment variables as config values: ``CHATOPS_A__B=v`` is key ``a.b``, shaped by the field's type.

A value stays one string (commas included, so a secret with a comma is safe) unless its
field takes only lists: then it is split on commas, or read as a JSON list when it starts
with ``[``. The type decides, never the value.
"""

from __future__ import annotations

import json
import types
from collections.abc import Mapping, MutableSequence, Sequence
from collections.abc import Set as AbstractSet
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

ENV_PREFIX = "CHATOPS_"


def env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """Turn ``CHATOPS_A__B=v`` variables into a nested ``{"a": {"b": "v"}}`` mapping.

    Values stay strings (marked as coming from the environment) until validation gives
    each the shape of its field: see :func:`typed_env_values`.
    """
    tree: dict[str, Any] = {}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
        if not all(path):
            # CHATOPS_SLACK__ or CHATOPS___X: kept under the variable's own name, so that
            # validation names it (an unknown top-level key) instead of an empty key.
            tree[name] = FromEnv(value)
            continue
        node = tree
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):  # CHATOPS_A__B and CHATOPS_A__B__C: the table wins
                child = node[part] = {}
            node = child
        if not isinstance(node.get(path[-1]), dict):
            node[path[-1]] = FromEnv(value)
    return tree


class FromEnv(str):
    """A value read from an environment variable, before its field's type is known."""

    __slots__ = ()


def typed_env_values(model: type[BaseModel], data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with each environment value shaped for its field in ``model``.

    A list-typed field's value is split on commas (empty items dropped, so ``webhook,``
    is ``["webhook"]``) or read as a JSON list when it starts with ``[``; every other field's
    stays one string, commas included. Nested sections are walked with their own model;
    keys the model does not know (a plugin's raw section) are left for their own model.
    """
    shaped = dict(data)
    for name, value in data.items():
        field = model.model_fields.get(name)
        if field is None:
            continue
        if isinstance(value, FromEnv):
            shaped[name] = _shape_env_value(value, field.annotation)
        elif isinstance(value, Mapping):
            nested = _model_in(field.annotation)
            if nested is not None:
                shaped[name] = typed_env_values(nested, value)
    return shaped


def _shape_env_value(value: str, annotation: Any) -> Any:
    if not _is_list_type(annotation):
        return str(value)
    text = value.strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            return str(value)  # reported by validation as "not a valid list", naming the variable
        return parsed
    return [item.strip() for item in text.split(",") if item.strip()]


def _union_args(annotation: Any) -> list[Any] | None:
    if get_origin(annotation) in (Union, types.UnionType):
        return [arg for arg in get_args(annotation) if arg is not type(None)]
    return None


def _is_list_type(annotation: Any) -> bool:
    """Whether a field of this type takes only lists (``str | list[str]`` also takes a string)."""
    if get_origin(annotation) is Annotated:
        return _is_list_type(get_args(annotation)[0])
    args = _union_args(annotation)
    if args is not None:
        return bool(args) and all(_is_list_type(arg) for arg in args)
    kind = get_origin(annotation) or annotation
    if kind in (Sequence, MutableSequence, AbstractSet):
        return True
    return isinstance(kind, type) and issubclass(kind, (list, tuple, set, frozenset))


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The section model a field holds (``Section`` or ``Section | None``), if any."""
    if get_origin(annotation) is Annotated:
        return _model_in(get_args(annotation)[0])
    for arg in _union_args(annotation) or [annotation]:
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None
