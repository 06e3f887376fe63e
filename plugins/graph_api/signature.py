"""Meta webhook authentication: the ``X-Hub-Signature-256`` HMAC and the verify-token handshake.

Meta signs every webhook POST with ``X-Hub-Signature-256: sha256=<hex>``, the HMAC-SHA256 of the
*raw* request body keyed with the app secret. Verify the bytes exactly as received: re-serialised
JSON differs in whitespace and escaping and never matches. All comparisons here run in constant time.
"""

from __future__ import annotations

import hashlib
import hmac

#: Name of the header Meta puts the signature in.
SIGNATURE_HEADER = "X-Hub-Signature-256"

_PREFIX = "sha256="
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def sign(app_secret: str, raw_body: bytes) -> str:
    """Return the ``X-Hub-Signature-256`` value Meta would send for ``raw_body``: ``sha256=<hex>``."""
    digest = hmac.new(app_secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
    return _PREFIX + digest


def verify(app_secret: str, raw_body: bytes, header: str | None) -> bool:
    """Tell whether ``header`` is a valid signature of ``raw_body``; missing or malformed headers give False.

    The comparison is constant time. An empty app secret never verifies, so a deployment that forgot
    to configure it fails closed instead of accepting bodies signed with the empty key.
    """
    if not app_secret or not header or not isinstance(header, str):
        return False
    header = header.strip()
    # Meta sends the lower-case prefix; accept any case of the prefix, never a different algorithm.
    if len(header) != len(_PREFIX) + 64 or header[: len(_PREFIX)].lower() != _PREFIX:
        return False
    given = header[len(_PREFIX) :]
    if not set(given) <= _HEX_DIGITS:
        return False
    expected = sign(app_secret, raw_body)[len(_PREFIX) :]
    return hmac.compare_digest(expected.encode("ascii"), given.lower().encode("ascii"))


def verify_token_matches(expected: str, given: str | None) -> bool:
    """Tell whether the ``hub.verify_token`` of a subscription handshake equals ours, in constant time.

    An empty expected token never matches (fail closed when the setting is missing).
    """
    if not expected or given is None or not isinstance(given, str):
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))
