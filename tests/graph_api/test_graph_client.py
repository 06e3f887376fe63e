"""The Graph API client against the Graph fake, over real loopback HTTP."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from chatops_plugins.facebook.graph_calls import FacebookGraph
from chatops_plugins.graph_api.client import (
    DEFAULT_API_VERSION,
    PRIVATE_REPLY_ALREADY_SENT,
    GraphClient,
    GraphError,
    InvalidRequest,
    PermissionDenied,
    RateLimited,
    TokenError,
    TransientError,
    appsecret_proof,
)
from chatops_plugins.graph_api.testing import FakeGraph
from chatops_plugins.instagram.graph_calls import InstagramGraph

TOKEN = "EAAGsecretPageToken123"
PAGE = "1000"
IG = "17841400000000000"
POST = f"{PAGE}_1"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeGraph]:
    """One running fake for the module (starting a server costs ~0.2 s); tests reset it."""
    with FakeGraph(access_token=TOKEN, page_id=PAGE, ig_user_id=IG) as graph:
        yield graph


@pytest.fixture
def fake(server: FakeGraph) -> Iterator[FakeGraph]:
    """The fake, reset, with one post, a comment thread, one IG media and an IG thread."""
    graph = server
    graph.reset()
    graph.add_post(POST, "Uusi kakku!", created_time=NOW - timedelta(days=2))
    graph.add_comment(
        "1_501",
        post_id=POST,
        message="Onko gluteeniton?",
        from_id="u1",
        from_name="Aino",
        created_time=NOW - timedelta(hours=3),
    )
    graph.add_comment(
        "1_502",
        post_id=POST,
        message="Sama kysymys",
        from_id="u2",
        from_name="Eero",
        parent_id="1_501",
        created_time=NOW - timedelta(hours=2),
    )
    graph.add_ig_media("m1", "Pulla", timestamp=NOW - timedelta(days=1))
    graph.add_ig_comment(
        "c1",
        media_id="m1",
        text="Hinta?",
        from_id="ig1",
        username="liisa",
        timestamp=NOW - timedelta(hours=5),
    )
    graph.add_ig_comment(
        "c2",
        media_id="m1",
        text="+1",
        from_id="ig2",
        username="matti",
        parent_id="c1",
        timestamp=NOW - timedelta(hours=4),
    )
    yield graph


@pytest.fixture
async def client(fake: FakeGraph) -> AsyncIterator[GraphClient]:
    """A client pointed at the fake."""
    async with GraphClient(access_token=TOKEN, base_url=fake.base_url) as graph_client:
        yield graph_client


def assert_no_token(exc: BaseException) -> None:
    """Neither str() nor repr() of an exception may contain the token."""
    assert TOKEN not in str(exc)
    assert TOKEN not in repr(exc)
    assert "\n" not in str(exc)


# ------------------------------------------------------------------------------------------ Facebook


async def test_reply_to_comment_reaches_fake_and_customer_sees_it(fake: FakeGraph, client: GraphClient) -> None:
    """A public reply is POSTed with the header token and shows up under the comment as the Page."""
    new_id = await FacebookGraph(client).reply_to_comment("1_501", "Kyllä on!")
    [call] = fake.calls_to("POST", r"/1_501/comments")
    assert call.data == {"message": "Kyllä on!"}
    assert call.token == TOKEN
    assert "access_token" not in call.params  # the token travels in the Authorization header
    assert call.response == {"id": new_id}
    existing, reply = fake.comment_replies("1_501")
    assert existing["id"] == "1_502"
    assert reply["id"] == new_id
    assert reply["message"] == "Kyllä on!"
    assert reply["from"] == {"name": fake.page_name, "id": PAGE}


async def test_hide_and_unhide_facebook_comment(fake: FakeGraph, client: GraphClient) -> None:
    """is_hidden=true/false hides and unhides a Facebook comment."""
    await FacebookGraph(client).set_comment_hidden("1_501", True)
    assert fake.is_hidden("1_501")
    await FacebookGraph(client).set_comment_hidden("1_501", False)
    assert not fake.is_hidden("1_501")
    assert [c.data for c in fake.calls_to("POST", r"/1_501")] == [
        {"is_hidden": "true"},
        {"is_hidden": "false"},
    ]


async def test_hide_unknown_comment_is_invalid_request(fake: FakeGraph, client: GraphClient) -> None:
    """Hiding an unknown comment is Graph's permanent 100/33 error."""
    with pytest.raises(InvalidRequest) as info:
        await FacebookGraph(client).set_comment_hidden("1_999", True)
    assert info.value.code == 100
    assert info.value.subcode == 33
    assert not info.value.retryable


