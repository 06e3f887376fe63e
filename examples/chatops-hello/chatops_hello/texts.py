"""The hello plugin's words in every language chatops speaks (``chatops_texts``)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "hello.hello": "👋 Hello, {user}! The team has sent {count} replies so far.",
        "hello.greeting": "👋 Hello, team! A friendly reminder from chatops ({time}).",
        "hello.reply_count": "👋 {count} replies so far",
        "hello.waved": "👋 The customer said hello.",
        "hello.sign_label": "Signature",
        "hello.sign_option": "Sign with “{signature}”",
        "hello.todo_veto": "The reply still says TODO: finish it before sending.",
        "hello.signed": "The reply was signed with “{signature}”.",
        "hello.stats": "{replies} replies in {conversations} conversations",
    },
    "fi": {
        "hello.hello": "👋 Hei, {user}! Tiimi on lähettänyt tähän mennessä {count} vastausta.",
        "hello.greeting": "👋 Hei, tiimi! Ystävällinen muistutus chatopsilta ({time}).",
        "hello.reply_count": "👋 {count} vastausta tähän mennessä",
        "hello.waved": "👋 Asiakas sanoi hei.",
        "hello.sign_label": "Allekirjoitus",
        "hello.sign_option": "Allekirjoita: “{signature}”",
        "hello.todo_veto": "Vastauksessa lukee yhä TODO: viimeistele se ennen lähettämistä.",
        "hello.signed": "Vastaus allekirjoitettiin: “{signature}”.",
        "hello.stats": "{replies} vastausta {conversations} keskustelussa",
    },
    "pl": {
        "hello.hello": "👋 Cześć, {user}! Zespół wysłał dotąd {count} odpowiedzi.",
        "hello.greeting": "👋 Cześć, zespole! Przyjazne przypomnienie od chatops ({time}).",
        "hello.reply_count": "👋 Odpowiedzi do tej pory: {count}",
        "hello.waved": "👋 Klient się przywitał.",
        "hello.sign_label": "Podpis",
        "hello.sign_option": "Podpisz jako „{signature}”",
        "hello.todo_veto": "Odpowiedź wciąż zawiera TODO: dokończ ją przed wysłaniem.",
        "hello.signed": "Odpowiedź podpisano jako „{signature}”.",
        "hello.stats": "Odpowiedzi: {replies}, rozmowy: {conversations}",
    },
}
