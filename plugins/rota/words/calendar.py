"""The rota plugin's words for calendar (en, fi, pl); keys start with ``rota.``."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "rota.calendar.team_name": "Team rota",
        "rota.calendar.personal_name": "Shifts: {name}",
        "rota.calendar.team_summary": "On shift: {people}",
        "rota.calendar.personal_summary": "On shift",
        "rota.calendar.personal_summary_with": "On shift with {people}",
        "rota.calendar.covered": "Covered: planned {planned}, now {people}.",
        "rota.calendar.swapped": "Swapped: planned {planned}, now {people}.",
        "rota.calendar.nobody": "nobody",
        "rota.calendar.intro": 'Your rota in your own calendar: subscribe to a link ("Add calendar from URL").',
        "rota.calendar.reset_done": (
            "Your personal calendar link is new and the old one no longer works. Subscribe again:"
        ),
        "rota.calendar.personal_link": "• Your shifts: {url}",
        "rota.calendar.team_link": "• The whole team: {url}",
        "rota.calendar.private": (
            "Anyone with a link can see the shifts, so keep it to yourself. "
            "Leaked? `/rota calendar reset` gives you a new personal link."
        ),
        "rota.calendar.no_public_url": (
            "These are paths on the bot's web server: an admin should set `plugins.rota.public_url` "
            "(e.g. https://chatops.example.com) so that full links show here."
        ),
        "rota.calendar.usage": (
            "`/rota calendar` shows your calendar links; "
            "`/rota calendar reset` gives you a new personal link (the old one stops working)."
        ),
    },
    "fi": {
        "rota.calendar.team_name": "Tiimin vuorolista",
        "rota.calendar.personal_name": "Vuorot: {name}",
        "rota.calendar.team_summary": "Vuorossa: {people}",
        "rota.calendar.personal_summary": "Vuorossa",
        "rota.calendar.personal_summary_with": "Vuorossa, mukana {people}",
        "rota.calendar.covered": "Sijaisuus: suunniteltu {planned}, nyt {people}.",
        "rota.calendar.swapped": "Vuoronvaihto: suunniteltu {planned}, nyt {people}.",
        "rota.calendar.nobody": "ei ketään",
        "rota.calendar.intro": 'Vuorolista omaan kalenteriisi: tilaa linkki ("Lisää kalenteri URL-osoitteesta").',
        "rota.calendar.reset_done": (
            "Henkilökohtainen kalenterilinkkisi on uusi, eikä vanha enää toimi. Tilaa uudelleen:"
        ),
        "rota.calendar.personal_link": "• Omat vuorosi: {url}",
        "rota.calendar.team_link": "• Koko tiimi: {url}",
        "rota.calendar.private": (
            "Kuka tahansa linkin saanut näkee vuorot, joten pidä se omana tietonasi. "
            "Vuotiko se? `/rota calendar reset` antaa sinulle uuden henkilökohtaisen linkin."
        ),
        "rota.calendar.no_public_url": (
            "Nämä ovat polkuja botin verkkopalvelimella: ylläpitäjän pitää asettaa `plugins.rota.public_url` "
            "(esim. https://chatops.example.com), jotta tässä näkyvät kokonaiset linkit."
        ),
        "rota.calendar.usage": (
            "`/rota calendar` näyttää kalenterilinkkisi; "
            "`/rota calendar reset` antaa uuden henkilökohtaisen linkin (vanha lakkaa toimimasta)."
        ),
    },
    "pl": {
        "rota.calendar.team_name": "Grafik zespołu",
        "rota.calendar.personal_name": "Dyżury: {name}",
        "rota.calendar.team_summary": "Na dyżurze: {people}",
        "rota.calendar.personal_summary": "Dyżur",
        "rota.calendar.personal_summary_with": "Dyżur z: {people}",
        "rota.calendar.covered": "Zastępstwo: w planie {planned}, teraz {people}.",
        "rota.calendar.swapped": "Zamiana: w planie {planned}, teraz {people}.",
        "rota.calendar.nobody": "nikt",
        "rota.calendar.intro": "Grafik w Twoim kalendarzu: zasubskrybuj link („Dodaj kalendarz z adresu URL”).",
        "rota.calendar.reset_done": (
            "Twój osobisty link do kalendarza jest nowy, a stary już nie działa. Zasubskrybuj ponownie:"
        ),
        "rota.calendar.personal_link": "• Twoje dyżury: {url}",
        "rota.calendar.team_link": "• Cały zespół: {url}",
        "rota.calendar.private": (
            "Każdy, kto ma link, widzi dyżury, więc zachowaj go dla siebie. "
            "Wyciekł? `/rota calendar reset` da Ci nowy link osobisty."
        ),
        "rota.calendar.no_public_url": (
            "To ścieżki na serwerze WWW bota: administrator powinien ustawić `plugins.rota.public_url` "
            "(np. https://chatops.example.com), aby pokazywać tu pełne linki."
        ),
        "rota.calendar.usage": (
            "`/rota calendar` pokazuje Twoje linki do kalendarza; "
            "`/rota calendar reset` daje nowy link osobisty (stary przestaje działać)."
        ),
    },
}