async def test_private_reply_shape_and_once_only(fake: FakeGraph, client: GraphClient) -> None:
    """A private reply carries recipient/message objects and works once per comment."""
    message_id = await FacebookGraph(client).private_reply(PAGE, "1_501", "Laitoin viestin")
    [call] = fake.calls_to("POST", rf"/{PAGE}/messages")
    assert call.data["recipient"] == {"comment_id": "1_501"}
    assert call.data["message"] == {"text": "Laitoin viestin"}
    [sent] = fake.private_messages("1_501")
    assert sent["message_id"] == message_id
    assert sent["recipient_id"] == "u1"
    assert sent["platform"] == "facebook"

    with pytest.raises(InvalidRequest) as info:
        await FacebookGraph(client).private_reply(PAGE, "1_501", "Toinen")
    assert info.value.code == PRIVATE_REPLY_ALREADY_SENT
    assert not info.value.retryable
    assert len(fake.private_messages()) == 1


async def test_private_reply_outside_seven_days_is_refused(fake: FakeGraph, client: GraphClient) -> None:
    """Private replies are refused past 7 days after the comment and allowed just before."""
    fake.add_comment(
        "1_600",
        post_id=POST,
        message="Vanha",
        from_id="u3",
        from_name="Vanha",
        created_time=NOW - timedelta(days=7, minutes=5),
    )
    fake.add_comment(
        "1_601",
        post_id=POST,
        message="Melkein vanha",
        from_id="u4",
        from_name="Ei vanha",
        created_time=NOW - timedelta(days=6, hours=23),
    )
    with pytest.raises(PermissionDenied) as info:
        await FacebookGraph(client).private_reply(PAGE, "1_600", "Myöhässä")
    assert (info.value.code, info.value.subcode) == (10, 2018278)
    assert fake.private_messages("1_600") == []
    assert await FacebookGraph(client).private_reply(PAGE, "1_601", "Ehdin")


async def test_private_reply_to_unknown_comment(client: GraphClient) -> None:
    """A private reply to an unknown comment is refused with 100/2018292."""
    with pytest.raises(InvalidRequest) as info:
        await FacebookGraph(client).private_reply(PAGE, "1_404", "Hei")
    assert (info.value.code, info.value.subcode) == (100, 2018292)


async def test_page_posts_fields_and_since(fake: FakeGraph, client: GraphClient) -> None:
    """page_posts asks for the documented fields, sends since, filters and honours limit."""
    fake.add_post(f"{PAGE}_2", "Eilen", created_time=NOW - timedelta(days=1))
    fake.add_post(f"{PAGE}_3", "Tänään", created_time=NOW - timedelta(hours=1))
    posts = await FacebookGraph(client).page_posts(PAGE, since=NOW - timedelta(days=1, minutes=1))
    assert [p["id"] for p in posts] == [f"{PAGE}_3", f"{PAGE}_2"]  # newest first, the 2-day-old one filtered
    assert set(posts[0]) == {"id", "message", "permalink_url", "created_time"}
    [call] = fake.calls_to("GET", rf"/{PAGE}/posts")
    assert call.params["fields"] == "id,message,permalink_url,created_time"
    assert call.params["since"] == str(int((NOW - timedelta(days=1, minutes=1)).timestamp()))
    assert len(await FacebookGraph(client).page_posts(PAGE, limit=2)) == 2


