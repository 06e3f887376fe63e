"""FakeX's own rules, through tweepy and the plugin's client (the code path production uses)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
import tweepy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from requests_oauthlib import OAuth1
from x_world import ACCESS_SECRET, ACCESS_TOKEN, ACCOUNT, AINO, CONSUMER_KEY, CONSUMER_SECRET, EERO, USERNAME

from chatops_plugins.x.client import tweepy_client
from chatops_plugins.x.config import XConfig
from chatops_plugins.x.testing import FakeX

FIELDS = {
    "tweet_fields": ["author_id", "created_at", "conversation_id", "referenced_tweets", "entities"],
    "expansions": ["author_id", "referenced_tweets.id"],
    "user_fields": ["username", "name"],
}


def client_for(fake: FakeX, **secrets: str) -> tweepy.Client:
    """The plugin's tweepy client pointed at ``fake`` (secrets overridable to test refusals)."""
    values = {
        "bearer_token": fake.bearer_token,
        "consumer_key": fake.consumer_key,
        "consumer_secret": fake.consumer_secret,
        "access_token": fake.access_token,
        "access_token_secret": fake.access_token_secret,
        **secrets,
    }
    return tweepy_client(XConfig(user_id=fake.account_id, api_url=fake.base_url, timeout_seconds=5, **values))


@pytest.fixture
def client(x_fake: FakeX) -> Iterator[tweepy.Client]:
    made = client_for(x_fake)
    yield made
    made.session.close()


def mentions(client: tweepy.Client, **params: object) -> requests.Response:
    response = client.get_users_mentions(ACCOUNT, **params)
    assert isinstance(response, requests.Response)
    return response


# -- reads -----------------------------------------------------------------------------------


def test_mentions_come_newest_first_with_authors_and_meta(x_fake: FakeX, client: tweepy.Client) -> None:
    first = x_fake.mention("eka https://example.com/a", author=AINO)
    second = x_fake.mention(f"@{USERNAME} toka", author=EERO, in_reply_to=first)
    x_fake.own_post("oma julkaisu")  # the account's own post is not a mention

    body = mentions(client, **FIELDS).json()

    assert [t["id"] for t in body["data"]] == [second, first]
    assert body["meta"] == {"newest_id": second, "oldest_id": first, "result_count": 2}
    newest, oldest = body["data"]
    assert oldest["text"].startswith(f"@{USERNAME} eka https://t.co/")  # the handle is put in front
    assert oldest["entities"]["urls"][0]["expanded_url"] == "https://example.com/a"
    assert newest["text"] == f"@{USERNAME} toka"
    assert newest["referenced_tweets"] == [{"type": "replied_to", "id": first}]
    assert newest["conversation_id"] == first and newest["author_id"] == EERO[0]
    assert datetime.fromisoformat(newest["created_at"].replace("Z", "+00:00")).tzinfo is not None
    assert {u["username"] for u in body["includes"]["users"]} == {"aino_asiakas", "eero_e"}
    assert [t["id"] for t in body["includes"]["tweets"]] == [first]


def test_without_fields_a_post_is_id_text_and_edit_history(x_fake: FakeX, client: tweepy.Client) -> None:
    tweet_id = x_fake.mention("hei & <moi>")
    body = mentions(client).json()
    assert body["data"] == [
        {"edit_history_tweet_ids": [tweet_id], "id": tweet_id, "text": f"@{USERNAME} hei &amp; &lt;moi&gt;"}
    ]
    assert "includes" not in body


def test_an_empty_timeline_is_meta_only(client: tweepy.Client) -> None:
    assert mentions(client).json() == {"meta": {"result_count": 0}}


@pytest.mark.parametrize(("value", "ok"), [(4, False), (5, True), (100, True), (101, False)])
def test_max_results_is_5_to_100(x_fake: FakeX, client: tweepy.Client, value: int, ok: bool) -> None:
    x_fake.mention("hei")
    if ok:
        assert mentions(client, max_results=value).status_code == 200
        return
    with pytest.raises(tweepy.BadRequest) as caught:
        mentions(client, max_results=value)
    body = caught.value.response.json()
    assert body["title"] == "Invalid Request" and "max_results" in body["errors"][0]["parameters"]


