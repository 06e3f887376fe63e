"""What a ``/rota`` text says: a pure reader of the command text into one :data:`Command`.

No database, no Slack, no clock: the caller passes the team's local ``today`` (for
``today``/``tomorrow`` and the sanity limits), so every rule here can be tested with
arbitrary text. A text it cannot read raises :class:`ParseError`, naming the form the
person was trying to use, so the answer can show that form with an example.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from .timespec import DAY_MINUTES, SpecError, parse_days, parse_time, parse_time_range

#: Longest command text read at all; a longer one is refused before any parsing.
MAX_TEXT = 400
#: Most people one shift names.
MAX_PEOPLE = 20
#: Longest cover range, in days.
MAX_RANGE_DAYS = 366
#: Dates further than this from today are refused as typing mistakes (year 9999).
MAX_DATE_DISTANCE = timedelta(days=2 * 366)

#: The forms, as the help and the usage lines name them.
FORMS = ("now", "week", "list", "help", "add", "remove", "cover", "uncover", "swap", "edit")

_TOKEN = re.compile(r"<[^<>]*>|[^\s<>]+|[<>]")
_USER = re.compile(r"<@([UW][A-Z0-9]{2,})(?:\|[^<>]*)?>")
_NOT_PERSON = re.compile(r"<(?:!subteam\^[^<>]*|#[^<>]*|![a-z]+(?:\|[^<>]*)?)>")
_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_ID = re.compile(r"([scw])(\d{1,9})")


class ParseError(ValueError):
    """The text could not be read: ``key`` says why (a text key), ``form`` which usage to show.

    ``values`` are the text's own words quoted back (escape them before showing).
    """

    def __init__(self, form: str, key: str, **values: str | int) -> None:
        super().__init__(key)
        self.form = form
        self.key = key
        self.values = values


@dataclass(frozen=True, slots=True)
class Now:
    """``/rota`` or ``/rota now [post]``."""

    post: bool = False


@dataclass(frozen=True, slots=True)
class Week:
    """``/rota week [next] [post]``."""

    next: bool = False
    post: bool = False


@dataclass(frozen=True, slots=True)
class Help:
    """``/rota help``."""


@dataclass(frozen=True, slots=True)
class ListAll:
    """``/rota list``."""


@dataclass(frozen=True, slots=True)
class Edit:
    """``/rota edit``: the dialog."""


@dataclass(frozen=True, slots=True)
class Other:
    """A form another part of the plugin answers (``/rota calendar …``): its word and the rest of the text."""

    word: str
    args: str


@dataclass(frozen=True, slots=True)
class DateSpan:
    """Whole local days ``first``..``last``: the shifts starting on them."""

    first: date
    last: date


@dataclass(frozen=True, slots=True)
class TimeSpan:
    """An exact local stretch: ``(date, minutes after midnight)`` to ``(date, minutes)``, end excluded."""

    start: tuple[date, int]
    end: tuple[date, int]


Span = DateSpan | TimeSpan


@dataclass(frozen=True, slots=True)
class Add:
    """``/rota add mon-fri 08:00-16:00 @anna …``."""

    days: frozenset[int]
    start: int
    end: int
    people: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Remove:
    """``/rota remove s3`` (``kind``: ``s`` shift, ``c`` cover, ``w`` swap)."""

    kind: str
    id: int

    @property
    def label(self) -> str:
        """The short id as typed: ``s3``."""
        return f"{self.kind}{self.id}"


@dataclass(frozen=True, slots=True)
class CoverCmd:
    """``/rota cover @anna <range> @jari``: ``cover`` takes ``absent``'s shifts in ``span``."""

    absent: str
    cover: str
    span: Span


@dataclass(frozen=True, slots=True)
class Uncover:
    """``/rota uncover @anna <range>``."""

    absent: str
    span: Span


@dataclass(frozen=True, slots=True)
class SwapCmd:
    """``/rota swap @anna @jari 2026-12-05``."""

    first: str
    second: str
    day: date


Command = Now | Week | Help | ListAll | Edit | Other | Add | Remove | CoverCmd | Uncover | SwapCmd
#: The forms only leads may use, because they change the rota.
CHANGES = (Add, Remove, CoverCmd, Uncover, SwapCmd)
ChangeCommand = Add | Remove | CoverCmd | Uncover | SwapCmd


