"""``chatops check --network``: what can be proved against Slack before the bot runs, one line per check.

Only the scopes the app manifest asks for are assumed (``slack-app-manifest.yml``): the
bot token through ``auth.test``, the app-level token through ``apps.connections.open``
(Socket Mode hands out a URL; connecting to it is not needed), and the channels through
``conversations.info``, which needs ``channels:read``/``groups:read`` the manifest does not
ask for. When Slack refuses for a missing scope, the line says what could not be checked
and why; ``--post`` proves the bot can post by posting a test message and deleting it.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from chatops.config import Settings, secret_value

Outcome = Literal["ok", "FAILED", "not checked"]

#: The bot scopes slack-app-manifest.yml asks for (a test keeps the two in step).
MANIFEST_SCOPES = ("chat:write", "commands", "files:write", "users:read", "usergroups:read", "metadata.message:read")

#: The text of the message ``--post`` posts (and deletes at once) in each channel.
TEST_MESSAGE = "chatops check --network --post: a test message, deleted at once"

#: What Slack's error codes mean for the person running the check.
_TOKEN_ERRORS = {
    "invalid_auth": "the token is wrong or was revoked",
    "not_authed": "no token was sent",
    "token_revoked": "the token was revoked (the app was uninstalled?); reinstall the app",
    "token_expired": "the token expired (token rotation is on?)",
    "account_inactive": "the token belongs to a deleted user or workspace",
    "not_allowed_token_type": "this kind of token may not call it (bot and app-level tokens swapped?)",
    "ratelimited": "Slack is rate-limiting these calls (HTTP 429), so the token was not judged: try again in a minute",
}


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check: what was checked (a config key), its outcome and a plain-words detail."""

    subject: str
    outcome: Outcome
    detail: str

    def line(self) -> str:
        """The line ``chatops check`` prints: ``slack.bot_token: ok (…)``."""
        return f"{self.subject}: {self.outcome} ({self.detail})"


class _Unreachable(Exception):
    """Slack's API could not be reached at all (DNS, refused connection, TLS, time-out)."""


def unreachable_reason(exc: BaseException) -> str:
    """Why a connection to the API failed, in words (never a bare exception class name)."""
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, aiohttp.ClientConnectorDNSError) or isinstance(getattr(exc, "os_error", None), socket.gaierror):
        host = getattr(exc, "host", None)
        return f"the host name {host} does not resolve (DNS)" if host else "the host name does not resolve (DNS)"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "the connection broke before the whole answer arrived"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection without answering"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return f"its TLS certificate is not trusted ({exc.certificate_error})"
    os_error = getattr(exc, "os_error", None) or (exc if isinstance(exc, OSError) else None)
    if isinstance(os_error, ConnectionRefusedError):
        return "connection refused (nothing listens there)"
    if isinstance(os_error, OSError) and os_error.strerror:
        return os_error.strerror.lower()
    return str(exc) or type(exc).__name__


def _slack_error(exc: SlackApiError) -> str:
    error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
    return str(error) if error else f"HTTP {exc.response.status_code} without a Slack answer (is api_url Slack's API?)"


def _token_problem(error: str) -> str:
    meaning = _TOKEN_ERRORS.get(error)
    return f"Slack answered {error}: {meaning}" if meaning else f"Slack answered {error}"


