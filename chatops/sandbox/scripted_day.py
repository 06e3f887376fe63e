"""A day at Kahvila Aurinko in customers' comments: what "Play a scripted day" replays in ``chatops sandbox``.

A small Helsinki café with a web shop for its coffee hears from customers in English, Finnish
and Polish: questions (gluten-free, opening hours, oat milk, catering, shipping), praise, an
order complaint that turns angry and comes back when nobody answers, a troll, and follow-ups on
earlier comments. :data:`SCRIPT` is that day, in order; :func:`play` posts it through the
sandbox's sources as customers would, with the pauses between comments (scaled by ``speed``).

Each comment names the source it was written for. When the sandbox has no such source (the
plugin is not installed or not sandbox-capable), it goes to another present one, spreading the
day over them, and to the webhook only when no other is there. A follow-up goes where the
comment it answers went, under it. One comment failing (a source refusing it) is reported in the
:class:`PlayResult`; the rest of the day carries on.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from .sources import SandboxSource

log = logging.getLogger(__name__)

#: The source every sandbox has; scripted comments go there only when no other source is present.
WEBHOOK = "webhook"


@dataclass(frozen=True)
class ScriptedComment:
    """One customer's comment in the scripted day.

    Attributes:
        source: the key of the source it was written for ("facebook", "x", …).
        author: the customer's name.
        text: what they write.
        language: the language it is written in.
        reply_to: the index in the script of the earlier comment this one follows up, or None.
        delay: seconds after the previous comment (before ``speed`` scales it).
    """

    source: str
    author: str
    text: str
    language: Literal["en", "fi", "pl"]
    reply_to: int | None = None
    delay: float = 4.0


SCRIPT: Sequence[ScriptedComment] = (
    ScriptedComment(
        "facebook",
        "Aino Virtanen",
        "Hei! Onko teillä gluteenittomia leivonnaisia? Tulen huomenna kahville ystävän kanssa, jolla on keliakia.",
        "fi",
        delay=1.0,
    ),
    ScriptedComment(
        "instagram",
        "Marta Kowalska",
        "Byłam u Was w sobotę – najlepsza szarlotka, jaką jadłam od lat! 😍 "
        "Czy można ją zamówić na urodziny, na około 12 osób?",
        "pl",
    ),
    ScriptedComment(
        "x",
        "Tom Becker",
        "Ordered two bags of your house blend last Monday (order #4471) and the tracking hasn't moved "
        "in five days. Any idea what's going on?",
        "en",
        delay=5.0,
    ),
    ScriptedComment(
        "discord",
        "Ville Laine",
        "Moi! Mihin aikaan olette auki sunnuntaisin? Nettisivuilla lukee eri aika kuin Googlessa.",
        "fi",
    ),
    ScriptedComment(
        "facebook",
        "Piotr Nowak",
        "Zamówiłem kawę przez Waszą stronę dwa tygodnie temu i do dziś nic nie dostałem. "
        "Trzy maile bez odpowiedzi! To skandal, żądam zwrotu pieniędzy.",
        "pl",
        delay=6.0,
    ),
    ScriptedComment(
        "instagram",
        "Emma Lindqvist",
        "This latte art though ☕😍 Best flat white in Helsinki, hands down.",
        "en",
    ),
    ScriptedComment(
        "x",
        "Totuuden Torvi",
        "Ylihinnoiteltua hipsterikahvia. Kuka oikeasti maksaa kuusi euroa kupillisesta kuumaa vettä? 🤡 "
        "Älkää menkö sinne.",
        "fi",
        delay=5.0,
    ),
    ScriptedComment(
        "webhook",
        "Laura Smith",
        "Hi! Do you do catering for office meetings? We'd need coffee and pastries for about 25 people "
        "on Friday the 12th.",
        "en",
        delay=5.0,
    ),
    ScriptedComment(
        "facebook",
        "Piotr Nowak",
        "Halo? Minęły dwie godziny i nadal cisza. Tak traktujecie klientów?",
        "pl",
        reply_to=4,
        delay=6.0,
    ),
    ScriptedComment(
        "discord",
        "Kasia Zielińska",
        "Cześć! Czy macie mleko owsiane albo sojowe? Nie mogę pić mleka krowiego.",
        "pl",
    ),
    ScriptedComment(
        "facebook",
        "Mikko Korhonen",
        "Sama kysymys! Onko teillä myös laktoosittomia vaihtoehtoja?",
        "fi",
        reply_to=0,
    ),
    ScriptedComment(
        "x",
        "Sanna Heikkinen",
        "Kiitos ihanasta palvelusta tänään! Tyttäreni sai synttärikakun kynttilöineen, "
        "ja koko henkilökunta lauloi hänelle. ☀️",
        "fi",
        delay=5.0,
    ),
    ScriptedComment(
        "webhook",
        "Marek Wiśniewski",
        "Dzień dobry, czy mogę odebrać zamówienie internetowe osobiście w kawiarni? Numer zamówienia: 4502.",
        "pl",
    ),
    ScriptedComment(
        "discord",
        "Ville Laine",
        "Ja onko keittiö auki koko päivän, vai loppuuko lounas aiemmin?",
        "fi",
        reply_to=3,
    ),
    ScriptedComment(
        "instagram",
        "James O'Connor",
        "Do you ship your beans to Ireland? I'd love to get the Ethiopia roast at home.",
        "en",
    ),
)


@dataclass(frozen=True)
class FailedComment:
    """A scripted comment that was not posted, and why.

    Attributes:
        index: its index in the script.
        source: the key of the source it was sent to.
        author: the customer's name.
        reason: what the source said (or why it was not sent: its earlier comment was not posted).
    """

    index: int
    source: str
    author: str
    reason: str


@dataclass(frozen=True)
class PlayResult:
    """What a played day did: how many comments were posted, and which were not.

    Attributes:
        posted: how many comments the sources took.
        failed: the comments that were not posted, in script order.
        ids: for each posted comment's index, the source's key and the comment's id there.
    """

    posted: int
    failed: tuple[FailedComment, ...] = ()
    ids: Mapping[int, tuple[str, str]] = field(default_factory=dict)


def choose_source(index: int, comment: ScriptedComment, sources: Sequence[SandboxSource]) -> SandboxSource:
    """The source a top-level scripted comment goes to: its own when present, else another, the webhook last.

    Comments whose source is missing are spread over the other present sources by their index,
    so a sandbox with only Facebook and the webhook still gets most of the day on Facebook.
    """
    by_key = {source.key: source for source in sources}
    if comment.source in by_key:
        return by_key[comment.source]
    others = [source for source in sources if source.key != WEBHOOK]
    if others:
        return others[index % len(others)]
    if WEBHOOK in by_key:
        return by_key[WEBHOOK]
    raise ValueError("the scripted day needs at least one source")


async def _pause(seconds: float) -> None:
    """Wait between two comments (a seam for tests, which record the pauses instead of waiting)."""
    await asyncio.sleep(seconds)


async def play(
    sources: Sequence[SandboxSource],
    bot_url: str,
    *,
    speed: float = 1.0,
    script: Sequence[ScriptedComment] = SCRIPT,
) -> PlayResult:
    """Post ``script`` through ``sources`` to the bot at ``bot_url``, in order, pausing ``delay / speed`` before each.

    ``speed=2`` plays the day twice as fast. A comment a source refuses (or fails on) is reported
    in the result and the day goes on; a follow-up of a comment that was not posted is not sent.
    """
    if not speed > 0:
        raise ValueError(f"speed must be more than 0, got {speed}")
    if not sources:
        raise ValueError("the scripted day needs at least one source")
    for index, comment in enumerate(script):
        if comment.reply_to is not None and not 0 <= comment.reply_to < index:
            raise ValueError(f"scripted comment {index} follows up {comment.reply_to}, which does not come before it")
    ids: dict[int, tuple[str, str]] = {}
    used: dict[int, SandboxSource] = {}
    failed: list[FailedComment] = []
    for index, comment in enumerate(script):
        await _pause(comment.delay / speed)
        reply_to: str | None = None
        if comment.reply_to is None:
            source = choose_source(index, comment, sources)
        else:
            source = used.get(comment.reply_to) or choose_source(comment.reply_to, script[comment.reply_to], sources)
            if comment.reply_to not in ids:
                reason = f"not sent: the comment it follows up (#{comment.reply_to}) was not posted"
                failed.append(FailedComment(index, source.key, comment.author, reason))
                continue
            reply_to = ids[comment.reply_to][1]
        used[index] = source
        try:
            comment_id = await source.post(bot_url, comment.author, comment.text, reply_to=reply_to)
        except Exception as exc:  # one comment failing must not end the day; the result says why
            reason = str(exc) or type(exc).__name__
            log.warning("scripted day: comment %d on %s was not posted: %s", index, source.key, reason)
            failed.append(FailedComment(index, source.key, comment.author, reason))
            continue
        ids[index] = (source.key, comment_id)
    return PlayResult(posted=len(ids), failed=tuple(failed), ids=ids)


#: What customers write in a crisis hour: the web shop charged their cards twice. ``{order}`` is filled in.
_CRISIS_LINES: Sequence[tuple[Literal["en", "fi", "pl"], str]] = (
    ("en", "I was charged twice for order #{order}. What is going on?"),
    ("en", "Double charge on my card for #{order}!! Fix this now or I want a refund."),
    ("en", "Same here, two payments for order #{order}. Is the shop hacked?"),
    ("en", "Still no answer about the double payment (#{order}). Talking to my lawyer next."),
    ("fi", "Kortiltani veloitettiin kaksi kertaa tilauksesta #{order}. Mitä tapahtui?"),
    ("fi", "Tuplaveloitus tilauksesta #{order}! Haluan hyvityksen heti."),
    ("fi", "Sama täällä, kaksi maksua tilauksesta #{order}. Onko kauppa hakkeroitu?"),
    ("pl", "Pobraliście dwa razy opłatę za zamówienie #{order}. Co się dzieje?"),
    ("pl", "Podwójne obciążenie karty za #{order}! Żądam zwrotu pieniędzy."),
    ("pl", "U mnie też dwie płatności za zamówienie #{order}. Czy sklep został zhakowany?"),
)
_CRISIS_NAMES = (
    "Aino", "Mikko", "Laura", "Jussi", "Emma", "Oskari", "Kasia", "Piotr", "Agnieszka", "Tomasz",
    "Sarah", "James", "Olivia", "Lucas", "Sofia", "Eero", "Helmi", "Marek", "Zofia", "Noah",
)  # fmt: skip
#: The keywords the sandbox's ``[priority]`` gives, so that the crisis shows urgent comments carded first.
CRISIS_KEYWORDS = ("refund*", "lawyer*", "hyvity*", "zwrot*")


def crisis_hour(count: int = 120, *, seconds: float = 30.0, seed: int = 7) -> Sequence[ScriptedComment]:
    """A flood on one post: ``count`` customers write about a double charge within ``seconds``.

    Enough to pass the default roll-up threshold, so the sandbox shows a roll-up card with its
    listing, the urgent comments (a refund demanded, a lawyer named) on cards of their own first,
    and the crisis banner while the backlog lasts. Always the same comments for the same ``seed``.
    """
    if count < 1:
        raise ValueError(f"a crisis needs at least one comment, got {count}")
    pick = random.Random(seed)  # noqa: S311 - the same crowd every time, not a secret
    delay = seconds / count
    comments: list[ScriptedComment] = []
    for index in range(count):
        language, line = _CRISIS_LINES[pick.randrange(len(_CRISIS_LINES))]
        name = f"{_CRISIS_NAMES[index % len(_CRISIS_NAMES)]} {index + 1}"
        text = line.format(order=4400 + index)
        comments.append(ScriptedComment("facebook", name, text, language, delay=0.0 if index == 0 else delay))
    return tuple(comments)
