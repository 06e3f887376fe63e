"""Shared Meta Graph API layer used by the Facebook Page and Instagram plugins.

``client`` is the async Graph API client (HTTP, token proof, paging), ``errors`` its error classes
and how Graph's error answers map to them, ``events`` reads webhook payloads, ``source_base`` is what
both sources share (webhook, polling, ingestion, error handling), ``signature`` checks webhook
signatures, and ``testing`` (imported on demand: it needs Starlette and uvicorn) is a Graph fake over
real HTTP plus webhook payload builders.
"""

from .client import DEFAULT_API_VERSION, GraphClient
from .errors import (
    GraphError,
    InvalidRequest,
    PermissionDenied,
    RateLimited,
    TokenError,
    TransientError,
)
from .signature import sign, verify, verify_token_matches

__all__ = [
    "DEFAULT_API_VERSION",
    "GraphClient",
    "GraphError",
    "InvalidRequest",
    "PermissionDenied",
    "RateLimited",
    "TokenError",
    "TransientError",
    "sign",
    "verify",
    "verify_token_matches",
]