@dataclass
class _Reader:
    """The tokens of one form, read left to right."""

    form: str
    tokens: list[str]
    today: date
    position: int = field(default=0)

    def done(self) -> bool:
        return self.position >= len(self.tokens)

    def take(self) -> str:
        if self.done():
            raise ParseError(self.form, "rota.parse.missing")
        token = self.tokens[self.position]
        self.position += 1
        return token

    def finish(self) -> None:
        if not self.done():
            raise ParseError(self.form, "rota.parse.extra", text=" ".join(self.tokens[self.position :]))


def parse(text: str, today: date, *, other_words: frozenset[str] = frozenset()) -> Command:
    """Read a ``/rota`` text; raises :class:`ParseError` with the form to show when it cannot.

    ``other_words``: first words another part answers (``calendar``), passed through as :class:`Other`.
    """
    if len(text) > MAX_TEXT:
        raise ParseError("help", "rota.parse.too_long", limit=MAX_TEXT)
    tokens = _TOKEN.findall(text)
    if not tokens:
        return Now()
    word = tokens[0].lower()
    rest = tokens[1:]
    if word in other_words:
        return Other(word, text.strip()[len(tokens[0]) :].strip())
    if word == "now":
        return Now(post=_flags("now", rest, {"post"}) == {"post"})
    if word == "week":
        flags = _flags("week", rest, {"next", "post"})
        return Week(next="next" in flags, post="post" in flags)
    if word in ("help", "?"):
        _flags("help", rest, set())
        return Help()
    if word == "list":
        _flags("list", rest, set())
        return ListAll()
    if word == "edit":
        _flags("edit", rest, set())
        return Edit()
    reader = _Reader(word, rest, today)
    if word == "add":
        return _add(reader)
    if word == "remove":
        return _remove(reader)
    if word == "cover":
        return _cover(reader)
    if word == "uncover":
        return _uncover(reader)
    if word == "swap":
        return _swap(reader)
    raise ParseError("help", "rota.parse.unknown", word=tokens[0])


def _flags(form: str, rest: list[str], allowed: set[str]) -> set[str]:
    words = [t.lower() for t in rest]
    unknown = [w for w in words if w not in allowed]
    if unknown or len(set(words)) != len(words):
        raise ParseError(form, "rota.parse.extra", text=" ".join(rest))
    return set(words)


def person(form: str, token: str) -> str:
    """The user id a mention token names; refuses plain ``@names``, user groups and channels."""
    found = _USER.fullmatch(token)
    if found:
        return found.group(1)
    if _NOT_PERSON.fullmatch(token):
        raise ParseError(form, "rota.parse.not_person", text=token)
    if token.startswith("@") and len(token) > 1:
        raise ParseError(form, "rota.parse.plain_mention", name=token)
    raise ParseError(form, "rota.parse.person", text=token)


def _add(reader: _Reader) -> Add:
    days_text = reader.take()
    try:
        days = parse_days(days_text)
    except SpecError:
        raise ParseError("add", "rota.parse.days", text=days_text) from None
    times_text = reader.take()
    try:
        start, end = parse_time_range(times_text)
    except SpecError:
        raise ParseError("add", "rota.parse.times", text=times_text) from None
    people: list[str] = []
    while not reader.done():
        people.append(person("add", reader.take()))
    if not people:
        raise ParseError("add", "rota.parse.missing")
    unique = tuple(dict.fromkeys(people))
    if len(unique) > MAX_PEOPLE:
        raise ParseError("add", "rota.parse.too_many", limit=MAX_PEOPLE)
    return Add(days, start, end, unique)


def _remove(reader: _Reader) -> Remove:
    token = reader.take()
    found = _ID.fullmatch(token.lower())
    if not found:
        raise ParseError("remove", "rota.parse.id", text=token)
    reader.finish()
    return Remove(found.group(1), int(found.group(2)))


def _cover(reader: _Reader) -> CoverCmd:
    absent = person("cover", reader.take())
    if len(reader.tokens) - reader.position < 2:
        raise ParseError("cover", "rota.parse.missing")
    cover = person("cover", reader.tokens[-1])
    span = read_span("cover", reader.tokens[reader.position : -1], reader.today)
    if absent == cover:
        raise ParseError("cover", "rota.parse.same_person")
    return CoverCmd(absent, cover, span)