async def test_comments_stream_with_parents_and_paging(fake: FakeGraph, client: GraphClient) -> None:
    """comments() reads the whole stream in order, with parents, across cursor pages."""
    for n in range(5):
        fake.add_comment(
            f"1_7{n}",
            post_id=POST,
            message=f"kommentti {n}",
            from_id=f"x{n}",
            from_name="X",
            created_time=NOW - timedelta(minutes=50 - n),
        )
    fake.page_size = 2
    comments = await FacebookGraph(client).comments(POST)
    assert [c["id"] for c in comments] == ["1_501", "1_502", "1_70", "1_71", "1_72", "1_73", "1_74"]
    reply = comments[1]
    assert reply["parent"] == {"id": "1_501"}
    assert "parent" not in comments[0]
    assert reply["from"] == {"name": "Eero", "id": "u2"}
    calls = fake.calls_to("GET", rf"/{POST}/comments")
    assert len(calls) == 4  # 7 comments, 2 per page
    assert "after" not in calls[0].params
    assert all("after" in c.params for c in calls[1:])
    assert {c.params["filter"] for c in calls} == {"stream"}
    assert {c.params["order"] for c in calls} == {"chronological"}


async def test_comments_since_filters(fake: FakeGraph, client: GraphClient) -> None:
    """comments(since=...) leaves out older comments."""
    comments = await FacebookGraph(client).comments(POST, since=NOW - timedelta(hours=2, minutes=30))
    assert [c["id"] for c in comments] == ["1_502"]


async def test_get_paged_respects_max_pages(fake: FakeGraph, client: GraphClient) -> None:
    """get_paged stops after max_pages even when more pages exist."""
    for n in range(6):
        fake.add_post(f"{PAGE}_{10 + n}", f"p{n}", created_time=NOW - timedelta(minutes=n))
    fake.page_size = 2
    items = [item async for item in client.get_paged(f"{PAGE}/posts", limit=2, max_pages=2)]
    assert len(items) == 4
    assert len(fake.calls_to("GET", rf"/{PAGE}/posts")) == 2


async def test_get_object(client: GraphClient) -> None:
    """get_object returns exactly the requested fields."""
    comment = await client.get_object("1_502", "id,message,parent{id},is_hidden")
    assert comment == {
        "id": "1_502",
        "message": "Sama kysymys",
        "parent": {"id": "1_501"},
        "is_hidden": False,
    }


# ----------------------------------------------------------------------------------------- Instagram


async def test_instagram_reply_and_hide(fake: FakeGraph, client: GraphClient) -> None:
    """Instagram replies go to /replies and hiding uses hide=true|false."""
    new_id = await InstagramGraph(client).reply_to_comment("c1", "8 €")
    [call] = fake.calls_to("POST", r"/c1/replies")
    assert call.data == {"message": "8 €"}
    assert new_id in [r["id"] for r in fake.comment_replies("c1")]

    await InstagramGraph(client).set_comment_hidden("c1", True)
    assert fake.is_hidden("c1")
    assert fake.calls_to("POST", r"/c1")[-1].data == {"hide": "true"}
    await InstagramGraph(client).set_comment_hidden("c1", False)
    assert not fake.is_hidden("c1")


async def test_instagram_reply_to_reply_threads_or_is_refused(fake: FakeGraph, client: GraphClient) -> None:
    """A reply to an Instagram reply lands on the top-level comment, or is refused in reject mode."""
    # Documented: "replies to a reply will be added to the top-level comment".
    new_id = await InstagramGraph(client).reply_to_comment("c2", "Kiitos!")
    assert fake.comment(new_id)["parent_id"] == "c1"
    fake.ig_reply_to_reply = "reject"
    with pytest.raises(InvalidRequest):
        await InstagramGraph(client).reply_to_comment("c2", "Taas")
    assert len(fake.comment_replies("c1")) == 2  # c2 and the first page reply only