async def _call(api_url: str, request: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    """One Web API call; a connection failure becomes :class:`_Unreachable`, Slack's refusal stays SlackApiError."""
    try:
        response = await request()
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise _Unreachable(f"cannot reach Slack at {api_url}: {unreachable_reason(exc)}") from exc
    except (AttributeError, TypeError, ValueError) as exc:
        # slack_sdk reads the answer as a JSON object: a list, or a non-JSON body, breaks it.
        raise _Unreachable(f"{api_url} answered something that is not Slack's (is api_url Slack's API?)") from exc
    return {"data": dict(response.data), "headers": dict(response.headers)}


def scope_result(headers: dict[str, Any]) -> CheckResult:
    """Compare the scopes Slack lists for the bot token (``x-oauth-scopes``) with the manifest's."""
    listed = next((str(v) for k, v in headers.items() if k.lower() == "x-oauth-scopes"), None)
    subject = "slack.bot_token scopes"
    if listed is None:
        return CheckResult(subject, "not checked", "Slack did not list the token's scopes")
    granted = {scope.strip() for scope in listed.split(",") if scope.strip()}
    missing = [scope for scope in MANIFEST_SCOPES if scope not in granted]
    if missing:
        return CheckResult(
            subject,
            "FAILED",
            f"missing {', '.join(missing)}: add them under OAuth & Permissions → Scopes and reinstall the app",
        )
    return CheckResult(subject, "ok", "the token has every scope the manifest asks for")


async def check_slack(settings: Settings, *, post: bool = False, request_seconds: int = 10) -> list[CheckResult]:
    """Run every network check against ``settings.slack``; one result per check, in order."""
    slack = settings.slack
    api_url = slack.api_url
    bot = AsyncWebClient(token=secret_value(slack.bot_token), base_url=api_url, timeout=request_seconds)
    channels = [
        (key, value)
        for key, value in (
            ("slack.inbox_channel", slack.inbox_channel),
            ("slack.escalation_channel", slack.escalation_channel),
            ("slack.ops_channel", slack.ops_channel),
        )
        if value
    ]
    # Overflow channels take cards during a flood: a wrong one would only show on the worst day.
    channels += [(f"crisis.overflow_channels[{i}]", c) for i, c in enumerate(settings.crisis.overflow_channels)]
    results: list[CheckResult] = []

    def skip_rest(why: str) -> list[CheckResult]:
        later = ["slack.bot_token", "slack.app_token" if slack.mode == "socket" else "slack.signing_secret"]
        return results + [CheckResult(key, "not checked", why) for key in [*later, *(k for k, _ in channels)]]

    try:
        answer = await _call(api_url, lambda: bot.auth_test())
    except _Unreachable as exc:
        results.append(CheckResult("slack.api_url", "FAILED", str(exc)))
        return skip_rest("Slack could not be reached")
    except SlackApiError as exc:
        results.append(CheckResult("slack.bot_token", "FAILED", f"auth.test: {_token_problem(_slack_error(exc))}"))
        bot_name = None
    else:
        data = answer["data"]
        bot_name = str(data.get("user") or "the bot")
        results.append(
            CheckResult(
                "slack.bot_token", "ok", f"auth.test: bot @{bot_name} ({data.get('user_id')}) in {data.get('team')}"
            )
        )
        results.append(scope_result(answer["headers"]))

    try:
        results.append(await _check_app_token(settings, request_seconds))
        if bot_name is None:
            return results + [CheckResult(key, "not checked", "the bot token did not work") for key, _ in channels]
        for key, channel in channels:
            if post:
                results.append(await _check_post(bot, api_url, key, channel, bot_name))
            else:
                results.append(await _check_membership(bot, api_url, key, channel, bot_name))
    except _Unreachable as exc:
        checked = {result.subject for result in results}
        results.append(CheckResult("slack.api_url", "FAILED", str(exc)))
        rest = [key for key, _ in channels if key not in checked]
        results.extend(CheckResult(key, "not checked", "Slack could not be reached") for key in rest)
    return results


async def _check_app_token(settings: Settings, request_seconds: int) -> CheckResult:
    slack = settings.slack
    if slack.mode != "socket":
        # Slack never answers with the signing secret: only a request it signs proves it.
        why = "only a request Slack signs proves it: click a card's button once the bot runs"
        return CheckResult("slack.signing_secret", "not checked", why)
    token = secret_value(slack.app_token)
    client = AsyncWebClient(token=token, base_url=slack.api_url, timeout=request_seconds)
    try:
        await _call(slack.api_url, lambda: client.apps_connections_open(app_token=token))
    except SlackApiError as exc:
        error = _slack_error(exc)
        if error == "missing_scope":
            return CheckResult("slack.app_token", "FAILED", "the app-level token lacks connections:write")
        return CheckResult("slack.app_token", "FAILED", f"apps.connections.open: {_token_problem(error)}")
    return CheckResult("slack.app_token", "ok", "apps.connections.open handed out a Socket Mode URL")


def _channel_error(error: str, channel: str, bot_name: str) -> str:
    if error == "channel_not_found":
        return f"Slack knows no channel {channel} the bot can see (a wrong ID, or a private channel it is not in)"
    if error == "not_in_channel":
        return f"the bot is not in {channel}: type /invite @{bot_name} in the channel"
    if error == "is_archived":
        return f"{channel} is archived"
    return f"Slack answered {error}"


async def _check_membership(bot: AsyncWebClient, api_url: str, key: str, channel: str, bot_name: str) -> CheckResult:
    try:
        answer = await _call(api_url, lambda: bot.conversations_info(channel=channel))
    except SlackApiError as exc:
        error = _slack_error(exc)
        if error == "missing_scope":
            needed = exc.response.get("needed") or ("groups:read" if channel.startswith("G") else "channels:read")
            return CheckResult(
                key,
                "not checked",
                f"could not check that the bot is in {channel}: conversations.info needs {needed}, which the "
                "manifest does not ask for; `chatops check --network --post` posts and deletes a test message",
            )
        return CheckResult(key, "FAILED", _channel_error(error, channel, bot_name))
    info = answer["data"].get("channel") or {}
    name = f"#{info.get('name', channel)} ({channel})"
    if info.get("is_archived"):
        return CheckResult(key, "FAILED", f"{name} is archived")
    if not info.get("is_member"):
        return CheckResult(key, "FAILED", f"the bot is not in {name}: type /invite @{bot_name} in the channel")
    return CheckResult(key, "ok", f"{name}; the bot is a member")


async def _check_post(bot: AsyncWebClient, api_url: str, key: str, channel: str, bot_name: str) -> CheckResult:
    try:
        answer = await _call(api_url, lambda: bot.chat_postMessage(channel=channel, text=TEST_MESSAGE))
    except SlackApiError as exc:
        return CheckResult(key, "FAILED", "chat.postMessage: " + _channel_error(_slack_error(exc), channel, bot_name))
    data = answer["data"]
    try:
        await _call(api_url, lambda: bot.chat_delete(channel=str(data.get("channel", channel)), ts=str(data["ts"])))
    except SlackApiError as exc:
        return CheckResult(
            key, "ok", f"posted a test message, but could not delete it ({_slack_error(exc)}): delete it by hand"
        )
    return CheckResult(key, "ok", f"posted a test message in {channel} and deleted it")
