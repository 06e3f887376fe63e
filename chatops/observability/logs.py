"""One log format for chatops and everything in its process (uvicorn, Bolt, SQLAlchemy, Alembic).

``text`` is ``time LEVEL logger: message`` for people; ``json`` is one JSON object a line for
log shippers, with ``time`` (ISO 8601, UTC), ``level``, ``logger``, ``message`` and, when
there is one, ``exception`` (the traceback). In both, every configured secret is replaced
by ``***`` in the finished line, tracebacks included: masking after rendering catches a
secret whichever field or argument carried it.

uvicorn is given ``log_config=None`` (``chatops.server``), so it installs no handlers of its
own; :func:`configure_logging` also takes back its loggers from any earlier dictConfig.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import IO, Literal

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
LOG_LEVELS = ("debug", "info", "warning", "error")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: uvicorn's loggers: they must reach the root handler (their own config would print in its own format).
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
#: Shorter secrets are not masked: "***" for every "abc" would make logs unreadable and hide nothing.
MIN_SECRET_LENGTH = 6
MASK = "***"


class SecretMasker:
    """Replaces secrets in finished log lines, as written and as JSON would escape them."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms: set[str] = set()
        # A secret pasted with a newline or spaces around it still works (HTTP clients strip
        # headers), so lines may carry it without them: mask that form too.
        for secret in {form for given in secrets for form in (given, given.strip())}:
            if not secret or len(secret) < MIN_SECRET_LENGTH:
                continue
            # As written, and as repr() shows it (an exception message quoting a value with
            # ``!r``, a dict printed whole): there a backslash or a newline is escaped.
            for written in (secret, repr(secret)[1:-1]):
                forms.add(written)
                # In a JSON line a quote, backslash or non-ASCII character is escaped.
                forms.add(json.dumps(written)[1:-1])
                forms.add(json.dumps(written, ensure_ascii=False)[1:-1])
        # Longest first, so a secret containing another is masked whole.
        self._forms = sorted(forms, key=len, reverse=True)

    def __call__(self, line: str) -> str:
        """``line`` with every secret replaced by ``***``."""
        for form in self._forms:
            line = line.replace(form, MASK)
        return line


class SecretMaskingFormatter(logging.Formatter):
    """Masks configured secrets in every formatted log line, tracebacks included."""

    def __init__(self, fmt: str, secrets: Sequence[str]) -> None:
        super().__init__(fmt)
        self._mask = SecretMasker(secrets)

    def format(self, record: logging.LogRecord) -> str:
        """The line as ``logging.Formatter`` renders it, secrets masked."""
        return self._mask(super().format(record))


class SecretMaskingJsonFormatter(JsonFormatter):
    """One JSON object a line: time, level, logger, message, exception; secrets masked after rendering."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger", "exc_info": "exception"},
            # uvicorn adds a copy of each message with terminal colours; a shipper wants no escape codes.
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )
        self._mask = SecretMasker(secrets)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """ISO 8601 in UTC with milliseconds: what log shippers parse without a pattern."""
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")

    def format(self, record: logging.LogRecord) -> str:
        """The JSON line, secrets masked."""
        return self._mask(super().format(record))


class AlembicChatter(logging.Filter):
    """Drops the two lines Alembic logs every time it merely looks at the schema.

    ``Context impl SQLiteImpl.`` and ``Will assume non-transactional DDL.`` come at INFO
    on every start, migration or not; ``Running upgrade …`` (a migration that changes
    something) still gets through.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """False for the chatter, True for everything else."""
        message = record.getMessage()
        return not (message.startswith("Context impl ") or message.startswith("Will assume "))


_ALEMBIC_FILTER = AlembicChatter()


def formatter_for(log_format: str, secrets: Sequence[str]) -> logging.Formatter:
    """The formatter of ``log_format`` (``text`` or ``json``), masking ``secrets``."""
    if log_format == "json":
        return SecretMaskingJsonFormatter(secrets)
    if log_format == "text":
        return SecretMaskingFormatter(TEXT_FORMAT, secrets)
    raise ValueError(f"unknown log format {log_format!r} (use one of {', '.join(LOG_FORMATS)})")


def configure_logging(
    level: str, log_format: str = "text", secrets: Sequence[str] = (), *, stream: IO[str] | None = None
) -> logging.Handler:
    """Send every log record of the process to one handler on ``stream`` (stderr), in ``log_format``.

    Replaces the root logger's handlers; uvicorn's loggers lose any handlers of their own
    and propagate to it. Returns the handler (tests read what it wrote).
    """
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(formatter_for(log_format, secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
        logger.setLevel(logging.NOTSET)
    alembic = logging.getLogger("alembic.runtime.migration")
    if _ALEMBIC_FILTER not in alembic.filters:
        alembic.addFilter(_ALEMBIC_FILTER)
    return handler
