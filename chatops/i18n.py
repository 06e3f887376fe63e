"""The bot's words in English, Finnish and Polish.

Catalogues are plain dictionaries: a missing key in one language is a test
failure (``tests/test_texts.py``), never a silent fallback. Placeholders use
``str.format`` names and must be the same in every language. Plugins bring their
own texts (``Source.texts``), checked the same way when the bot starts.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

LANGUAGES = ("en", "fi", "pl")

CATALOG: dict[str, dict[str, str]] = {
    "en": {
        "ephemeral.already_escalated": "This conversation is already escalated.",
        "ephemeral.already_answered": "{action}: one was already sent for this message.",
        "answer.unknown_outcome": "an earlier attempt was interrupted before its outcome was known: check the platform before pressing Retry",
        "command.not_enabled": "{command} is not enabled here: ask your chatops admin to enable the plugin that provides it.",
        "error.check_failed": "The reply could not be checked ({plugin}): try again in a moment, or ask your chatops admin.",
        "ephemeral.rewritten": "Your reply was changed before sending: {reason}",
        "note.from_plugin": "🤖 {plugin}: {text}",
        "status.new": "🆕 New",
        "status.claimed": "🙋 Claimed by {user}",
        "status.replied": "💬 Replied",
        "status.resolved": "✅ Resolved",
        "status.unassigned": "Unassigned",
        "status.assignee": "Assignee: {user}",
        "status.followup": "↩️ The customer wrote again",
        "status.escalated": "🚨 Escalated",
        "status.hidden": "🙈 Hidden on {source}",
        "status.deleted": "🗑️ Deleted on {source} by the team",
        "card.received": "Received {time}",
        "card.edited": "✏️ edited {time}",
        "card.removed": "🗑️ Removed by the author {time}",
        "card.tags": "Tags: {tags}",
        "card.on_post": "On: {post}",
        "card.truncated": "Showing {shown} of {total} characters: press Full text to read it all.",
        "card.messages": "{count} messages in the thread",
        "card.priority": "⚑ *Priority {score}*: {reasons}",
        "card.priority_plain": "⚑ *Priority {score}*",
        "priority.vip": "VIP",
        "priority.negative": "negative",
        "card.unavailable": "{action} not available: {reason}",
        "card.hide_error": "⚠️ Hiding failed: {error}",
        "answer.reply": "Reply",
        "answer.private_reply": "Private message",
        "answer.sent": "✅ {kind} by {user}, {time}:",
        "answer.pending": "⏳ {kind} by {user} is being sent…",
        "answer.retrying": "⏳ {kind} by {user} not sent yet ({error}); retrying automatically.",
        "answer.failed": "⚠️ {kind} by {user} failed: {error}",
        "button.claim": "Claim",
        "button.unclaim": "Unclaim",
        "button.reply": "Reply",
        "button.private_reply": "Move to DM",
        "button.hide": "Hide",
        "button.unhide": "Unhide",
        "button.delete": "Delete",
        "button.tag": "Tag",
        "button.escalate": "Escalate",
        "button.resolve": "Resolve",
        "button.reopen": "Reopen",
        "button.retry": "Retry",
        "button.full_text": "Full text",
        "button.open": "Open original",
        "confirm.hide.title": "Hide this comment?",
        "confirm.hide.text": "Others stop seeing it; the author and their friends still do. Nothing is deleted.",
        "confirm.hide.yes": "Hide",
        "confirm.unhide.title": "Show this comment again?",
        "confirm.unhide.text": "Everyone will see the comment again.",
        "confirm.unhide.yes": "Unhide",
        "confirm.delete.title": "Delete this message?",
        "confirm.delete.text": "This platform cannot hide a message: it is deleted for everyone and cannot be restored.",
        "confirm.delete.yes": "Delete",
        "confirm.no": "Cancel",
        "modal.reply.title": "Reply",
        "modal.private_reply.title": "Move to DM",
        "modal.reply.label": "Your reply",
        "modal.reply.hint": "Posted publicly under the customer's message on {source}. At most {limit} characters.",
        "modal.private_reply.hint": "Sent privately to the customer on {source}. At most {limit} characters.",
        "modal.private_reply.notice_label": "Public note under the comment (optional)",
        "modal.private_reply.notice_default": "We've sent you a private message.",
        "modal.reply.claimed_by_other": "{user} has claimed this conversation.",
        "modal.send": "Send",
        "modal.cancel": "Cancel",
        "modal.save": "Save",
        "modal.tag.title": "Tags",
        "modal.tag.choose": "Tags",
        "modal.tag.new": "New tags (comma-separated)",
        "modal.escalate.title": "Escalate",
        "modal.escalate.label": "Why does this need a lead?",
        "modal.escalate.submit": "Escalate",
        "modal.full_text.title": "Full message",
        "error.empty": "Write something first.",
        "error.too_long": "That is {length} characters; {source} accepts at most {limit}.",
        "error.new_tags_off": "New tags are turned off; choose from the list.",
        "ephemeral.already_claimed": "Already claimed by {user}.",
        "ephemeral.not_owner": "Only {user}, who claimed it, can unclaim this.",
        "ephemeral.not_claimed": "Nobody has claimed this.",
        "ephemeral.not_failed": "That reply is no longer waiting for a retry.",
        "ephemeral.unknown": "This card no longer exists in chatops.",
        "ephemeral.unavailable": "{action} is not available: {reason}",
        "escalation.text": "🚨 {user} escalated a conversation from {source}. {leads}",
        "escalation.reason": "*Reason:* {reason}",
        "escalation.link": "Open the card",
        "thread.followup": "💬 {author} wrote:",
        "thread.answer": "↩️ {kind} sent on {source} by {user}:",
        "thread.external": "↩️ Answered on {source} by {author}:",
        "thread.edited": "✏️ {author} edited their message. It now reads:",
        "thread.removed": "🗑️ {author} removed their message.",
        "alert.title": "⚠️ {source} needs an admin: {problem}",
        # database outage
        "outage.not_saved": "⚠️ That could not be saved: the database is not taking changes just now. Please try again in a minute.",
        # issue 6: cards that always fit, and the alert when one cannot be shown
        "card.more_tags": "+{count} more",
        "card.more_answers": "{count} earlier answer(s) in the thread.",
        "card.minimal": "Short form: the full card could not be shown.",
        "alert.card_missing": (
            "a customer message is not shown in Slack (conversation {conversation}, {error}): "
            "{source} message from {author}: “{quote}”. Retry with `chatops outbox retry {job}`."
        ),
        "alert.card_stale": (
            "the card of conversation {conversation} could not be updated ({error}) and shows an old state: "
            "{source} message from {author}: “{quote}”. Retry with `chatops outbox retry {job}`."
        ),
    },
    "fi": {
        "ephemeral.already_escalated": "Tämä keskustelu on jo eskaloitu.",
        "ephemeral.already_answered": "{action}: tähän viestiin on jo lähetetty yksi.",
        "answer.unknown_outcome": "aiempi yritys keskeytyi ennen kuin sen tulos tiedettiin: tarkista palvelu ennen kuin painat Yritä uudelleen",
        "command.not_enabled": "{command} ei ole käytössä täällä: pyydä chatopsin ylläpitäjää ottamaan sen tarjoava lisäosa käyttöön.",
        "error.check_failed": "Vastausta ei voitu tarkistaa ({plugin}): yritä hetken päästä uudelleen tai kysy chatopsin ylläpitäjältä.",
        "ephemeral.rewritten": "Vastaustasi muutettiin ennen lähettämistä: {reason}",
        "note.from_plugin": "🤖 {plugin}: {text}",
        "status.new": "🆕 Uusi",
        "status.claimed": "🙋 Käsittelijä: {user}",
        "status.replied": "💬 Vastattu",
        "status.resolved": "✅ Ratkaistu",
        "status.unassigned": "Ei käsittelijää",
        "status.assignee": "Käsittelijä: {user}",
        "status.followup": "↩️ Asiakas kirjoitti uudelleen",
        "status.escalated": "🚨 Eskaloitu",
        "status.hidden": "🙈 Piilotettu palvelussa {source}",
        "status.deleted": "🗑️ Tiimi poisti viestin palvelussa {source}",
        "card.received": "Vastaanotettu {time}",
        "card.edited": "✏️ muokattu {time}",
        "card.removed": "🗑️ Kirjoittaja poisti viestin {time}",
        "card.tags": "Tunnisteet: {tags}",
        "card.on_post": "Julkaisu: {post}",
        "card.truncated": "Näytetään {shown}/{total} merkkiä: paina Koko teksti lukeaksesi kaiken.",
        "card.messages": "Ketjussa {count} viestiä",
        "card.priority": "⚑ *Kiireellisyys {score}*: {reasons}",
        "card.priority_plain": "⚑ *Kiireellisyys {score}*",
        "priority.vip": "VIP",
        "priority.negative": "negatiivinen",
        "card.unavailable": "{action} ei käytettävissä: {reason}",
        "card.hide_error": "⚠️ Piilottaminen epäonnistui: {error}",
        "answer.reply": "Vastaus",
        "answer.private_reply": "Yksityisviesti",
        "answer.sent": "✅ {kind}, {user}, {time}:",
        "answer.pending": "⏳ {kind} ({user}) lähetetään…",
        "answer.retrying": "⏳ {kind} ({user}) ei vielä lähtenyt ({error}); yritetään automaattisesti uudelleen.",
        "answer.failed": "⚠️ {kind} ({user}) epäonnistui: {error}",
        "button.claim": "Ota käsittelyyn",
        "button.unclaim": "Vapauta",
        "button.reply": "Vastaa",
        "button.private_reply": "Siirrä yksityisviestiin",
        "button.hide": "Piilota",
        "button.unhide": "Näytä",
        "button.delete": "Poista",
        "button.tag": "Tunnisteet",
        "button.escalate": "Eskaloi",
        "button.resolve": "Merkitse ratkaistuksi",
        "button.reopen": "Avaa uudelleen",
        "button.retry": "Yritä uudelleen",
        "button.full_text": "Koko teksti",
        "button.open": "Avaa alkuperäinen",
        "confirm.hide.title": "Piilotetaanko kommentti?",
        "confirm.hide.text": "Muut eivät enää näe sitä; kirjoittaja ja hänen kaverinsa näkevät. Mitään ei poisteta.",
        "confirm.hide.yes": "Piilota",
        "confirm.unhide.title": "Näytetäänkö kommentti taas?",
        "confirm.unhide.text": "Kaikki näkevät kommentin taas.",
        "confirm.unhide.yes": "Näytä",
        "confirm.delete.title": "Poistetaanko viesti?",
        "confirm.delete.text": "Tämä palvelu ei osaa piilottaa viestiä: se poistetaan kaikilta eikä sitä voi palauttaa.",
        "confirm.delete.yes": "Poista",
        "confirm.no": "Peruuta",
        "modal.reply.title": "Vastaa",
        "modal.private_reply.title": "Yksityisviesti",
        "modal.reply.label": "Vastauksesi",
        "modal.reply.hint": "Julkaistaan asiakkaan viestin alle palvelussa {source}. Enintään {limit} merkkiä.",
        "modal.private_reply.hint": "Lähetetään asiakkaalle yksityisesti palvelussa {source}. Enintään {limit} merkkiä.",
        "modal.private_reply.notice_label": "Julkinen huomautus kommentin alle (valinnainen)",
        "modal.private_reply.notice_default": "Lähetimme sinulle yksityisviestin.",
        "modal.reply.claimed_by_other": "{user} on ottanut tämän keskustelun käsittelyyn.",
        "modal.send": "Lähetä",
        "modal.cancel": "Peruuta",
        "modal.save": "Tallenna",
        "modal.tag.title": "Tunnisteet",
        "modal.tag.choose": "Tunnisteet",
        "modal.tag.new": "Uudet tunnisteet (pilkuin eroteltuna)",
        "modal.escalate.title": "Eskaloi",
        "modal.escalate.label": "Miksi tämä tarvitsee esihenkilöä?",
        "modal.escalate.submit": "Eskaloi",
        "modal.full_text.title": "Koko viesti",
        "error.empty": "Kirjoita ensin jotain.",
        "error.too_long": "Tekstissä on {length} merkkiä; {source} hyväksyy enintään {limit}.",
        "error.new_tags_off": "Uudet tunnisteet eivät ole käytössä; valitse listasta.",
        "ephemeral.already_claimed": "Jo käsittelyssä: {user}.",
        "ephemeral.not_owner": "Vain {user}, joka otti tämän käsittelyyn, voi vapauttaa sen.",
        "ephemeral.not_claimed": "Kukaan ei ole ottanut tätä käsittelyyn.",
        "ephemeral.not_failed": "Tämä vastaus ei enää odota uutta yritystä.",
        "ephemeral.unknown": "Tätä korttia ei enää ole chatopsissa.",
        "ephemeral.unavailable": "{action} ei ole käytettävissä: {reason}",
        "escalation.text": "🚨 {user} eskaloi keskustelun palvelusta {source}. {leads}",
        "escalation.reason": "*Syy:* {reason}",
        "escalation.link": "Avaa kortti",
        "thread.followup": "💬 {author} kirjoitti:",
        "thread.answer": "↩️ {user} lähetti palvelussa {source}: {kind}",
        "thread.external": "↩️ Vastattu palvelussa {source}, vastaaja {author}:",
        "thread.edited": "✏️ {author} muokkasi viestiään. Se kuuluu nyt:",
        "thread.removed": "🗑️ {author} poisti viestinsä.",
        "alert.title": "⚠️ {source} tarvitsee ylläpitäjää: {problem}",
        # database outage
        "outage.not_saved": "⚠️ Muutosta ei voitu tallentaa: tietokanta ei juuri nyt ota muutoksia vastaan. Yritä uudelleen hetken päästä.",
        # issue 6: cards that always fit, and the alert when one cannot be shown
        "card.more_tags": "+{count} muuta",
        "card.more_answers": "{count} aiempaa vastausta ketjussa.",
        "card.minimal": "Lyhyt muoto: koko korttia ei voitu näyttää.",
        "alert.card_missing": (
            "asiakkaan viesti ei näy Slackissa (keskustelu {conversation}, {error}): "
            "{source}-viesti lähettäjältä {author}: “{quote}”. Yritä uudelleen: `chatops outbox retry {job}`."
        ),
        "alert.card_stale": (
            "keskustelun {conversation} korttia ei voitu päivittää ({error}), ja se näyttää vanhan tilan: "
            "{source}-viesti lähettäjältä {author}: “{quote}”. Yritä uudelleen: `chatops outbox retry {job}`."
        ),
    },
    "pl": {
        "ephemeral.already_escalated": "Ta rozmowa jest już eskalowana.",
        "ephemeral.already_answered": "{action}: do tej wiadomości już wysłano jedną.",
        "answer.unknown_outcome": "wcześniejsza próba została przerwana, zanim poznano jej wynik: sprawdź serwis, zanim klikniesz Ponów",
        "command.not_enabled": "{command} nie jest tu włączone: poproś administratora chatops o włączenie wtyczki, która je udostępnia.",
        "error.check_failed": "Nie udało się sprawdzić odpowiedzi ({plugin}): spróbuj ponownie za chwilę albo zapytaj administratora chatops.",
        "ephemeral.rewritten": "Twoja odpowiedź została zmieniona przed wysłaniem: {reason}",
        "note.from_plugin": "🤖 {plugin}: {text}",
        "status.new": "🆕 Nowe",
        "status.claimed": "🙋 Przejęte przez {user}",
        "status.replied": "💬 Odpowiedziano",
        "status.resolved": "✅ Rozwiązane",
        "status.unassigned": "Nieprzypisane",
        "status.assignee": "Osoba: {user}",
        "status.followup": "↩️ Klient napisał ponownie",
        "status.escalated": "🚨 Eskalowane",
        "status.hidden": "🙈 Ukryte w serwisie {source}",
        "status.deleted": "🗑️ Usunięte przez zespół w serwisie {source}",
        "card.received": "Otrzymano {time}",
        "card.edited": "✏️ edytowano {time}",
        "card.removed": "🗑️ Usunięte przez autora {time}",
        "card.tags": "Tagi: {tags}",
        "card.on_post": "Post: {post}",
        "card.truncated": "Pokazano {shown} z {total} znaków: kliknij Pełny tekst, aby przeczytać całość.",
        "card.messages": "Wiadomości w wątku: {count}",
        "card.priority": "⚑ *Priorytet {score}*: {reasons}",
        "card.priority_plain": "⚑ *Priorytet {score}*",
        "priority.vip": "VIP",
        "priority.negative": "negatywny",
        "card.unavailable": "{action} niedostępne: {reason}",
        "card.hide_error": "⚠️ Ukrywanie nie powiodło się: {error}",
        "answer.reply": "Odpowiedź",
        "answer.private_reply": "Wiadomość prywatna",
        "answer.sent": "✅ {kind}, {user}, {time}:",
        "answer.pending": "⏳ {kind} ({user}) jest wysyłana…",
        "answer.retrying": "⏳ {kind} ({user}) jeszcze niewysłana ({error}); ponawiamy automatycznie.",
        "answer.failed": "⚠️ {kind} ({user}) nie powiodła się: {error}",
        "button.claim": "Przejmij",
        "button.unclaim": "Zwolnij",
        "button.reply": "Odpowiedz",
        "button.private_reply": "Przenieś do DM",
        "button.hide": "Ukryj",
        "button.unhide": "Pokaż",
        "button.delete": "Usuń",
        "button.tag": "Taguj",
        "button.escalate": "Eskaluj",
        "button.resolve": "Rozwiąż",
        "button.reopen": "Otwórz ponownie",
        "button.retry": "Ponów",
        "button.full_text": "Pełny tekst",
        "button.open": "Otwórz oryginał",
        "confirm.hide.title": "Ukryć ten komentarz?",
        "confirm.hide.text": "Inni przestaną go widzieć; autor i jego znajomi nadal go widzą. Nic nie jest usuwane.",
        "confirm.hide.yes": "Ukryj",
        "confirm.unhide.title": "Pokazać komentarz ponownie?",
        "confirm.unhide.text": "Wszyscy znów zobaczą komentarz.",
        "confirm.unhide.yes": "Pokaż",
        "confirm.delete.title": "Usunąć tę wiadomość?",
        "confirm.delete.text": "Ten serwis nie umie ukryć wiadomości: zostanie usunięta dla wszystkich i nie da się jej przywrócić.",
        "confirm.delete.yes": "Usuń",
        "confirm.no": "Anuluj",
        "modal.reply.title": "Odpowiedz",
        "modal.private_reply.title": "Przenieś do DM",
        "modal.reply.label": "Twoja odpowiedź",
        "modal.reply.hint": "Publikowana pod wiadomością klienta w serwisie {source}. Maksymalnie {limit} znaków.",
        "modal.private_reply.hint": "Wysyłana prywatnie do klienta w serwisie {source}. Maksymalnie {limit} znaków.",
        "modal.private_reply.notice_label": "Publiczna notka pod komentarzem (opcjonalnie)",
        "modal.private_reply.notice_default": "Wysłaliśmy Ci prywatną wiadomość.",
        "modal.reply.claimed_by_other": "{user} przejął(-ęła) tę rozmowę.",
        "modal.send": "Wyślij",
        "modal.cancel": "Anuluj",
        "modal.save": "Zapisz",
        "modal.tag.title": "Tagi",
        "modal.tag.choose": "Tagi",
        "modal.tag.new": "Nowe tagi (oddzielone przecinkami)",
        "modal.escalate.title": "Eskaluj",
        "modal.escalate.label": "Dlaczego potrzebny jest kierownik?",
        "modal.escalate.submit": "Eskaluj",
        "modal.full_text.title": "Pełna wiadomość",
        "error.empty": "Najpierw coś napisz.",
        "error.too_long": "Tekst ma {length} znaków; {source} przyjmuje najwyżej {limit}.",
        "error.new_tags_off": "Nowe tagi są wyłączone; wybierz z listy.",
        "ephemeral.already_claimed": "Już przejęte przez {user}.",
        "ephemeral.not_owner": "Tylko {user}, kto to przejął, może to zwolnić.",
        "ephemeral.not_claimed": "Nikt tego nie przejął.",
        "ephemeral.not_failed": "Ta odpowiedź nie czeka już na ponowienie.",
        "ephemeral.unknown": "Ta karta już nie istnieje w chatops.",
        "ephemeral.unavailable": "{action} jest niedostępne: {reason}",
        "escalation.text": "🚨 {user} eskalował(a) rozmowę z serwisu {source}. {leads}",
        "escalation.reason": "*Powód:* {reason}",
        "escalation.link": "Otwórz kartę",
        "thread.followup": "💬 {author} napisał(a):",
        "thread.answer": "↩️ {user} wysłał(a) w serwisie {source}: {kind}",
        "thread.external": "↩️ Odpowiedź w serwisie {source} od {author}:",
        "thread.edited": "✏️ {author} edytował(a) wiadomość. Teraz brzmi:",
        "thread.removed": "🗑️ {author} usunął(-ęła) swoją wiadomość.",
        "alert.title": "⚠️ {source} wymaga administratora: {problem}",
        # database outage
        "outage.not_saved": "⚠️ Nie udało się tego zapisać: baza danych chwilowo nie przyjmuje zmian. Spróbuj ponownie za minutę.",
        # issue 6: cards that always fit, and the alert when one cannot be shown
        "card.more_tags": "+{count} więcej",
        "card.more_answers": "Wcześniejsze odpowiedzi w wątku: {count}.",
        "card.minimal": "Wersja skrócona: pełnej karty nie udało się wyświetlić.",
        "alert.card_missing": (
            "wiadomość klienta nie jest widoczna w Slacku (rozmowa {conversation}, {error}): "
            "{source}, od {author}: „{quote}”. Ponów: `chatops outbox retry {job}`."
        ),
        "alert.card_stale": (
            "nie udało się zaktualizować karty rozmowy {conversation} ({error}) i pokazuje ona stary stan: "
            "{source}, od {author}: „{quote}”. Ponów: `chatops outbox retry {job}`."
        ),
    },
}


Catalog = Mapping[str, Mapping[str, str]]


def catalog_problems(catalog: Catalog) -> list[str]:
    """What is wrong with a catalogue: a language or key missing, or placeholders that differ."""
    problems = [f"no {lang!r} texts" for lang in LANGUAGES if lang not in catalog]
    english = catalog.get("en", {})
    for lang in LANGUAGES:
        texts = catalog.get(lang, {})
        problems += [f"{lang}: {key!r} missing" for key in english if key not in texts]
        problems += [f"{lang}: {key!r} not in English" for key in texts if key not in english]
        problems += [
            f"{lang}: {key!r} placeholders differ from English"
            for key, text in texts.items()
            if key in english and _fields(text) != _fields(english[key])
        ]
    return problems


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class Translator:
    """Looks up the bot's words in one language: the core's, plus texts plugins add."""

    def __init__(self, language: str = "en") -> None:
        if language not in CATALOG:
            raise ValueError(f"unsupported language {language!r} (use one of {', '.join(LANGUAGES)})")
        self.language = language
        self._words = dict(CATALOG[language])

    def add(self, catalog: Catalog) -> None:
        """Add a plugin's texts (keys prefixed with its name); every language must be complete."""
        problems = catalog_problems(catalog)
        if problems:
            raise ValueError("incomplete texts: " + "; ".join(problems))
        clash = [key for key in catalog["en"] if key in CATALOG["en"]]
        if clash:
            raise ValueError(f"texts would replace the core's: {clash}")
        # Two plugins may share texts (Facebook and Instagram both bring the Graph API's), but
        # not give one key two meanings: the later would silently change the earlier's words.
        words = catalog[self.language]
        differing = [key for key, text in words.items() if key in self._words and self._words[key] != text]
        if differing:
            raise ValueError(f"texts would replace another plugin's: {differing}")
        self._words.update(words)

    def __call__(self, key: str, **values: Any) -> str:
        """The text for ``key`` with ``values`` filled in."""
        return self._words[key].format(**values)