def test_unknown_fields_are_a_400(client: tweepy.Client) -> None:
    with pytest.raises(tweepy.BadRequest):
        mentions(client, tweet_fields=["no_such_field"])


def test_start_time_and_until_id_filter(x_fake: FakeX, client: tweepy.Client) -> None:
    now = datetime.now(UTC)
    old = x_fake.mention("vanha", created_at=now - timedelta(days=2))
    middle = x_fake.mention("keski", created_at=now - timedelta(hours=1))
    new = x_fake.mention("uusi")
    assert [t["id"] for t in mentions(client, start_time=now - timedelta(days=1)).json()["data"]] == [new, middle]
    assert [t["id"] for t in mentions(client, until_id=new).json()["data"]] == [middle, old]


def test_only_the_newest_800_mentions_are_reachable(x_fake: FakeX, client: tweepy.Client) -> None:
    ids = [x_fake.mention(f"m{n}") for n in range(805)]
    seen: list[str] = []
    token = None
    while True:
        params = {"max_results": 100, **({"pagination_token": token} if token else {})}
        body = mentions(client, **params).json()
        seen.extend(t["id"] for t in body.get("data", []))
        token = body["meta"].get("next_token")
        if not token:
            break
    assert seen == list(reversed(ids))[:800]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(count=st.integers(0, 40), page=st.integers(5, 12), since=st.integers(-1, 40))
def test_paging_from_since_id_yields_each_newer_mention_once_newest_first(
    x_fake: FakeX, client: tweepy.Client, count: int, page: int, since: int
) -> None:
    x_fake.reset()
    ids = [x_fake.mention(f"m{n}") for n in range(count)]
    since_id = ids[since] if 0 <= since < count else None
    seen: list[str] = []
    token = None
    while True:
        params: dict[str, object] = {"max_results": page}
        if since_id:
            params["since_id"] = since_id
        if token:
            params["pagination_token"] = token
        body = mentions(client, **params).json()
        data = body.get("data", [])
        assert body["meta"]["result_count"] == len(data) <= page
        seen.extend(t["id"] for t in data)
        token = body["meta"].get("next_token")
        if not token:
            break
    expected = [i for i in ids if since_id is None or int(i) > int(since_id)]
    assert seen == list(reversed(expected))


def test_a_bad_pagination_token_is_a_400(client: tweepy.Client) -> None:
    with pytest.raises(tweepy.BadRequest):
        mentions(client, pagination_token="not-a-token")


def test_the_accounts_own_posts_timeline(x_fake: FakeX, client: tweepy.Client) -> None:
    question = x_fake.mention("kysymys")
    answer = x_fake.own_post("vastaus", in_reply_to=question)
    response = client.get_users_tweets(ACCOUNT, **FIELDS)
    assert isinstance(response, requests.Response)
    body = response.json()
    assert [t["id"] for t in body["data"]] == [answer]
    assert body["data"][0]["referenced_tweets"] == [{"type": "replied_to", "id": question}]
    assert body["data"][0]["conversation_id"] == question


def test_an_unknown_user_is_200_with_errors(client: tweepy.Client) -> None:
    response = client.get_users_mentions("42")
    assert isinstance(response, requests.Response)
    body = response.json()
    assert "data" not in body and body["errors"][0]["type"].endswith("/problems/resource-not-found")


# -- credentials -----------------------------------------------------------------------------


def test_reads_need_the_bearer_token(x_fake: FakeX) -> None:
    wrong = client_for(x_fake, bearer_token="wrong")
    with pytest.raises(tweepy.Unauthorized) as caught:
        wrong.get_users_mentions(ACCOUNT)
    assert caught.value.response.json() == {
        "title": "Unauthorized",
        "type": "about:blank",
        "status": 401,
        "detail": "Unauthorized",
    }


