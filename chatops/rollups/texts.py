"""The words of roll-up cards, their listings and their buttons, in English, Finnish and Polish."""

from __future__ import annotations

TEXTS = {
    "en": {
        "rollup.alert_unposted": (
            "A roll-up card could not be posted in Slack: {error}. Its {count} comments were put back in line "
            "for cards (a new roll-up gathers them while the flood lasts)."
        ),
        "rollup.alert_unlisted": (
            "{count} comments gathered on a roll-up could not be listed in Slack: {error}. "
            "Retry with `chatops outbox retry {job}`."
        ),
        "rollup.title": "*{count} more comments on {post}*",
        "rollup.title_source": "*{count} more comments from {source}*",
        "rollup.fallback": "{count} more comments on {post}",
        "rollup.summary": (
            "{gathered} gathered since {since} · {opened} opened as cards · every one is listed in the thread"
        ),
        "rollup.urgent": "*Most urgent*",
        "rollup.newest": "*Newest*",
        "rollup.open": "Open as card",
        "rollup.pick": "Open as card…",
        "rollup.not_here": "That comment is not on this roll-up.",
        "rollup.open_top": "Open the {count} most urgent",
        "rollup.resolve_all": "Resolve all",
        "rollup.confirm_title": "Resolve every comment here?",
        "rollup.confirm_text": (
            "Every comment gathered here without a card of its own is marked resolved. No customer gets an answer."
        ),
        "rollup.confirm_yes": "Resolve all",
        "rollup.confirm_no": "Cancel",
        "rollup.resolved": "✅ Resolved by {user} at {time}",
        "rollup.listing": "Comments {first}–{last} on this roll-up",
        "rollup.listing_fallback": "{count} comments gathered on {post}",
        "rollup.opened": "Opening it as a card of its own.",
        "rollup.already_card": "That comment already has a card of its own.",
        "rollup.opened_top": "Opening {count} comments as cards.",
        "rollup.nothing_to_open": "Every comment here already has a card of its own.",
        "rollup.resolved_now": "Resolved {count} comments.",
        "rollup.already_resolved": "This roll-up was resolved already.",
    },
    "fi": {
        "rollup.alert_unposted": (
            "Koostekorttia ei voitu lähettää Slackiin: {error}. Sen {count} kommenttia palautettiin jonoon "
            "omiksi korteikseen (uusi kooste kokoaa ne, jos tulva jatkuu)."
        ),
        "rollup.alert_unlisted": (
            "{count} koosteeseen koottua kommenttia ei voitu listata Slackiin: {error}. "
            "Yritä uudelleen: `chatops outbox retry {job}`."
        ),
        "rollup.title": "*{count} kommenttia lisää: {post}*",
        "rollup.title_source": "*{count} kommenttia lisää lähteestä {source}*",
        "rollup.fallback": "{count} kommenttia lisää: {post}",
        "rollup.summary": "{gathered} koottu {since} alkaen · {opened} avattu kortiksi · jokainen on listattu ketjussa",
        "rollup.urgent": "*Kiireellisimmät*",
        "rollup.newest": "*Uusimmat*",
        "rollup.open": "Avaa korttina",
        "rollup.pick": "Avaa korttina…",
        "rollup.not_here": "Kommentti ei ole tässä koosteessa.",
        "rollup.open_top": "Avaa {count} kiireellisintä",
        "rollup.resolve_all": "Ratkaise kaikki",
        "rollup.confirm_title": "Ratkaistaanko kaikki kommentit?",
        "rollup.confirm_text": (
            "Jokainen tähän koottu kommentti, jolla ei ole omaa korttia, "
            "merkitään ratkaistuksi. Kukaan asiakas ei saa vastausta."
        ),
        "rollup.confirm_yes": "Ratkaise kaikki",
        "rollup.confirm_no": "Peruuta",
        "rollup.resolved": "✅ Ratkaissut {user} klo {time}",
        "rollup.listing": "Kommentit {first}–{last} tässä koosteessa",
        "rollup.listing_fallback": "{count} kommenttia koottu: {post}",
        "rollup.opened": "Avataan omaksi kortikseen.",
        "rollup.already_card": "Kommentilla on jo oma kortti.",
        "rollup.opened_top": "Avataan {count} kommenttia korteiksi.",
        "rollup.nothing_to_open": "Jokaisella kommentilla on jo oma kortti.",
        "rollup.resolved_now": "{count} kommenttia ratkaistu.",
        "rollup.already_resolved": "Tämä kooste on jo ratkaistu.",
    },
    "pl": {
        "rollup.alert_unposted": (
            "Nie udało się wysłać karty zbioru do Slacka: {error}. Jej {count} komentarzy wróciło do kolejki "
            "po własne karty (nowy zbiór zbierze je, jeśli zalew trwa)."
        ),
        "rollup.alert_unlisted": (
            "{count} komentarzy zebranych w zbiorze nie udało się wypisać w Slacku: {error}. "
            "Ponów: `chatops outbox retry {job}`."
        ),
        "rollup.title": "*{count} kolejnych komentarzy do {post}*",
        "rollup.title_source": "*{count} kolejnych komentarzy z {source}*",
        "rollup.fallback": "{count} kolejnych komentarzy do {post}",
        "rollup.summary": "{gathered} zebranych od {since} · {opened} otwartych jako karty · każdy jest w wątku",
        "rollup.urgent": "*Najpilniejsze*",
        "rollup.newest": "*Najnowsze*",
        "rollup.open": "Otwórz jako kartę",
        "rollup.pick": "Otwórz jako kartę…",
        "rollup.not_here": "Tego komentarza nie ma w tym zbiorze.",
        "rollup.open_top": "Otwórz {count} najpilniejszych",
        "rollup.resolve_all": "Rozwiąż wszystkie",
        "rollup.confirm_title": "Rozwiązać wszystkie komentarze?",
        "rollup.confirm_text": (
            "Każdy zebrany tu komentarz bez własnej karty zostanie oznaczony jako "
            "rozwiązany. Żaden klient nie dostanie odpowiedzi."
        ),
        "rollup.confirm_yes": "Rozwiąż wszystkie",
        "rollup.confirm_no": "Anuluj",
        "rollup.resolved": "✅ Rozwiązane przez {user} o {time}",
        "rollup.listing": "Komentarze {first}–{last} w tym zbiorze",
        "rollup.listing_fallback": "{count} komentarzy zebranych do {post}",
        "rollup.opened": "Otwieram jako osobną kartę.",
        "rollup.already_card": "Ten komentarz ma już własną kartę.",
        "rollup.opened_top": "Otwieram {count} komentarzy jako karty.",
        "rollup.nothing_to_open": "Każdy komentarz ma już własną kartę.",
        "rollup.resolved_now": "Rozwiązano {count} komentarzy.",
        "rollup.already_resolved": "Ten zbiór został już rozwiązany.",
    },
}
