"""X's webhook authentication: the CRC answer and ``x-twitter-webhooks-signature``, and their edges.

The fixed values were computed outside Python
(``printf '<message>' | openssl dgst -sha256 -hmac '<secret>' -binary | base64``), so they check
the construction X documents, not this module against itself.
"""

from __future__ import annotations

import base64
import json

from hypothesis import given
from hypothesis import strategies as st

from chatops_plugins.x.signature import (
    MAX_CRC_TOKEN,
    SIGNATURE_HEADER,
    crc_response,
    crc_token_problem,
    sign,
    verify,
)

SECRET = "x-consumer-secret-for-tests"
#: openssl's HMAC-SHA256 of "challenge-token" and of '{"for_user_id":"1"}' under SECRET, base64.
CRC_VECTOR = "sha256=ykF3egeIBfyIX8PUQMCywfYlTbzIUG5w/MJ0aoJh99k="
BODY = b'{"for_user_id":"1"}'
BODY_VECTOR = "sha256=WgGSRLHR9Re6nqiRvJsLcRhSky5oRNzmdgVx0DXinsU="


def test_crc_response_is_the_base64_hmac_of_the_token() -> None:
    assert crc_response(SECRET, "challenge-token") == {"response_token": CRC_VECTOR}


def test_sign_matches_the_documented_construction_and_verify_accepts_it() -> None:
    assert sign(SECRET, BODY) == BODY_VECTOR
    assert verify(SECRET, BODY, BODY_VECTOR)
    # Header values arrive with stray whitespace sometimes, and the prefix in any case.
    assert verify(SECRET, BODY, f"  {BODY_VECTOR}\t")
    assert verify(SECRET, BODY, BODY_VECTOR.replace("sha256=", "SHA256="))
    assert SIGNATURE_HEADER == "x-twitter-webhooks-signature"


def test_verify_refuses_what_is_not_xs_signature_of_these_bytes() -> None:
    digest_b64 = BODY_VECTOR.removeprefix("sha256=")
    refused = {
        "missing": None,
        "empty": "",
        "no prefix": digest_b64,
        "other algorithm": "sha1=" + digest_b64,
        "hex digest": "sha256=" + base64.b64decode(digest_b64).hex(),
        "unpadded": "sha256=" + digest_b64.rstrip("="),
        "another body": sign(SECRET, BODY + b"\n"),
        "another secret": sign(SECRET + "x", BODY),
        "doubled": BODY_VECTOR + BODY_VECTOR,
        "non-ASCII": "sha256=" + "ä" * 43 + "=",
    }
    for why, header in refused.items():
        assert not verify(SECRET, BODY, header), why
    # The URL-safe base64 alphabet is another spelling, not X's (CRC_VECTOR has a "/").
    assert verify(SECRET, b"challenge-token", CRC_VECTOR)
    assert not verify(SECRET, b"challenge-token", CRC_VECTOR.replace("/", "_"))


def test_an_empty_secret_never_verifies() -> None:
    # A deployment without the secret fails closed instead of accepting bodies signed with "".
    assert not verify("", BODY, sign("", BODY))


def test_the_unused_bits_of_the_last_character_are_not_a_second_spelling() -> None:
    # 32 bytes in base64 leave two unused bits in the 43rd character; a decoder that ignores them
    # would accept other characters there. Only X's canonical spelling is accepted.
    digest_b64 = BODY_VECTOR.removeprefix("sha256=")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = digest_b64[42]
    for neighbour in alphabet[alphabet.index(last) - alphabet.index(last) % 4 :][:4]:
        spelled = "sha256=" + digest_b64[:42] + neighbour + "="
        assert verify(SECRET, BODY, spelled) == (neighbour == last)


def test_crc_tokens_that_are_answered_and_those_that_are_not() -> None:
    assert crc_token_problem("challenge-token") is None
    assert crc_token_problem("Ab0+/=_-.~:%!") is None
    assert crc_token_problem("a" * MAX_CRC_TOKEN) is None
    for token in (None, "", "a" * (MAX_CRC_TOKEN + 1), "with space", '{"a":1}', "[1]", 'x"y', "ä", "a\nb"):
        assert crc_token_problem(token) is not None, token


@given(body=st.binary(max_size=300), position=st.integers(min_value=0), flip=st.integers(1, 255))
def test_any_change_to_the_body_is_refused(body: bytes, position: int, flip: int) -> None:
    header = sign(SECRET, body)
    assert verify(SECRET, body, header)
    if body:
        i = position % len(body)
        changed = body[:i] + bytes([body[i] ^ flip]) + body[i + 1 :]
    else:
        changed = bytes([flip])
    assert not verify(SECRET, changed, header)


@given(body=st.binary(max_size=100), position=st.integers(min_value=0), replacement=st.characters(codec="ascii"))
def test_any_change_to_the_signature_is_refused(body: bytes, position: int, replacement: str) -> None:
    header = sign(SECRET, body)
    i = position % len(header)
    changed = header[:i] + replacement + header[i + 1 :]
    # Changing the prefix's case is the one edit that keeps the same signature.
    if changed.lower() != header.lower() or changed[7:] != header[7:]:
        assert not verify(SECRET, body, changed)


@given(token=st.text(st.characters(codec="ascii"), max_size=60) | st.text(max_size=20))
def test_no_crc_answer_is_the_signature_of_a_json_object(token: str) -> None:
    # The CRC answer is sign(token): a token that parses as a JSON object (a body the webhook would
    # act on) must never be answered.
    if crc_token_problem(token) is not None:
        return
    try:
        parsed = json.loads(token)
    except ValueError:
        return
    assert not isinstance(parsed, dict)