def test_revoked_tokens_are_401_and_restored_ones_work(x_fake: FakeX, client: tweepy.Client) -> None:
    x_fake.revoke_bearer()
    with pytest.raises(tweepy.Unauthorized):
        mentions(client)
    client.create_tweet(text="posting still works")  # the user token is another token
    x_fake.revoke_user_token()
    with pytest.raises(tweepy.Unauthorized):
        client.create_tweet(text="not any more")
    x_fake.restore_tokens()
    assert mentions(client).status_code == 200


def test_a_suspended_account_is_403_user_suspended(x_fake: FakeX, client: tweepy.Client) -> None:
    x_fake.suspend()
    with pytest.raises(tweepy.Forbidden) as caught:
        client.create_tweet(text="hei")
    assert caught.value.response.json()["type"] == "https://api.twitter.com/2/problems/user-suspended"
    with pytest.raises(tweepy.Forbidden):
        mentions(client)


@pytest.mark.parametrize(
    "wrong",
    [{"consumer_secret": "wrong"}, {"access_token_secret": "wrong"}, {"consumer_key": "wrong"}, {"access_token": "x"}],
)
def test_posts_need_a_valid_oauth1_signature(x_fake: FakeX, wrong: dict[str, str]) -> None:
    with pytest.raises(tweepy.Unauthorized):
        client_for(x_fake, **wrong).create_tweet(text="hei")
    assert x_fake.posts == []


def test_a_replayed_oauth1_nonce_is_refused(x_fake: FakeX) -> None:
    auth = OAuth1(CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_SECRET)
    nonce = "fixed-nonce-1234567890"
    url = x_fake.base_url + "/2/tweets"

    def post(text: str) -> int:
        request = requests.Request("POST", url, json={"text": text}, auth=auth).prepare()
        # Sign again with a fixed nonce: the same nonce twice is a replay.
        request.prepare_auth(OAuth1(CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_SECRET, nonce=nonce))
        with requests.Session() as session:
            return session.send(request).status_code

    assert post("eka") == 201
    assert post("toka") == 401


def test_posts_signed_for_a_bearer_token_are_refused(x_fake: FakeX) -> None:
    response = requests.post(
        x_fake.base_url + "/2/tweets",
        json={"text": "hei"},
        headers={"Authorization": f"Bearer {x_fake.bearer_token}"},
        timeout=5,
    )
    assert response.status_code == 401


# -- posting ---------------------------------------------------------------------------------


def test_a_reply_is_posted_under_the_customers_post(x_fake: FakeX, client: tweepy.Client) -> None:
    question = x_fake.mention("Missä tilaukseni?")
    response = client.create_tweet(text="Katsotaan heti!", in_reply_to_tweet_id=question)
    assert isinstance(response, requests.Response)
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["text"] == "Katsotaan heti!" and data["id"]
    assert [r["id"] for r in x_fake.replies_to(question)] == [data["id"]]
    assert x_fake.posts[0]["in_reply_to"] == question and x_fake.posts[0]["conversation_id"] == question
    assert int(data["id"]) > int(question)
    assert {"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"} <= set(response.headers)


def test_duplicate_content_is_refused(x_fake: FakeX, client: tweepy.Client) -> None:
    question = x_fake.mention("kysymys")
    client.create_tweet(text="Kiitos!", in_reply_to_tweet_id=question)
    with pytest.raises(tweepy.Forbidden) as caught:
        client.create_tweet(text="Kiitos!", in_reply_to_tweet_id=question)
    assert caught.value.response.json()["detail"] == "You are not allowed to create a Tweet with duplicate content."
    assert len(x_fake.posts) == 1


def test_length_is_counted_as_x_counts(x_fake: FakeX, client: tweepy.Client) -> None:
    url = "https://example.com/" + "a" * 200  # counts as 23
    client.create_tweet(text=url + " " + "x" * 256)  # 23 + 1 + 256 = 280
    with pytest.raises(tweepy.Forbidden) as caught:
        client.create_tweet(text="😀" * 141)  # 282
    assert "too long" in caught.value.response.json()["detail"]
    assert len(x_fake.posts) == 1


def test_a_reply_to_a_post_that_does_not_exist_is_refused(x_fake: FakeX, client: tweepy.Client) -> None:
    gone = x_fake.mention("poistan tämän")
    x_fake.delete(gone)
    with pytest.raises(tweepy.Forbidden):
        client.create_tweet(text="vastaus", in_reply_to_tweet_id=gone)
    with pytest.raises(tweepy.BadRequest):
        client.create_tweet(text="vastaus", in_reply_to_tweet_id="not-an-id")
    assert x_fake.posts == []


def test_a_scripted_failure_answers_as_told_and_posts_nothing(x_fake: FakeX, client: tweepy.Client) -> None:
    x_fake.fail_next_post(503, {"title": "Service Unavailable"}, headers={"retry-after": "7"})
    with pytest.raises(tweepy.TwitterServerError) as caught:
        client.create_tweet(text="hei")
    assert caught.value.response.headers["retry-after"] == "7"
    assert "x-rate-limit-reset" in caught.value.response.headers
    assert x_fake.posts == []
    client.create_tweet(text="hei")
    assert len(x_fake.posts) == 1


def test_a_lost_answer_still_posts(x_fake: FakeX, client: tweepy.Client) -> None:
    question = x_fake.mention("kysymys")
    x_fake.drop_next_post_answer()
    with pytest.raises(requests.ConnectionError):
        client.create_tweet(text="vastaus", in_reply_to_tweet_id=question)
    assert [r["text"] for r in x_fake.replies_to(question)] == ["vastaus"]
    client.create_tweet(text="toinen")  # the next one is answered again
    assert len(x_fake.posts) == 2


# -- rate limits -----------------------------------------------------------------------------


def test_a_window_runs_out_answers_429_and_renews_at_its_reset(x_fake: FakeX, client: tweepy.Client) -> None:
    now = [1_800_000_000.0]
    x_fake.clock = lambda: now[0]
    x_fake.set_rate_limit("mentions", limit=2, window_seconds=900)

    first = mentions(client)
    assert first.headers["x-rate-limit-limit"] == "2" and first.headers["x-rate-limit-remaining"] == "1"
    assert first.headers["x-rate-limit-reset"] == str(int(now[0] + 900))
    assert mentions(client).headers["x-rate-limit-remaining"] == "0"
    with pytest.raises(tweepy.TooManyRequests) as caught:
        mentions(client)
    assert caught.value.response.json() == {
        "title": "Too Many Requests",
        "detail": "Too Many Requests",
        "type": "about:blank",
        "status": 429,
    }
    assert caught.value.reset_time == int(now[0] + 900)
    client.create_tweet(text="posting has its own window")

    now[0] += 900
    assert mentions(client).headers["x-rate-limit-remaining"] == "1"


def test_a_block_answers_429_until_its_time(x_fake: FakeX, client: tweepy.Client) -> None:
    now = [1_800_000_000.0]
    x_fake.clock = lambda: now[0]
    x_fake.block("mentions", until=now[0] + 3600)
    with pytest.raises(tweepy.TooManyRequests) as caught:
        mentions(client)
    assert caught.value.response.headers["x-rate-limit-remaining"] == "0"
    assert caught.value.reset_time == int(now[0] + 3600)
    now[0] += 3600
    assert mentions(client).status_code == 200


def test_reset_forgets_everything(x_fake: FakeX, client: tweepy.Client) -> None:
    x_fake.mention("hei")
    x_fake.revoke_bearer()
    x_fake.reset()
    assert mentions(client).json() == {"meta": {"result_count": 0}}
    assert x_fake.posts == [] and len(x_fake.calls) == 1
