"""Views: modals and Home tabs (``views.open``/``push``/``update``/``publish``) and the trigger ids they need.

Trigger ids come from :meth:`Views.new_trigger_id`, as Slack issues one with each
interaction; they are single-use and expire, and views are checked with
:func:`~chatops.testing.fake_slack.blocks.view_errors` before they are stored.
"""

from __future__ import annotations

import copy
import hashlib
import time
from typing import Any

from chatops.testing.fake_slack.base import FakeSlackBase
from chatops.testing.fake_slack.blocks import view_errors
from chatops.testing.fake_slack.web_api import SlackError, missing


class Views(FakeSlackBase):
    """The views part of the fake."""

    #: Seconds a trigger id stays valid (None: forever).
    trigger_ttl: float | None
    _views: dict[str, dict[str, Any]]
    _view_order: list[str]
    _home_views: dict[str, str]
    _triggers: dict[str, tuple[str, float]]
    _used_triggers: set[str]

    def _reset_views(self) -> None:
        """Forget views, Home tabs and trigger ids. Lock held."""
        self._views = {}
        self._view_order = []
        self._home_views = {}
        self._triggers = {}
        self._used_triggers = set()

    def new_trigger_id(self, user_id: str) -> str:
        """Issue a trigger id for ``user_id``, as Slack does with each interaction.

        ``views.open``/``views.push`` with it record the user, and fail with
        ``expired_trigger_id`` after ``trigger_ttl`` seconds. Unissued trigger ids are
        accepted too (with no user).
        """
        with self._lock:
            n = next(self._id_counter)
            trigger = f"{1700000000 + n}.{self.team_id}.{hashlib.sha256(f'{user_id}{n}'.encode()).hexdigest()[:32]}"
            self._triggers[trigger] = (user_id, time.monotonic())
            return trigger

    def view(self, view_id: str) -> dict[str, Any]:
        """A view record: ``id, hash, view`` (as last returned), ``trigger_id, user, method, updates``."""
        with self._lock:
            if view_id not in self._views:
                raise KeyError(f"no view {view_id}; known: {self._view_order}")
            return copy.deepcopy(self._views[view_id])

    def last_view(self) -> dict[str, Any]:
        """The most recently opened, pushed, published or updated view record."""
        with self._lock:
            if not self._view_order:
                raise KeyError("no view has been opened")
            return copy.deepcopy(self._views[self._view_order[-1]])

    def views(self) -> list[dict[str, Any]]:
        """All view records, oldest first."""
        with self._lock:
            return [copy.deepcopy(self._views[v]) for v in dict.fromkeys(self._view_order)]

    def _check_view(self, view: Any, kinds: tuple[str, ...]) -> dict[str, Any]:
        """Validate a view payload or answer ``invalid_arguments`` naming each problem."""
        errors = view_errors(view, kinds=kinds)
        if errors:
            raise SlackError("invalid_arguments", messages=errors)
        assert isinstance(view, dict)
        return view

    def _use_trigger(self, args: dict[str, Any]) -> tuple[str, str | None]:
        """Consume a trigger id: ``trigger_exchanged`` if reused, ``expired_trigger_id`` if stale."""
        trigger = str(args.get("trigger_id") or args.get("interactivity_pointer"))
        if trigger in self._used_triggers:
            raise SlackError("trigger_exchanged")
        user: str | None = None
        issued = self._triggers.get(trigger)
        if issued is not None:
            user, at = issued
            if self.trigger_ttl is not None and time.monotonic() - at > self.trigger_ttl:
                raise SlackError("expired_trigger_id")
        self._used_triggers.add(trigger)
        return trigger, user

    def _view_hash(self, view_id: str) -> str:
        """A fresh view hash in Slack's ``<seconds>.<token>`` shape."""
        n = next(self._id_counter)
        return f"{1700000000 + n}.{hashlib.sha256(f'{view_id}:{n}'.encode()).hexdigest()[:8]}"

    def _store_view(
        self,
        view: dict[str, Any],
        *,
        method: str,
        trigger_id: str | None,
        user: str | None,
        previous_view_id: str | None = None,
        view_id: str | None = None,
    ) -> dict[str, Any]:
        """Store (or replace) a view and return it as Slack renders it."""
        view_id = view_id or self._next_id("V")
        rendered = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view.get("type"),
            "blocks": copy.deepcopy(view.get("blocks", [])),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": self._view_hash(view_id),
            "title": copy.deepcopy(view.get("title")),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": copy.deepcopy(view.get("close")),
            "submit": copy.deepcopy(view.get("submit")),
            "previous_view_id": previous_view_id,
            "root_view_id": view_id,
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        record = self._views.get(view_id)
        if record is None:
            record = {"id": view_id, "method": method, "trigger_id": trigger_id, "user": user, "updates": 0}
            self._views[view_id] = record
        else:
            record["updates"] += 1
            rendered["root_view_id"] = record["view"]["root_view_id"]
            rendered["previous_view_id"] = record["view"]["previous_view_id"]
            if not rendered["external_id"]:
                rendered["external_id"] = record["view"]["external_id"]
        record["view"] = rendered
        record["hash"] = rendered["hash"]
        self._view_order.append(view_id)
        return {"view": copy.deepcopy(rendered)}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        """``views.open``: open a modal with a trigger id."""
        view = self._check_view(args["view"], ("modal",))
        trigger, user = self._use_trigger(args)
        return self._store_view(view, method="views.open", trigger_id=trigger, user=user)

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        """``views.push``: push a modal onto the stack with a trigger id."""
        view = self._check_view(args["view"], ("modal",))
        trigger, user = self._use_trigger(args)
        return self._store_view(view, method="views.push", trigger_id=trigger, user=user)

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        """``views.update``: replace a view found by ``view_id`` or ``external_id``."""
        view_id, external_id = args.get("view_id"), args.get("external_id")
        if missing(view_id) and missing(external_id):
            raise SlackError("invalid_arguments", messages=["missing required field: view_id or external_id"])
        view = self._check_view(args["view"], ("modal", "home"))
        if missing(view_id):
            matches = [v for v, r in self._views.items() if r["view"]["external_id"] == external_id]
            if not matches:
                raise SlackError("not_found")
            view_id = matches[-1]
        record = self._views.get(str(view_id))
        if record is None:
            raise SlackError("not_found")
        if not missing(args.get("hash")) and args["hash"] != record["hash"]:
            raise SlackError("hash_conflict")
        return self._store_view(
            view,
            method=record["method"],
            trigger_id=record["trigger_id"],
            user=record["user"],
            view_id=record["id"],
        )

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        """``views.publish``: publish a user's Home tab."""
        view = self._check_view(args["view"], ("home",))
        user_id = str(args["user_id"])
        existing = self._home_views.get(user_id)
        if existing is not None and not missing(args.get("hash")) and args["hash"] != self._views[existing]["hash"]:
            raise SlackError("hash_conflict")
        result = self._store_view(view, method="views.publish", trigger_id=None, user=user_id, view_id=existing)
        self._home_views[user_id] = result["view"]["id"]
        return result
