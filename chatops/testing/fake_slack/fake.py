"""The fake Slack itself: :class:`FakeSlack` assembled from its parts, its HTTP routes and its lifecycle.

Each part lives in a module of its own (directory, messages, views, files, Socket Mode,
events, faults; see :mod:`chatops.testing.fake_slack.base`); this module wires their
handlers to method names, serves ``/api/<method>`` by applying the rules of
:mod:`chatops.testing.fake_slack.web_api`, and starts, stops and resets the whole.
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from chatops.testing.fake_slack.faults import DropConnection, Faults
from chatops.testing.fake_slack.files import Files
from chatops.testing.fake_slack.socket_mode import SOCKET_MODE_PATH
from chatops.testing.fake_slack.views import Views
from chatops.testing.fake_slack.web_api import Call, Handler, SlackError, check_arguments, check_token, read_arguments
from chatops.testing.server import ThreadedServer


class FakeSlack(Files, Views, Faults):
    """A Slack Web API fake on a real loopback HTTP server.

    Point ``AsyncWebClient(base_url=fake.api_url, token=fake.bot_token)`` (or a
    Bolt app built on it) at the fake. Posting to a channel needs no setup unless
    ``strict_channels`` is set; ``users.info``/``conversations.info``/usergroups
    only know what :meth:`add_user`, :meth:`add_channel` and :meth:`add_usergroup`
    registered.
    """

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test",  # noqa: S107 - a test credential, not a secret
        app_token: str = "xapp-test",  # noqa: S107 - a test credential, not a secret
        post_interval: float = 0.0,
        team_id: str = "T0001",
        bot_user_id: str = "UBOT",
        workspace_url: str = "https://chatops-test.slack.com/",
        bot_id: str = "B0001",
        app_id: str = "A0001",
        strict_channels: bool = False,
        trigger_ttl: float | None = 3.0,
    ) -> None:
        """Configure the fake (it starts serving on :meth:`start`).

        Args:
            bot_token: the only token accepted (``invalid_auth`` otherwise).
            app_token: the app-level token ``apps.connections.open`` (Socket Mode)
                accepts; the two tokens are not interchangeable, as on Slack
                (``not_allowed_token_type``).
            post_interval: minimum seconds between accepted ``chat.postMessage`` calls
                to one channel; sooner posts get HTTP 429. 0 disables pacing. May be
                changed at any time.
            team_id, bot_user_id, workspace_url, bot_id, app_id: identity reported by
                ``auth.test`` and stamped on posted messages and views.
            strict_channels: answer ``channel_not_found`` for channels not registered
                with :meth:`add_channel`.
            trigger_ttl: seconds a trigger id from :meth:`new_trigger_id` stays valid
                for ``views.open``/``views.push`` (``expired_trigger_id`` after); None
                disables expiry.
        """
        self.bot_token = bot_token
        self.app_token = app_token
        self.post_interval = post_interval
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.workspace_url = workspace_url if workspace_url.endswith("/") else workspace_url + "/"
        self.bot_id = bot_id
        self.app_id = app_id
        self.strict_channels = strict_channels
        self.trigger_ttl = trigger_ttl
        #: Most messages one ``conversations.history`` call returns.
        self.history_limit = 15
        self._lock = threading.RLock()
        self._server = None
        self._handlers: dict[str, Handler] = {
            "api.test": self._api_test,
            "apps.connections.open": self._apps_connections_open,
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "chat.delete": self._chat_delete,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.push": self._views_push,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "conversations.history": self._conversations_history,
            "conversations.info": self._conversations_info,
            "usergroups.list": self._usergroups_list,
            "usergroups.users.list": self._usergroups_users_list,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }
        self._app = Starlette(
            routes=[
                Route("/api/{method}", self._handle_api, methods=["GET", "POST"]),
                Route("/upload/v1/{file_id}", self._handle_upload, methods=["POST", "PUT"]),
                WebSocketRoute(SOCKET_MODE_PATH + "/{ticket}", self._handle_socket),
            ]
        )
        self._init_socket_mode()
        self._init_events()
        self.reset(directory=True)

    def start(self) -> None:
        """Start serving on 127.0.0.1 (a free port); returns once it accepts connections."""
        if self._server is not None:
            raise RuntimeError("FakeSlack already started")
        server = ThreadedServer(self._app)
        server.start()
        self._server = server

    def stop(self) -> None:
        """Stop serving. Recorded state stays readable."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> FakeSlack:
        """Start serving; see :meth:`start`."""
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop serving; see :meth:`stop`."""
        self.stop()

    def reset(self, *, directory: bool = False) -> None:
        """Forget calls, messages, views, ephemerals, files, faults and pacing.

        Users, channels and usergroups (the directory) are kept unless ``directory``
        is true, so one running fake can serve many tests. Socket Mode tickets,
        recorded frames and :attr:`socket_connections_opened` start over; open Socket
        Mode connections stay open (their clients close them).
        """
        with self._lock:
            if directory:
                self._reset_directory()
            self._calls = []
            self._id_counter = itertools.count(1)
            self.rate_limited = 0
            self._reset_messages()
            self._reset_views()
            self._reset_files()
            self._reset_faults()
            self._reset_socket_mode()
            self._reset_events()

    async def _handle_api(self, request: Request) -> Response:
        """Serve ``/api/<method>``: parse, authenticate, dispatch, record."""
        method = request.path_params["method"]
        received = time.monotonic()
        args, token, parse_error = await read_arguments(request)
        with self._lock:
            status, payload, headers = self._dispatch(method, args, token, parse_error)
            lost = self._lose_answer(method) if status == 200 and payload.get("ok") else None
            if lost == "drop":
                self._calls.append(Call(method, args, token, 0, {"ok": False, "error": "connection_dropped"}, received))
            elif lost == "500":
                payload = {"ok": False, "error": "internal_error"}
                self._calls.append(Call(method, args, token, 500, payload, received))
            else:
                self._calls.append(Call(method, args, token, status, payload, received))
        if lost == "drop":
            return DropConnection()
        if lost == "500":
            return JSONResponse(payload, status_code=500)
        return JSONResponse(payload, status_code=status, headers=headers)

    def _dispatch(
        self, method: str, args: dict[str, Any], token: str | None, parse_error: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Answer one API call: ``(status, body, headers)``. Lock held."""
        try:
            self._apply_fault(method)
            handler = self._handlers.get(method)
            if handler is None:
                raise SlackError("unknown_method", req_method=method)
            check_token(method, token, bot_token=self.bot_token, app_token=self.app_token)
            check_arguments(method, args, parse_error)
            # Handlers store parts of the arguments: keep them apart from the recorded Call.
            payload = {"ok": True, **handler(copy.deepcopy(args))}
            return 200, payload, {}
        except SlackError as exc:
            return exc.status, exc.body, exc.headers

    def _api_test(self, args: dict[str, Any]) -> dict[str, Any]:
        """``api.test``: echo the arguments; fail with ``error`` when given."""
        if args.get("error"):
            raise SlackError(str(args["error"]), args=args)
        return {"args": args}

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        """``auth.test``: the bot's identity."""
        host = urlsplit(self.workspace_url).hostname or "chatops-test.slack.com"
        return {
            "url": self.workspace_url,
            "team": host.split(".")[0],
            "user": "chatops",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }
