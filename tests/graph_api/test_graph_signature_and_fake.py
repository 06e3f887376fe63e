"""Webhook signatures, webhook payload builders, and the Graph fake's protocol details."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from chatops_plugins.graph_api.client import (
    DEFAULT_API_VERSION,
    InvalidRequest,
    RateLimited,
    TokenError,
    error_from_response,
    format_graph_time,
    parse_graph_time,
    retry_after_from_headers,
)
from chatops_plugins.graph_api.signature import sign, verify, verify_token_matches
from chatops_plugins.graph_api.testing import (
    FakeGraph,
    facebook_comment_change,
    facebook_feed_entry,
    facebook_feed_payload,
    instagram_comment_payload,
    signed_webhook,
)

SECRET = "app-secret-123"
BODY = b'{"object":"page","entry":[]}'


# ----------------------------------------------------------------------------------------- signature


def test_sign_matches_hmac_sha256_of_raw_body() -> None:
    """sign() is sha256= plus the hex HMAC-SHA256 of the raw body."""
    expected = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, BODY) == f"sha256={expected}"


def test_verify_round_trip() -> None:
    """A signature made by sign() verifies, in either hex case."""
    assert verify(SECRET, BODY, sign(SECRET, BODY))
    assert verify(SECRET, BODY, sign(SECRET, BODY).upper().replace("SHA256=", "sha256="))


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha256=zz" + "0" * 62,
        "sha1=" + hashlib.sha1(BODY).hexdigest(),  # noqa: S324 - the legacy header is not accepted
        sign(SECRET, BODY)[len("sha256=") :],  # hex without the prefix
        "md5=" + "0" * 64,
        sign("another-secret", BODY),
        sign(SECRET, BODY) + "00",
    ],
)
def test_verify_rejects_missing_or_malformed(header: str | None) -> None:
    """Missing, malformed, wrong-prefix or wrong-key signatures fail."""
    assert not verify(SECRET, BODY, header)


def test_verify_rejects_tampered_body_and_empty_secret() -> None:
    """Any change to the body, or an empty secret, fails verification."""
    header = sign(SECRET, BODY)
    assert not verify(SECRET, BODY + b" ", header)
    assert not verify(SECRET, BODY.replace(b"page", b"user"), header)
    assert not verify("", BODY, sign("", BODY))


def test_verify_token_matches() -> None:
    """The hub.verify_token comparison matches only equal, non-empty tokens."""
    assert verify_token_matches("hub-token", "hub-token")
    assert not verify_token_matches("hub-token", "hub-tokem")
    assert not verify_token_matches("hub-token", None)
    assert not verify_token_matches("", "")


# ------------------------------------------------------------------------------------------ webhooks


def test_facebook_feed_payload_shape_and_signature() -> None:
    """Feed webhook builders produce Meta's shape and a signature that verifies."""
    created = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    top = facebook_comment_change(
        page_id="1000",
        comment_id="1_501",
        post_id="1000_1",
        message="Hei",
        from_id="u1",
        from_name="Aino",
        created_time=created,
    )
    reply = facebook_comment_change(
        page_id="1000",
        comment_id="1_502",
        post_id="1",
        message="Moi",
        from_id="u2",
        from_name="Eero",
        parent_id="1_501",
        verb="edited",
    )
    assert top["field"] == "feed"
    value = top["value"]
    assert value["item"] == "comment"
    assert value["verb"] == "add"
    assert value["parent_id"] == "1000_1"  # Meta sets a top-level comment's parent to the post
    assert value["created_time"] == int(created.timestamp())
    assert value["from"] == {"id": "u1", "name": "Aino"}
    assert reply["value"]["post_id"] == "1000_1"
    assert reply["value"]["parent_id"] == "1_501"

    other_page = facebook_feed_entry("2000", time_=5)
    payload = facebook_feed_payload(top, reply, other_page)
    assert payload["object"] == "page"
    assert [e["id"] for e in payload["entry"]] == ["1000", "2000"]
    assert payload["entry"][0]["changes"] == [top, reply]
    assert isinstance(payload["entry"][0]["time"], int)

    raw, headers = signed_webhook(SECRET, payload)
    assert json.loads(raw) == payload
    assert headers["Content-Type"] == "application/json"
    assert verify(SECRET, raw, headers["X-Hub-Signature-256"])


