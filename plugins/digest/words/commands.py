"""The digest's words: the scheduled post's notes, ``/chatops digest`` and ``chatops digest`` (en, fi, pl)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "digest.cmd.usage": (
            "*/chatops digest* shows the digest to you alone:\n"
            "• `/chatops digest` or `/chatops digest yesterday`: the whole of yesterday\n"
            "• `/chatops digest today`: today so far, against yesterday up to the same time\n"
            "• `/chatops digest week`: the seven days before today, against the seven before those\n"
            "The 14-day chart comes only with the digest posted in <#{channel}>: "
            "Slack cannot attach an image to a message only you see."
        ),
        "digest.cmd.unknown": "I don't know “{word}”.",
        "digest.cmd.working.today": "Counting today's figures…",
        "digest.cmd.working.yesterday": "Counting yesterday's figures…",
        "digest.cmd.working.week": "Counting the week's figures…",
        "digest.cmd.failed": (
            "Sorry, the digest could not be put together just now. "
            "The error is in the bot's log; please try again in a moment."
        ),
        "digest.post.late": "Posted late: the bot was down when it was due ({when}).",
        "digest.post.chart_title": "Conversations and first response, {first} – {last}",
        "digest.cli.posted": "Posted to {channel}: {link}",
        "digest.cli.posted_no_link": "Posted to {channel}.",
    },
    "fi": {
        "digest.cmd.usage": (
            "*/chatops digest* näyttää koosteen vain sinulle:\n"
            "• `/chatops digest` tai `/chatops digest yesterday`: koko eilinen päivä\n"
            "• `/chatops digest today`: tämä päivä tähän asti, verrattuna eiliseen samaan kellonaikaan\n"
            "• `/chatops digest week`: tätä päivää edeltävät seitsemän päivää, verrattuna niitä "
            "edeltäviin seitsemään\n"
            "14 päivän kaavio tulee vain kanavalle <#{channel}> julkaistun koosteen mukana: "
            "Slack ei voi liittää kuvaa viestiin, jonka vain sinä näet."
        ),
        "digest.cmd.unknown": "En tunne sanaa ”{word}”.",
        "digest.cmd.working.today": "Lasken tämän päivän lukuja…",
        "digest.cmd.working.yesterday": "Lasken eilisen lukuja…",
        "digest.cmd.working.week": "Lasken viikon lukuja…",
        "digest.cmd.failed": (
            "Valitettavasti koostetta ei juuri nyt saatu koottua. "
            "Virhe on botin lokissa; yritä hetken päästä uudelleen."
        ),
        "digest.post.late": "Julkaistu myöhässä: botti ei ollut käynnissä ajastettuna aikana ({when}).",
        "digest.post.chart_title": "Keskustelut ja ensivastaus, {first} – {last}",
        "digest.cli.posted": "Julkaistu kanavalle {channel}: {link}",
        "digest.cli.posted_no_link": "Julkaistu kanavalle {channel}.",
    },
    "pl": {
        "digest.cmd.usage": (
            "*/chatops digest* pokazuje podsumowanie tylko tobie:\n"
            "• `/chatops digest` lub `/chatops digest yesterday`: cały wczorajszy dzień\n"
            "• `/chatops digest today`: dzisiaj do tej pory, w porównaniu z wczoraj do tej samej godziny\n"
            "• `/chatops digest week`: siedem dni przed dzisiejszym, w porównaniu z siedmioma "
            "wcześniejszymi\n"
            "Wykres z 14 dni jest dołączany tylko do podsumowania publikowanego na <#{channel}>: "
            "Slack nie pozwala dołączyć obrazu do wiadomości widocznej tylko dla ciebie."
        ),
        "digest.cmd.unknown": "Nie znam słowa „{word}”.",
        "digest.cmd.working.today": "Liczę dzisiejsze dane…",
        "digest.cmd.working.yesterday": "Liczę wczorajsze dane…",
        "digest.cmd.working.week": "Liczę dane z tygodnia…",
        "digest.cmd.failed": (
            "Niestety, nie udało się teraz przygotować podsumowania. Błąd jest w logu bota; spróbuj ponownie za chwilę."
        ),
        "digest.post.late": "Opublikowane z opóźnieniem: o planowanej porze ({when}) bot nie działał.",
        "digest.post.chart_title": "Rozmowy i czas pierwszej odpowiedzi, {first} – {last}",
        "digest.cli.posted": "Opublikowano na {channel}: {link}",
        "digest.cli.posted_no_link": "Opublikowano na {channel}.",
    },
}