async def test_instagram_reply_to_hidden_comment_is_refused(fake: FakeGraph, client: GraphClient) -> None:
    """Hidden Instagram comments cannot be replied to."""
    await InstagramGraph(client).set_comment_hidden("c1", True)
    with pytest.raises(InvalidRequest):
        await InstagramGraph(client).reply_to_comment("c1", "Hei")


async def test_instagram_private_reply_once(fake: FakeGraph, client: GraphClient) -> None:
    """Instagram private replies go to /{ig-user-id}/messages, once per comment."""
    message_id = await InstagramGraph(client).private_reply(IG, "c1", "Katso DM")
    [call] = fake.calls_to("POST", rf"/{IG}/messages")
    assert call.data["recipient"] == {"comment_id": "c1"}
    assert fake.private_messages("c1")[0]["message_id"] == message_id
    assert fake.private_messages("c1")[0]["platform"] == "instagram"
    with pytest.raises(InvalidRequest) as info:
        await InstagramGraph(client).private_reply(IG, "c1", "Uudestaan")
    assert info.value.code == PRIVATE_REPLY_ALREADY_SENT


async def test_instagram_media_and_comments_flattened_with_paging(fake: FakeGraph, client: GraphClient) -> None:
    """Media and comments are read across pages, replies flattened after their parent."""
    fake.add_ig_media("m2", "Kahvi", timestamp=NOW)
    for n in range(3):
        fake.add_ig_comment(
            f"c1r{n}",
            media_id="m1",
            text=f"r{n}",
            from_id="ig9",
            username="pia",
            parent_id="c1",
            timestamp=NOW - timedelta(hours=3, minutes=-n),
        )
    fake.add_ig_comment("c3", media_id="m1", text="Auki?", from_id="ig3", username="olli", timestamp=NOW)
    fake.page_size = 2

    media = await InstagramGraph(client).media(IG)
    assert [m["id"] for m in media] == ["m2", "m1"]
    assert set(media[0]) == {"id", "caption", "permalink", "timestamp"}
    assert [m["id"] for m in await InstagramGraph(client).media(IG, limit=1)] == ["m2"]

    comments = await InstagramGraph(client).comments("m1")
    # Top-level comments newest first (as the fake orders them), each followed by its replies.
    assert [c["id"] for c in comments] == ["c3", "c1", "c2", "c1r0", "c1r1", "c1r2"]
    assert all(c["parent_id"] == "c1" for c in comments[2:])
    assert "parent_id" not in comments[1]
    assert comments[1]["from"] == {"id": "ig1", "username": "liisa"}
    assert not any("replies" in c for c in comments)
    # The nested replies edge had more than one page: the rest came through /c1/replies.
    assert fake.calls_to("GET", r"/c1/replies")


# -------------------------------------------------------------------------------------------- errors


async def test_wrong_token_is_token_error_without_token_in_message(fake: FakeGraph) -> None:
    """A wrong token raises TokenError (190) whose text never shows the token."""
    async with GraphClient(access_token="EAAGwrongToken", base_url=fake.base_url) as bad:
        with pytest.raises(TokenError) as info:
            await FacebookGraph(bad).reply_to_comment("1_501", "x")
    assert info.value.code == 190
    assert info.value.http_status == 400
    assert info.value.fbtrace_id
    assert not info.value.retryable
    assert "EAAGwrongToken" not in str(info.value) + repr(info.value)
    assert [r["id"] for r in fake.comment_replies("1_501")] == ["1_502"]