def test_removed_comment_has_no_message() -> None:
    """A remove event carries no message."""
    change = facebook_comment_change(
        page_id="1000",
        comment_id="1_5",
        post_id="1000_1",
        message="x",
        from_id="u",
        from_name="U",
        verb="remove",
    )
    assert "message" not in change["value"]


def test_instagram_comment_payload_shape() -> None:
    """The Instagram comments webhook has Meta's shape; parent_id only on replies."""
    payload = instagram_comment_payload(
        ig_user_id="178",
        comment_id="c2",
        media_id="m1",
        text="+1",
        from_id="ig2",
        username="matti",
        parent_id="c1",
    )
    assert payload["object"] == "instagram"
    [entry] = payload["entry"]
    assert entry["id"] == "178"
    [change] = entry["changes"]
    assert change == {
        "field": "comments",
        "value": {
            "from": {"id": "ig2", "username": "matti"},
            "media": {"id": "m1", "media_product_type": "FEED"},
            "id": "c2",
            "text": "+1",
            "parent_id": "c1",
        },
    }
    top = instagram_comment_payload(
        ig_user_id="178", comment_id="c1", media_id="m1", text="Hinta?", from_id="ig1", username="liisa"
    )
    assert "parent_id" not in top["entry"][0]["changes"][0]["value"]


# ------------------------------------------------------------------------------------ error parsing


def test_error_from_response_classifies_and_scrubs() -> None:
    """error_from_response classifies odd bodies and scrubs secrets."""
    body = {"error": {"message": "bad tok123", "type": "OAuthException", "code": 190, "fbtrace_id": "X"}}
    error = error_from_response(400, body, secrets=("tok123",))
    assert isinstance(error, TokenError)
    assert "tok123" not in str(error)
    assert str(error).endswith("Meta said: bad [redacted] (code 190, HTTP 400, fbtrace X)")
    html = error_from_response(502, "<html>Bad gateway</html>")
    assert html.retryable
    assert html.code is None
    assert isinstance(error_from_response(429, None), RateLimited)
    transient = error_from_response(400, {"error": {"message": "m", "code": 9999, "is_transient": True}})
    assert transient.retryable
    assert isinstance(error_from_response(400, {"error": {"message": "m", "code": 368}}), InvalidRequest)


def test_retry_after_from_usage_headers() -> None:
    """Retry estimates come from Retry-After and BUC minutes, not from X-App-Usage."""
    buc = {"1000": [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 3}]}
    assert retry_after_from_headers({"x-business-use-case-usage": json.dumps(buc)}) == 180.0
    assert retry_after_from_headers({"x-app-usage": '{"call_count": 100}'}) is None
    assert retry_after_from_headers({"x-business-use-case-usage": "not json"}) is None
    assert retry_after_from_headers({"retry-after": "2.5"}) == 2.5


def test_graph_time_round_trip() -> None:
    """Graph timestamps format and parse both ways."""
    moment = datetime(2026, 11, 23, 18, 50, 7, tzinfo=UTC)
    assert format_graph_time(moment) == "2026-11-23T18:50:07+0000"
    assert parse_graph_time("2026-11-23T18:50:07+0000") == moment
    assert parse_graph_time(int(moment.timestamp())) == moment
    assert parse_graph_time("yesterday") is None


# ------------------------------------------------------------------------------- fake, raw protocol


@pytest.fixture(scope="module")
def graph() -> Iterator[FakeGraph]:
    """A running fake shared by the raw-protocol tests."""
    with FakeGraph() as fake:
        yield fake