def _uncover(reader: _Reader) -> Uncover:
    absent = person("uncover", reader.take())
    span = read_span("uncover", reader.tokens[reader.position :], reader.today)
    return Uncover(absent, span)


def _swap(reader: _Reader) -> SwapCmd:
    first = person("swap", reader.take())
    second = person("swap", reader.take())
    day = read_date("swap", reader.take(), reader.today)
    reader.finish()
    if first == second:
        raise ParseError("swap", "rota.parse.same_person")
    return SwapCmd(first, second, day)


def read_date(form: str, token: str, today: date) -> date:
    """``today``, ``tomorrow`` or ``2026-12-01``; refuses dates that do not exist or are years away."""
    word = token.lower()
    if word == "today":
        return today
    if word == "tomorrow":
        return today + timedelta(days=1)
    found = _DATE.fullmatch(token)
    if not found:
        raise ParseError(form, "rota.parse.date", text=token)
    try:
        day = date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    except ValueError:
        raise ParseError(form, "rota.parse.no_such_date", text=token) from None
    if abs(day - today) > MAX_DATE_DISTANCE:
        raise ParseError(form, "rota.parse.date_far", text=token)
    return day


def _point(form: str, text: str, today: date) -> tuple[date | None, int | None]:
    """``"2026-12-01 12:00"``, ``"today"``, ``"12:00"`` or ``""`` → (date or None, minutes or None)."""
    parts = text.split()
    if len(parts) > 2:
        raise ParseError(form, "rota.parse.range", text=text)
    day: date | None = None
    minutes: int | None = None
    for part in parts:
        if ":" in part or (part[:1].isdigit() and "." in part and "-" not in part):
            if minutes is not None:
                raise ParseError(form, "rota.parse.range", text=text)
            try:
                minutes = parse_time(part)
            except SpecError:
                raise ParseError(form, "rota.parse.time", text=part) from None
        else:
            if day is not None or minutes is not None:
                raise ParseError(form, "rota.parse.range", text=text)
            day = read_date(form, part, today)
    return day, minutes


def read_span(form: str, tokens: list[str], today: date) -> Span:
    """A range of dates (whole shifts) or an exact stretch of time (shifts split at its ends).

    ``today``, ``2026-12-01``, ``2026-12-01..2026-12-03``: the shifts starting on those dates.
    With a time anywhere it is a stretch: ``today 12:00..`` (to the end of the day),
    ``2026-12-01 12:00..2026-12-02 18:00``, ``today 12:00..18:00``.
    """
    text = " ".join(tokens).strip()
    if not text:
        raise ParseError(form, "rota.parse.missing")
    if text.count("..") > 1:
        raise ParseError(form, "rota.parse.range", text=text)
    left, dots, right = text.partition("..")
    start_day, start_minutes = _point(form, left.strip(), today)
    end_day, end_minutes = _point(form, right.strip(), today) if dots else (None, None)
    if start_day is None:
        if start_minutes is None:
            raise ParseError(form, "rota.parse.range", text=text)
        start_day = today
    if start_minutes is None and end_minutes is None:
        last = end_day or start_day
        if last < start_day:
            raise ParseError(form, "rota.parse.reversed", text=text)
        if (last - start_day).days + 1 > MAX_RANGE_DAYS:
            raise ParseError(form, "rota.parse.range_long", days=MAX_RANGE_DAYS)
        return DateSpan(start_day, last)
    if start_minutes == DAY_MINUTES:
        raise ParseError(form, "rota.parse.time", text="24:00")
    start = (start_day, start_minutes or 0)
    if end_day is None and end_minutes is None:
        end = (start_day, DAY_MINUTES)
    elif end_minutes is None:
        assert end_day is not None
        end = (end_day, DAY_MINUTES)
    else:
        end = (end_day or start_day, end_minutes)
    if end <= start:
        raise ParseError(form, "rota.parse.reversed", text=text)
    if (end[0] - start[0]).days + 1 > MAX_RANGE_DAYS:
        raise ParseError(form, "rota.parse.range_long", days=MAX_RANGE_DAYS)
    return TimeSpan(start, end)