@pytest.mark.parametrize(
    ("code", "http_status", "expected", "retry_after"),
    [
        (190, 400, TokenError, None),
        (102, 400, TokenError, None),
        (10, 403, PermissionDenied, None),
        (200, 403, PermissionDenied, None),
        (4, 400, RateLimited, None),
        (17, 400, RateLimited, None),
        (32, 400, RateLimited, 60.0),
        (613, 400, RateLimited, 60.0),
        (80001, 400, RateLimited, 60.0),
        (2, 500, TransientError, None),
        (1, 400, TransientError, None),
        (100, 400, InvalidRequest, None),
    ],
)
async def test_error_classes(
    fake: FakeGraph,
    client: GraphClient,
    code: int,
    http_status: int,
    expected: type[GraphError],
    retry_after: float | None,
) -> None:
    """Each Graph error code maps to its exception class, retryability and retry estimate."""
    fake.fail_next("POST", r"/1_501/comments", code=code, http_status=http_status, subcode=460)
    with pytest.raises(GraphError) as info:
        await FacebookGraph(client).reply_to_comment("1_501", "Hei")
    error = info.value
    assert type(error) is expected
    assert (error.code, error.subcode, error.http_status) == (code, 460, http_status)
    assert error.retryable is (expected in (RateLimited, TransientError))
    if expected is RateLimited:
        assert error.retry_after == retry_after
    assert_no_token(error)
    assert f"code {code}/460" in str(error)
    # The failure was used up: the next identical call goes through.
    assert await FacebookGraph(client).reply_to_comment("1_501", "Hei")


async def test_http_500_without_graph_body_and_429_retry_after(fake: FakeGraph, client: GraphClient) -> None:
    """5xx is transient and a 429 Retry-After becomes retry_after."""
    fake.fail_next("GET", r"/1_501", code=2, http_status=503)
    with pytest.raises(TransientError) as info:
        await client.get_object("1_501", "id")
    assert info.value.http_status == 503
    fake.fail_next("GET", r"/1_501", code=4, http_status=429, headers={"Retry-After": "7"})
    with pytest.raises(RateLimited) as limited:
        await client.get_object("1_501", "id")
    assert limited.value.retry_after == 7.0
    assert "retry in ~7 s" in str(limited.value)


async def test_usage_headers_are_kept(fake: FakeGraph, client: GraphClient) -> None:
    """The client keeps the latest usage headers."""
    fake.fail_next("GET", r"/1_501", code=4)
    with pytest.raises(RateLimited):
        await client.get_object("1_501", "id")
    assert client.usage["x-app-usage"]["call_count"] == 100


async def test_token_echoed_by_meta_is_scrubbed(fake: FakeGraph, client: GraphClient) -> None:
    """A token echoed inside Meta's error message is redacted."""
    fake.fail_next("POST", r"/1_501/comments", code=100, message=f"Bad token {TOKEN} in request")
    with pytest.raises(InvalidRequest) as info:
        await FacebookGraph(client).reply_to_comment("1_501", "x")
    assert "[redacted]" in str(info.value)
    assert_no_token(info.value)