@pytest.fixture
def raw(graph: FakeGraph) -> Iterator[httpx.Client]:
    """A plain HTTP client on the fake, which is reset and holds one post and comment."""
    graph.reset()
    graph.add_post("1000_1", "Post", created_time=datetime.now(UTC) - timedelta(days=1))
    graph.add_comment("1_9", post_id="1000_1", message="Hei", from_id="u1", from_name="Aino")
    with httpx.Client(base_url=f"{graph.base_url}/{DEFAULT_API_VERSION}") as http:
        yield http


def test_fake_token_rules(graph: FakeGraph, raw: httpx.Client) -> None:
    """The fake answers 104 without a token, 190 for a wrong one, and accepts the query token."""
    missing = raw.get("/1_9")
    assert missing.status_code == 400
    assert missing.json()["error"]["code"] == 104
    wrong = raw.get("/1_9", headers={"Authorization": "Bearer nope"})
    error = wrong.json()["error"]
    assert (error["code"], error["type"]) == (190, "OAuthException")
    assert set(error) >= {"message", "type", "code", "fbtrace_id"}
    # The query-string token that real Graph also accepts; the call log keeps it out of params.
    ok = raw.get("/1_9", params={"access_token": "page-token", "fields": "id,message"})
    assert ok.json() == {"id": "1_9", "message": "Hei"}
    assert graph.calls[-1].token == "page-token"
    assert "access_token" not in graph.calls[-1].params


def test_fake_answers_graph_shapes(raw: httpx.Client) -> None:
    """The fake's default fields, unknown-field error, JSON bodies and boolean checks."""
    auth = {"Authorization": "OAuth page-token"}
    node = raw.get("/1_9", headers=auth).json()
    assert set(node) == {"created_time", "from", "message", "id"}  # Graph's default comment fields
    bad_field = raw.get("/1_9", params={"fields": "nope"}, headers=auth).json()["error"]
    assert bad_field["code"] == 100
    assert "nonexisting field (nope)" in bad_field["message"]
    page = raw.get("/1000", params={"fields": "name"}, headers=auth).json()
    assert page == {"name": "Kahvila Aurinko", "id": "1000"}
    # JSON bodies are accepted like form bodies.
    sent = raw.post(
        "/1000/messages",
        headers=auth,
        json={"recipient": {"comment_id": "1_9"}, "message": {"text": "DM"}},
    ).json()
    assert set(sent) == {"recipient_id", "message_id"}
    hide = raw.post("/1_9", headers=auth, data={"is_hidden": "maybe"}).json()
    assert hide["error"]["code"] == 100


def test_fake_since_accepts_iso_and_unix(raw: httpx.Client) -> None:
    """The fake's since filter takes unix seconds or ISO 8601 and rejects junk."""
    auth = {"Authorization": "Bearer page-token"}
    later = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    assert raw.get("/1000/posts", params={"since": later}, headers=auth).json() == {"data": []}
    earlier = int((datetime.now(UTC) - timedelta(days=2)).timestamp())
    [post] = raw.get("/1000/posts", params={"since": earlier}, headers=auth).json()["data"]
    assert post["id"] == "1000_1"
    assert raw.get("/1000/posts", params={"since": "soon"}, headers=auth).json()["error"]["code"] == 100


def test_fake_rejects_unknown_version(graph: FakeGraph) -> None:
    """Requests without the fake's version prefix are refused."""
    with httpx.Client(base_url=graph.base_url) as http:
        for prefix in ("/v1.0", "/v99.0", ""):
            response = http.get(f"{prefix}/1_9", headers={"Authorization": "Bearer page-token"})
            assert response.status_code == 400
            assert "error" in response.json()


def test_fake_failure_matches_any_method_and_counts_down(graph: FakeGraph, raw: httpx.Client) -> None:
    """Scripted failures match any method with '*' and run out after 'times'."""
    auth = {"Authorization": "Bearer page-token"}
    graph.fail_next("*", r"/1_9", code=2, http_status=500, times=2)
    assert raw.get("/1_9", headers=auth).status_code == 500
    failed = raw.post("/1_9", headers=auth, data={"is_hidden": "true"})
    assert failed.json()["error"]["is_transient"] is True
    assert raw.get("/1_9", headers=auth).status_code == 200
    assert not graph.is_hidden("1_9")
