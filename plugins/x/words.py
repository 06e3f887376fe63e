"""The X plugin's words in English, Finnish and Polish.

The ``x.reply.*`` texts are what a card says when X refused or failed an answer (the core shows
them after "failed:" or inside "not sent yet (…); retrying automatically"); ``x.alert.*`` go to
the ops channel. Config keys and environment names are placeholders, never translated.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "x.length_note": "X counts a link as 23 characters and most emoji and Chinese, Japanese or Korean characters as 2.",
        "x.reply.duplicate": "X refused it as a duplicate of a post the account has already made ({detail}). Reword the reply and send it again: Retry would send the same text.",
        "x.reply.not_allowed": "X does not allow this reply ({detail}): the post may be deleted or hidden, or its author limited who can reply.",
        "x.reply.suspended": "X says the account is suspended ({detail}): nothing can be posted until X lifts the suspension.",
        "x.reply.token": "X rejected the account's access token ({detail}): it was revoked or has expired. An admin must generate a new access token and secret in the X developer portal, set {keys} (environment {env}) and restart chatops; waiting answers are sent after that.",
        "x.reply.permission": 'X refused to post for lack of permission ({detail}): an admin must set the X app\'s permissions to "Read and write" in the developer portal, then generate a new access token and secret (the old ones keep the old permission), set {keys} (environment {env}) and restart chatops.',
        "x.reply.rate_limited": "X's limit on posts is used up ({detail}); X allows more at {time} UTC",
        "x.reply.server": "X had a problem ({detail})",
        "x.reply.unreachable": "X could not be reached ({detail}); nothing was sent",
        "x.reply.refused": "X refused the reply: {detail}",
        "x.reply.lost": "X's answer was lost ({detail}) and the reply is not among the account's replies to this post: it may have been posted anyway. Check X before pressing Retry.",
        "x.reply.usage_capped": "X says the app's usage cap is spent ({detail}): nothing can be posted until the cap resets or an admin raises the app's plan in the X developer portal.",
        "x.alert.usage_capped": "X refuses posts because the X app's usage cap is spent ({detail}): replies fail until the cap resets or an admin raises the plan in the X developer portal.",
        "x.alert.suspended": "The X account {account} is suspended ({detail}): replies fail until X lifts the suspension. Contact X; chatops cannot fix this.",
    },
    "fi": {
        "x.length_note": "X laskee linkin 23 merkiksi ja useimmat emojit sekä kiinan, japanin ja korean merkit 2 merkiksi.",
        "x.reply.duplicate": "X hylkäsi sen, koska tili on jo julkaissut saman viestin ({detail}). Muotoile vastaus toisin ja lähetä se uudelleen: Yritä uudelleen lähettäisi saman tekstin.",
        "x.reply.not_allowed": "X ei salli tätä vastausta ({detail}): viesti on ehkä poistettu tai piilotettu, tai sen kirjoittaja on rajannut, kuka saa vastata.",
        "x.reply.suspended": "X:n mukaan tili on jäädytetty ({detail}): mitään ei voi julkaista ennen kuin X poistaa jäädytyksen.",
        "x.reply.token": "X hylkäsi tilin käyttöoikeustunnuksen ({detail}): se on peruttu tai vanhentunut. Ylläpitäjän on luotava uusi access token ja secret X:n kehittäjäportaalissa, asetettava {keys} (ympäristömuuttujat {env}) ja käynnistettävä chatops uudelleen; odottavat vastaukset lähetetään sen jälkeen.",
        "x.reply.permission": 'X kieltäytyi julkaisemasta puuttuvan oikeuden vuoksi ({detail}): ylläpitäjän on vaihdettava X-sovelluksen oikeudeksi "Read and write" kehittäjäportaalissa, luotava sitten uusi access token ja secret (vanhoilla on yhä vanha oikeus), asetettava {keys} (ympäristömuuttujat {env}) ja käynnistettävä chatops uudelleen.',
        "x.reply.rate_limited": "X:n julkaisuraja on täynnä ({detail}); X sallii lisää klo {time} UTC",
        "x.reply.server": "X:ssä oli ongelma ({detail})",
        "x.reply.unreachable": "X:ään ei saatu yhteyttä ({detail}); mitään ei lähetetty",
        "x.reply.refused": "X hylkäsi vastauksen: {detail}",
        "x.reply.lost": "X:n vastaus katosi ({detail}), eikä vastausta löydy tilin vastauksista tähän viestiin: se on ehkä silti julkaistu. Tarkista X ennen kuin painat Yritä uudelleen.",
        "x.reply.usage_capped": "X:n mukaan sovelluksen käyttökiintiö on käytetty ({detail}): mitään ei voi julkaista ennen kuin kiintiö nollautuu tai ylläpitäjä nostaa sovelluksen tasoa X:n kehittäjäportaalissa.",
        "x.alert.usage_capped": "X hylkää julkaisut, koska X-sovelluksen käyttökiintiö on käytetty ({detail}): vastaukset epäonnistuvat, kunnes kiintiö nollautuu tai ylläpitäjä nostaa tasoa X:n kehittäjäportaalissa.",
        "x.alert.suspended": "X-tili {account} on jäädytetty ({detail}): vastaukset epäonnistuvat, kunnes X poistaa jäädytyksen. Ota yhteyttä X:ään; chatops ei voi korjata tätä.",
    },
    "pl": {
        "x.length_note": "X liczy link jako 23 znaki, a większość emoji oraz znaków chińskich, japońskich i koreańskich jako 2.",
        "x.reply.duplicate": "X odrzucił wpis jako duplikat wpisu, który konto już opublikowało ({detail}). Zmień treść odpowiedzi i wyślij ją ponownie: Ponów wysłałoby ten sam tekst.",
        "x.reply.not_allowed": "X nie pozwala na tę odpowiedź ({detail}): wpis mógł zostać usunięty lub ukryty albo autor ograniczył, kto może odpowiadać.",
        "x.reply.suspended": "Według X konto jest zawieszone ({detail}): nic nie zostanie opublikowane, dopóki X nie zdejmie zawieszenia.",
        "x.reply.token": "X odrzucił token dostępu konta ({detail}): został unieważniony lub wygasł. Administrator musi wygenerować nowy access token i secret w portalu deweloperskim X, ustawić {keys} (zmienne środowiskowe {env}) i uruchomić chatops ponownie; oczekujące odpowiedzi zostaną wtedy wysłane.",
        "x.reply.permission": 'X odmówił publikacji z powodu braku uprawnień ({detail}): administrator musi ustawić uprawnienia aplikacji X na "Read and write" w portalu deweloperskim, następnie wygenerować nowy access token i secret (stare zachowują stare uprawnienia), ustawić {keys} (zmienne środowiskowe {env}) i uruchomić chatops ponownie.',
        "x.reply.rate_limited": "Limit wpisów w X się wyczerpał ({detail}); X pozwoli na więcej o {time} UTC",
        "x.reply.server": "X miał problem ({detail})",
        "x.reply.unreachable": "Nie udało się połączyć z X ({detail}); nic nie zostało wysłane",
        "x.reply.refused": "X odrzucił odpowiedź: {detail}",
        "x.reply.lost": "Odpowiedź X zaginęła ({detail}), a tej odpowiedzi nie ma wśród odpowiedzi konta pod tym wpisem: mogła jednak zostać opublikowana. Sprawdź X, zanim naciśniesz Ponów.",
        "x.reply.usage_capped": "Według X limit użycia aplikacji się wyczerpał ({detail}): nic nie zostanie opublikowane, dopóki limit się nie odnowi albo administrator nie podniesie planu aplikacji w portalu deweloperskim X.",
        "x.alert.usage_capped": "X odrzuca wpisy, bo limit użycia aplikacji X się wyczerpał ({detail}): odpowiedzi nie przechodzą, dopóki limit się nie odnowi albo administrator nie podniesie planu w portalu deweloperskim X.",
        "x.alert.suspended": "Konto X {account} jest zawieszone ({detail}): odpowiedzi nie przechodzą, dopóki X nie zdejmie zawieszenia. Skontaktuj się z X; chatops tego nie naprawi.",
    },
}
