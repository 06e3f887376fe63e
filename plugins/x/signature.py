"""X's Account Activity webhook authentication: the CRC challenge and ``x-twitter-webhooks-signature``.

Both are the same construction keyed with the app's consumer secret (API key secret):
``"sha256=" + base64(HMAC-SHA256(consumer_secret, message))``. For the CRC challenge the message is
the ``crc_token`` X sends in a ``GET``; for a delivery it is the *raw* ``POST`` body (verify the bytes
as received: re-serialised JSON differs in whitespace and escaping and never matches).

Because the construction is the same, a CRC answer is a signature of whatever token it was asked
for: answered for any token, the GET endpoint would sign any body an attacker chose and the POST
endpoint would accept it. :func:`crc_token_problem` therefore refuses tokens that could be, or
begin, a JSON object (``{`` and the other JSON punctuation), so no CRC answer is ever a valid
signature of a body the webhook would act on. Every comparison here runs in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

#: The header X signs deliveries in (HTTP header names are case-insensitive).
SIGNATURE_HEADER = "x-twitter-webhooks-signature"
#: Longest ``crc_token`` answered. X's tokens are short random strings (tens of characters).
MAX_CRC_TOKEN = 256

_PREFIX = "sha256="
#: base64 of a 32-byte digest: 43 characters and one ``=`` of padding.
_BASE64_DIGEST = re.compile(r"[A-Za-z0-9+/]{43}=")
#: What a CRC token may hold: printable ASCII without spaces, quotes, brackets or braces. X's tokens
#: are random printable text (unverified: X does not document the alphabet; a token this refuses
#: shows up as a failed CRC in X's developer portal and in our log). Without ``{`` no token is a JSON
#: object, so no CRC answer is the signature of a body the webhook would accept (see module doc).
_CRC_TOKEN = re.compile(r"[\x21\x23-\x5a\x5c\x5e-\x7a\x7c\x7e]+")


def _digest(consumer_secret: str, message: bytes) -> bytes:
    return hmac.new(consumer_secret.encode("utf-8"), message, hashlib.sha256).digest()


def sign(consumer_secret: str, body: bytes) -> str:
    """The ``x-twitter-webhooks-signature`` value X sends for ``body``: ``sha256=<base64>``."""
    return _PREFIX + base64.b64encode(_digest(consumer_secret, body)).decode("ascii")


def crc_token_problem(crc_token: str | None) -> str | None:
    """Why a ``crc_token`` is not answered (missing, too long, characters X does not send), or None."""
    if not crc_token:
        return "crc_token is missing"
    if len(crc_token) > MAX_CRC_TOKEN:
        return f"crc_token is longer than {MAX_CRC_TOKEN} characters"
    if not _CRC_TOKEN.fullmatch(crc_token):
        return "crc_token holds characters X does not send (spaces, quotes, brackets, braces or non-ASCII)"
    return None


def crc_response(consumer_secret: str, crc_token: str) -> dict[str, str]:
    """The JSON answer to X's challenge-response check: ``{"response_token": "sha256=<base64>"}``.

    Callers check the token with :func:`crc_token_problem` first; this only computes.
    """
    return {"response_token": sign(consumer_secret, crc_token.encode("utf-8"))}


def verify(consumer_secret: str, body: bytes, header: str | None) -> bool:
    """Tell whether ``header`` is X's signature of ``body``; a missing or malformed header gives False.

    The digests are compared in constant time. An empty consumer secret never verifies, so a
    deployment without one fails closed instead of accepting bodies signed with the empty key.
    """
    if not consumer_secret or not header or not isinstance(header, str):
        return False
    header = header.strip()
    # X sends the lower-case prefix; accept any case of it, never another algorithm.
    if header[: len(_PREFIX)].lower() != _PREFIX:
        return False
    given = header[len(_PREFIX) :]
    if not _BASE64_DIGEST.fullmatch(given):
        return False
    # The text is compared, not the decoded bytes: the last base64 character carries two unused
    # bits, and a decoder that ignores them would accept four spellings of one signature.
    expected = sign(consumer_secret, body)[len(_PREFIX) :]
    return hmac.compare_digest(expected.encode("ascii"), given.encode("ascii"))
