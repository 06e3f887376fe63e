"""HMAC-SHA256 signatures for the webhook: over the raw body, ``sha256=<hex>``."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Chatops-Signature"
PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    """The header value for ``body``: ``sha256=`` and the hex HMAC-SHA256 with ``secret``."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """True when ``header`` is the signature of exactly these raw bytes (constant-time compare)."""
    if not header or not header.startswith(PREFIX):
        return False
    # Bytes, not str: compare_digest refuses non-ASCII str, and a forged header must get 401, not 500.
    return hmac.compare_digest(sign(secret, body).encode(), header.strip().encode("utf-8", "replace"))
