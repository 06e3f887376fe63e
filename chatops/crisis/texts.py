"""The words of the crisis banner and the backlog alert, in the team's languages."""

from __future__ import annotations

TEXTS = {
    "en": {
        "crisis.banner": (
            ":rotating_light: *Busy inbox: {total} comments are waiting for a card* "
            "(the oldest for {age}; {urgent} urgent). Urgent ones get their cards first.{rolled_up}{overflow}"
        ),
        "crisis.banner_rolled_up": " {count} of them are gathered on roll-up cards still to be posted.",
        "crisis.banner_overflow": " New cards also go to {channels}.",
        "crisis.banner_updated": "Updated {time}; redrawn at most every {seconds} s.",
        "crisis.over": (
            ":white_check_mark: *The rush is over*: comments get their cards as they arrive again "
            "(at most {peak} waited; {started} to {ended})."
        ),
        "crisis.backlog_alert": (
            "cards are late: {total} comments wait for a card and the oldest has waited {age} "
            "(the limit is {limit}); {urgent} urgent ones get their cards first."
        ),
    },
    "fi": {
        "crisis.banner": (
            ":rotating_light: *Ruuhka: {total} kommenttia odottaa korttia* "
            "(vanhin {age}; kiireellisiä {urgent}). Kiireelliset saavat korttinsa ensin.{rolled_up}{overflow}"
        ),
        "crisis.banner_rolled_up": " Niistä {count} on koottu koontikorteille, joita ei ole vielä julkaistu.",
        "crisis.banner_overflow": " Uusia kortteja menee myös kanaville {channels}.",
        "crisis.banner_updated": "Päivitetty {time}; päivittyy enintään {seconds} s välein.",
        "crisis.over": (
            ":white_check_mark: *Ruuhka on ohi*: kommentit saavat taas korttinsa heti "
            "(enimmillään {peak} odotti; {started}–{ended})."
        ),
        "crisis.backlog_alert": (
            "kortit ovat myöhässä: {total} kommenttia odottaa korttia ja vanhin on odottanut {age} "
            "(raja on {limit}); kiireelliset {urgent} saavat korttinsa ensin."
        ),
    },
    "pl": {
        "crisis.banner": (
            ":rotating_light: *Duży ruch: {total} komentarzy czeka na kartę* "
            "(najstarszy od {age}; pilnych: {urgent}). Pilne dostają karty najpierw.{rolled_up}{overflow}"
        ),
        "crisis.banner_rolled_up": " {count} z nich zebrano na kartach zbiorczych, które jeszcze nie są opublikowane.",
        "crisis.banner_overflow": " Nowe karty trafiają też na {channels}.",
        "crisis.banner_updated": "Zaktualizowano {time}; odświeżane najwyżej co {seconds} s.",
        "crisis.over": (
            ":white_check_mark: *Ruch wrócił do normy*: komentarze znów od razu dostają karty "
            "(czekało najwyżej {peak}; od {started} do {ended})."
        ),
        "crisis.backlog_alert": (
            "karty się spóźniają: {total} komentarzy czeka na kartę, a najstarszy czeka {age} "
            "(limit to {limit}); pilne ({urgent}) dostają karty najpierw."
        ),
    },
}


def format_age(seconds: float) -> str:
    """A wait in words every language of the catalog reads: ``45 s``, ``12 min``, ``2 h 5 min``."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes = whole // 60
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


__all__ = ["TEXTS", "format_age"]