async def test_network_refused_is_transient() -> None:
    """A refused connection is a retryable TransientError with http_status 0."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with GraphClient(access_token=TOKEN, base_url=f"http://127.0.0.1:{port}", timeout=2) as dead:
        with pytest.raises(TransientError) as info:
            await FacebookGraph(dead).reply_to_comment("1_501", "x")
    assert info.value.http_status == 0
    assert info.value.retryable
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert_no_token(info.value)


async def test_timeout_is_transient() -> None:
    """A timeout is a retryable TransientError naming the timeout."""

    def slow(request: httpx.Request) -> httpx.Response:
        """Time out like a dead network would."""
        raise httpx.ReadTimeout("timed out", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(slow)) as http:
        graph = GraphClient(access_token=TOKEN, http=http, timeout=0.5)
        with pytest.raises(TransientError) as info:
            await graph.get_object("1_501", "id")
    assert "0.5 s" in str(info.value)
    assert_no_token(info.value)


async def test_unknown_api_version_is_rejected(fake: FakeGraph) -> None:
    """The fake refuses an API version other than its own; the defaults agree."""
    async with GraphClient(access_token=TOKEN, base_url=fake.base_url, api_version="v1.0") as old:
        with pytest.raises(InvalidRequest):
            await old.get_object("1_501", "id")
    assert fake.api_version == DEFAULT_API_VERSION


async def test_appsecret_proof_sent_and_checked() -> None:
    """With an app secret the client sends a valid appsecret_proof, and the fake checks it."""
    with FakeGraph(access_token=TOKEN, app_secret="s3cret") as graph:
        graph.add_post(POST, "x")
        async with GraphClient(access_token=TOKEN, base_url=graph.base_url, app_secret="s3cret") as good:
            assert (await good.get_object(POST, "id"))["id"] == POST
        assert graph.calls[-1].params["appsecret_proof"] == appsecret_proof(TOKEN, "s3cret")
        async with GraphClient(access_token=TOKEN, base_url=graph.base_url) as missing:
            with pytest.raises(InvalidRequest) as info:
                await missing.get_object(POST, "id")
        assert info.value.code == 100


async def test_untrusted_ids_are_refused_before_any_call(fake: FakeGraph, client: GraphClient) -> None:
    """Ids that could change the endpoint are refused locally."""
    for bad in ["../me/accounts", "1_501/comments", "", "1 2"]:
        with pytest.raises(ValueError, match="not a valid Graph object id"):
            await FacebookGraph(client).reply_to_comment(bad, "x")
    assert fake.calls == []
    assert TOKEN not in repr(client)


async def test_wait_for_and_call_log(fake: FakeGraph, client: GraphClient) -> None:
    """wait_for returns recorded calls and times out with a list of what was seen."""
    await FacebookGraph(client).reply_to_comment("1_501", "a")
    [call] = await fake.wait_for("post", r"/1_501/comments")
    assert call.status == 200
    assert call.at > 0
    with pytest.raises(TimeoutError, match="calls seen: POST /1_501/comments"):
        await fake.wait_for("POST", r"/1_502/comments", timeout=0.05)


async def test_paging_never_follows_another_host_and_drops_tokens_from_next() -> None:
    """Paging reuses only the query of paging.next, on our host, without tokens."""
    seen: list[httpx.URL] = []
    pages = [
        {
            "data": [],
            "paging": {"next": "https://evil.example/v26.0/1/comments?after=A1&access_token=LEAK&limit=2"},
        },
        {"data": [{"id": "x"}], "paging": {"cursors": {"after": "A2"}}},  # no "next": the last page
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        """Answer the scripted pages in order."""
        seen.append(request.url)
        return httpx.Response(200, json=pages[len(seen) - 1])

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        graph = GraphClient(access_token=TOKEN, http=http, base_url="https://graph.test")
        items = [item async for item in graph.get_paged("1/comments", limit=2, fields="id")]
    assert items == [{"id": "x"}]  # an empty page that still has "next" is followed
    assert [url.host for url in seen] == ["graph.test", "graph.test"]
    assert seen[1].params["after"] == "A1"
    assert "access_token" not in seen[1].params
    assert seen[1].path == "/v26.0/1/comments"


async def test_fake_before_cursor_pages_backwards(fake: FakeGraph, client: GraphClient) -> None:
    """The fake serves the previous page for a before cursor."""
    for n in range(4):
        fake.add_post(f"{PAGE}_{20 + n}", f"p{n}", created_time=NOW - timedelta(minutes=n))
    fake.page_size = 2
    second = await client.get(f"{PAGE}/posts", after=(await client.get(f"{PAGE}/posts"))["paging"]["cursors"]["after"])
    back = await client.get(f"{PAGE}/posts", before=second["paging"]["cursors"]["before"])
    assert [p["id"] for p in back["data"]] == [f"{PAGE}_20", f"{PAGE}_21"]
