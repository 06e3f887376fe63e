"""The rota plugin's words for ``/rota`` and the ``/rota edit`` dialog (en, fi, pl); keys start with ``rota.``.

Commands and their words (``add``, ``mon-fri``, ``today``) stay English in every
language: they are what people type, and the examples show them as typed.
"""

from __future__ import annotations

_EN: dict[str, str] = {
    # Dates and lines.
    "rota.cmd.weekdays": "Mon,Tue,Wed,Thu,Fri,Sat,Sun",
    "rota.cmd.months": "Jan,Feb,Mar,Apr,May,Jun,Jul,Aug,Sep,Oct,Nov,Dec",
    "rota.cmd.date": "{weekday} {day} {month}",
    "rota.cmd.shift_line": "`{id}` {days} {start}–{end}: {people}",
    "rota.cmd.cover_line": "`{id}` {cover} covers {absent}: {span}",
    "rota.cmd.swap_line": "`{id}` {first} ⇄ {second}: {day}",
    # Reading the rota.
    "rota.cmd.empty": "The rota is empty. A lead adds shifts with `/rota add mon-fri 08:00-16:00 @anna`.",
    "rota.cmd.open_end": "further notice",
    "rota.cmd.now_on": "🟢 On shift now: {people}, until {until}.",
    "rota.cmd.now_nobody": "⚪ Nobody is on shift now.",
    "rota.cmd.next_on": "Next: {people} from {at}.",
    "rota.cmd.next_nobody": "Next: nobody from {at}.",
    "rota.cmd.next_none": "Nobody is on shift in the coming week.",
    "rota.cmd.mark_cover": "_(cover for {people})_",
    "rota.cmd.mark_swap": "_(swap with {people})_",
    "rota.cmd.week_title": "*Rota {first} – {last}*",
    "rota.cmd.nobody": "nobody",
    "rota.cmd.no_shifts_day": "no shifts",
    "rota.cmd.list_shifts": "*Shifts*",
    "rota.cmd.list_changes": "*Covers and swaps*",
    "rota.cmd.none": "none",
    "rota.cmd.more": "…and {count} more",
    "rota.cmd.failed": "Sorry, something went wrong with /rota. Nothing was changed; please try again.",
    "rota.cmd.posted": "Posted in {channel}.",
    # Help and the forms.
    "rota.help.title": "*/rota* – who is on shift, and changing the rota (changes: leads only)",
    "rota.usage.now": "`/rota now` – who is on shift now and who is next (leads: `/rota now post` shows the channel)",
    "rota.usage.week": "`/rota week`, `/rota week next` – the week day by day (`/rota week post`: to the channel)",
    "rota.usage.list": "`/rota list` – the shifts with their ids (s3), and covers (c4) and swaps (w5) to come",
    "rota.usage.help": "`/rota help` – this help",
    "rota.usage.add": (
        "`/rota add mon-fri 08:00-16:00 @anna @jari` – a weekly shift (days: `mon,wed,fri`, `sat-mon`, `daily`; "
        "`22:00-06:00` runs past midnight, `24:00` ends a day)"
    ),
    "rota.usage.remove": "`/rota remove s3` – remove a shift (`s3`), a cover (`c4`) or a swap (`w5`)",
    "rota.usage.cover": (
        "`/rota cover @anna 2026-12-01..2026-12-03 @jari` – Jari takes Anna's shifts "
        "(also `today`, `tomorrow`, `2026-12-01`; from a time: `today 12:00..`, `2026-12-01 12:00..2026-12-02 18:00`)"
    ),
    "rota.usage.uncover": "`/rota uncover @anna 2026-12-02` – undo a cover in that range",
    "rota.usage.swap": "`/rota swap @anna @jari 2026-12-05` – the two swap their shifts on that date",
    "rota.usage.edit": "`/rota edit` – the same changes in a dialog",
    "rota.help.calendar": "`/rota calendar` – your shifts in your own calendar app",
    "rota.help.footer": "Pick people from Slack's suggestions when you type @, so they become mentions.",
    # What could not be read.
    "rota.parse.too_long": "That is longer than /rota reads ({limit} characters).",
    "rota.parse.missing": "Something is missing.",
    "rota.parse.extra": "I did not understand “{text}”.",
    "rota.parse.unknown": "/rota has no “{word}”.",
    "rota.parse.not_person": "{text} is a user group or channel: shifts are for people, so name each person.",
    "rota.parse.plain_mention": (
        "“{name}” is plain text: pick the person from Slack's suggestions as you type @, so it becomes a mention."
    ),
    "rota.parse.person": "“{text}” is not a person: name them with @ and pick them from Slack's suggestions.",
    "rota.parse.days": "“{text}” are not days like mon-fri, mon,wed,fri or sat-mon.",
    "rota.parse.times": "“{text}” is not a time range like 08:00-16:00 (24-hour clock).",
    "rota.parse.too_many": "A shift can name at most {limit} people.",
    "rota.parse.id": "“{text}” is not an id like s3, c4 or w5 (see /rota list).",
    "rota.parse.same_person": "Those are the same person twice.",
    "rota.parse.date": "“{text}” is not a date like 2026-12-01, today or tomorrow.",
    "rota.parse.no_such_date": "There is no date {text}.",
    "rota.parse.date_far": "{text} is too far away; the rota plans up to two years ahead.",
    "rota.parse.range": "“{text}” is not a range like 2026-12-01..2026-12-03 or today 12:00..",
    "rota.parse.time": "“{text}” is not a time like 12:00 (24-hour clock).",
    "rota.parse.reversed": "“{text}” ends before it starts.",
    "rota.parse.range_long": "A range can be at most {days} days long.",
    # Who may change the rota.
    "rota.lead.none": "Nobody may change the rota yet: `plugins.rota.leads` is not set in the bot's configuration.",
    "rota.lead.unchecked": "I could not check the members of {groups} with Slack just now; please try again.",
    "rota.lead.refused": "Sorry, only the shift leads can change the rota: {leads}. Ask one of them.",
    # Done (the same answer when Slack delivers the command twice).
    "rota.done.add": "✅ Done: shift {days} {start}–{end} for {people}. The team sees it in {channel}.",
    "rota.done.remove": "✅ Done: {id} is removed. The team sees it in {channel}.",
    "rota.done.cover": "✅ Done: {cover} covers {absent} {span}. The team sees it in {channel}.",
    "rota.done.uncover": "✅ Done: {absent} is not covered {span} any more. The team sees it in {channel}.",
    "rota.done.swap": "✅ Done: {first} and {second} swap their shifts on {day}. The team sees it in {channel}.",
    # Refused changes.
    "rota.change.no_such": "There is no {id} to remove (see /rota list).",
    "rota.change.over": "That is already over.",
    "rota.change.no_shift": "{person} has no shift to cover then (or it is covered already: see /rota list).",
    "rota.change.no_cover": "{person} is not covered then.",
    "rota.change.swap_neither": "Neither {first} nor {second} has a shift starting on {day}: nothing to swap.",
    # Confirmations in the channel.
    "rota.confirm.add": "🗓️ {actor} added a shift: {shift}",
    "rota.confirm.remove": "🗓️ {actor} removed {what}",
    "rota.confirm.cover": "🩹 {actor} arranged a cover: {cover}",
    "rota.confirm.uncover": "🗓️ {actor} undid the cover of {absent}: {span}",
    "rota.confirm.uncover_kept": "Still covered:",
    "rota.confirm.swap": "🔁 {actor} swapped shifts: {swap}",
    "rota.confirm.swap_one_way": (
        "🔁 {actor} swapped shifts: {swap}. Only {giver} had a shift that day, so this is one-way: {taker} takes it."
    ),
    # The dialog.
    "rota.edit.title": "Change the rota",
    "rota.edit.submit": "Save",
    "rota.edit.close": "Cancel",
    "rota.edit.action": "What to do",
    "rota.edit.do_add": "Add a weekly shift",
    "rota.edit.do_cover": "Cover someone",
    "rota.edit.do_uncover": "Undo a cover",
    "rota.edit.do_swap": "Swap two people's shifts",
    "rota.edit.do_remove": "Remove a shift, cover or swap",
    "rota.edit.people": "People on the shift (add)",
    "rota.edit.days": "Days (add)",
    "rota.edit.start": "From (add; cover from a time)",
    "rota.edit.end": "To (add; cover to a time)",
    "rota.edit.person": "Person away (cover, undo) or first person (swap)",
    "rota.edit.other": "Who covers (cover) or second person (swap)",
    "rota.edit.first_date": "Date (cover, undo, swap)",
    "rota.edit.last_date": "Until date (cover, undo; leave empty for one day)",
    "rota.edit.target": "What to remove",
    "rota.edit.hint": "Fill in what the chosen action needs; the rest is left out.",
    "rota.edit.need_action": "Choose what to do.",
    "rota.edit.required": "This is needed for the chosen action.",
    "rota.edit.nothing_to_remove": "There is nothing to remove.",
}

_FI: dict[str, str] = {
    "rota.cmd.weekdays": "ma,ti,ke,to,pe,la,su",
    "rota.cmd.months": (
        "tammikuuta,helmikuuta,maaliskuuta,huhtikuuta,toukokuuta,kesäkuuta,"
        "heinäkuuta,elokuuta,syyskuuta,lokakuuta,marraskuuta,joulukuuta"
    ),
    "rota.cmd.date": "{weekday} {day}. {month}",
    "rota.cmd.shift_line": "`{id}` {days} {start}–{end}: {people}",
    "rota.cmd.cover_line": "`{id}` {cover} tuuraa: {absent}, {span}",
    "rota.cmd.swap_line": "`{id}` {first} ⇄ {second}: {day}",
    "rota.cmd.empty": "Vuorolista on tyhjä. Vuoroesihenkilö lisää vuoroja: `/rota add mon-fri 08:00-16:00 @anna`.",
    "rota.cmd.open_end": "ei tiedossa",
    "rota.cmd.now_on": "🟢 Vuorossa nyt: {people}; vuoro päättyy: {until}.",
    "rota.cmd.now_nobody": "⚪ Kukaan ei ole nyt vuorossa.",
    "rota.cmd.next_on": "Seuraavaksi: {people} alkaen {at}.",
    "rota.cmd.next_nobody": "Seuraavaksi: ei ketään alkaen {at}.",
    "rota.cmd.next_none": "Kukaan ei ole vuorossa tulevalla viikolla.",
    "rota.cmd.mark_cover": "_(tuuraa: {people})_",
    "rota.cmd.mark_swap": "_(vaihto: {people})_",
    "rota.cmd.week_title": "*Vuorolista {first} – {last}*",
    "rota.cmd.nobody": "ei ketään",
    "rota.cmd.no_shifts_day": "ei vuoroja",
    "rota.cmd.list_shifts": "*Vuorot*",
    "rota.cmd.list_changes": "*Tuuraukset ja vaihdot*",
    "rota.cmd.none": "ei yhtään",
    "rota.cmd.more": "…ja {count} muuta",
    "rota.cmd.failed": "Valitettavasti /rota epäonnistui. Mitään ei muutettu; yritä uudelleen.",
    "rota.cmd.posted": "Lähetetty kanavalle {channel}.",
    "rota.help.title": "*/rota* – kuka on vuorossa, ja vuorolistan muutokset (muutokset: vain vuoroesihenkilöt)",
    "rota.usage.now": (
        "`/rota now` – kuka on vuorossa nyt ja kuka seuraavaksi (esihenkilöt: `/rota now post` näyttää sen kanavalla)"
    ),
    "rota.usage.week": "`/rota week`, `/rota week next` – viikko päivä kerrallaan (`/rota week post`: kanavalle)",
    "rota.usage.list": "`/rota list` – vuorot tunnuksineen (s3) sekä tulevat tuuraukset (c4) ja vaihdot (w5)",
    "rota.usage.help": "`/rota help` – tämä ohje",
    "rota.usage.add": (
        "`/rota add mon-fri 08:00-16:00 @anna @jari` – viikoittainen vuoro (päivät: `mon,wed,fri`, `sat-mon`, "
        "`daily`; `22:00-06:00` jatkuu yli keskiyön, `24:00` päättää päivän)"
    ),
    "rota.usage.remove": "`/rota remove s3` – poista vuoro (`s3`), tuuraus (`c4`) tai vaihto (`w5`)",
    "rota.usage.cover": (
        "`/rota cover @anna 2026-12-01..2026-12-03 @jari` – Jari ottaa Annan vuorot "
        "(myös `today`, `tomorrow`, `2026-12-01`; kellonajasta: `today 12:00..`, `2026-12-01 12:00..2026-12-02 18:00`)"
    ),
    "rota.usage.uncover": "`/rota uncover @anna 2026-12-02` – peru tuuraus tältä ajalta",
    "rota.usage.swap": "`/rota swap @anna @jari 2026-12-05` – he vaihtavat vuoronsa tuona päivänä",
    "rota.usage.edit": "`/rota edit` – samat muutokset lomakkeella",
    "rota.help.calendar": "`/rota calendar` – vuorosi omaan kalenterisovellukseesi",
    "rota.help.footer": "Valitse henkilöt Slackin ehdotuksista, kun kirjoitat @, jolloin heistä tulee maininta.",
    "rota.parse.too_long": "Teksti on pidempi kuin /rota lukee ({limit} merkkiä).",
    "rota.parse.missing": "Jotain puuttuu.",
    "rota.parse.extra": "En ymmärtänyt kohtaa ”{text}”.",
    "rota.parse.unknown": "/rota ei tunne sanaa ”{word}”.",
    "rota.parse.not_person": "{text} on käyttäjäryhmä tai kanava: vuorot ovat ihmisille, joten nimeä jokainen henkilö.",
    "rota.parse.plain_mention": (
        "”{name}” on pelkkää tekstiä: valitse henkilö Slackin ehdotuksista kirjoittaessasi @, "
        "jotta siitä tulee maininta."
    ),
    "rota.parse.person": "”{text}” ei ole henkilö: mainitse hänet @-merkillä ja valitse Slackin ehdotuksista.",
    "rota.parse.days": "”{text}” eivät ole päiviä, kuten mon-fri, mon,wed,fri tai sat-mon.",
    "rota.parse.times": "”{text}” ei ole aikaväli, kuten 08:00-16:00 (24 tunnin kello).",
    "rota.parse.too_many": "Vuorossa voi olla enintään {limit} henkilöä.",
    "rota.parse.id": "”{text}” ei ole tunnus, kuten s3, c4 tai w5 (katso /rota list).",
    "rota.parse.same_person": "Sama henkilö on mainittu kahdesti.",
    "rota.parse.date": "”{text}” ei ole päivämäärä, kuten 2026-12-01, today tai tomorrow.",
    "rota.parse.no_such_date": "Päivämäärää {text} ei ole olemassa.",
    "rota.parse.date_far": "{text} on liian kaukana; vuorolista ulottuu enintään kahden vuoden päähän.",
    "rota.parse.range": "”{text}” ei ole aikaväli, kuten 2026-12-01..2026-12-03 tai today 12:00..",
    "rota.parse.time": "”{text}” ei ole kellonaika, kuten 12:00 (24 tunnin kello).",
    "rota.parse.reversed": "”{text}” päättyy ennen kuin alkaa.",
    "rota.parse.range_long": "Aikaväli voi olla enintään {days} päivää.",
    "rota.lead.none": "Kukaan ei voi vielä muuttaa vuorolistaa: botin asetuksissa ei ole `plugins.rota.leads`.",
    "rota.lead.unchecked": "En juuri nyt saanut Slackista ryhmän {groups} jäseniä; yritä uudelleen.",
    "rota.lead.refused": "Valitettavasti vain vuoroesihenkilöt voivat muuttaa vuorolistaa: {leads}. Pyydä heiltä.",
    "rota.done.add": "✅ Valmis: vuoro {days} {start}–{end}, {people}. Tiimi näkee sen kanavalla {channel}.",
    "rota.done.remove": "✅ Valmis: {id} on poistettu. Tiimi näkee sen kanavalla {channel}.",
    "rota.done.cover": "✅ Valmis: {cover} tuuraa henkilöä {absent} {span}. Tiimi näkee sen kanavalla {channel}.",
    "rota.done.uncover": "✅ Valmis: henkilön {absent} tuuraus on peruttu {span}. Tiimi näkee sen kanavalla {channel}.",
    "rota.done.swap": "✅ Valmis: {first} ja {second} vaihtavat vuoroja {day}. Tiimi näkee sen kanavalla {channel}.",
    "rota.change.no_such": "Poistettavaa kohdetta {id} ei ole (katso /rota list).",
    "rota.change.over": "Se on jo ohi.",
    "rota.change.no_shift": "Henkilöllä {person} ei ole silloin tuurattavaa vuoroa (tai se on jo tuurattu).",
    "rota.change.no_cover": "Henkilöllä {person} ei ole silloin tuurausta.",
    "rota.change.swap_neither": "Kummallakaan ({first}, {second}) ei ole vuoroa, joka alkaa {day}: ei vaihdettavaa.",
    "rota.confirm.add": "🗓️ {actor} lisäsi vuoron: {shift}",
    "rota.confirm.remove": "🗓️ {actor} poisti: {what}",
    "rota.confirm.cover": "🩹 {actor} järjesti tuurauksen: {cover}",
    "rota.confirm.uncover": "🗓️ {actor} perui henkilön {absent} tuurauksen: {span}",
    "rota.confirm.uncover_kept": "Edelleen tuurattu:",
    "rota.confirm.swap": "🔁 {actor} vaihtoi vuoroja: {swap}",
    "rota.confirm.swap_one_way": (
        "🔁 {actor} vaihtoi vuoroja: {swap}. Vain henkilöllä {giver} oli vuoro sinä päivänä, "
        "joten vaihto on yksisuuntainen: {taker} ottaa sen."
    ),
    "rota.edit.title": "Muuta vuorolistaa",
    "rota.edit.submit": "Tallenna",
    "rota.edit.close": "Peruuta",
    "rota.edit.action": "Mitä tehdään",
    "rota.edit.do_add": "Lisää viikoittainen vuoro",
    "rota.edit.do_cover": "Tuuraa jotakuta",
    "rota.edit.do_uncover": "Peru tuuraus",
    "rota.edit.do_swap": "Vaihda kahden henkilön vuorot",
    "rota.edit.do_remove": "Poista vuoro, tuuraus tai vaihto",
    "rota.edit.people": "Vuoron henkilöt (lisäys)",
    "rota.edit.days": "Päivät (lisäys)",
    "rota.edit.start": "Alkaa (lisäys; tuuraus kellonajasta)",
    "rota.edit.end": "Päättyy (lisäys; tuuraus kellonaikaan)",
    "rota.edit.person": "Poissa oleva (tuuraus, peruminen) tai ensimmäinen henkilö (vaihto)",
    "rota.edit.other": "Tuuraaja (tuuraus) tai toinen henkilö (vaihto)",
    "rota.edit.first_date": "Päivä (tuuraus, peruminen, vaihto)",
    "rota.edit.last_date": "Viimeinen päivä (tuuraus, peruminen; tyhjä = yksi päivä)",
    "rota.edit.target": "Mitä poistetaan",
    "rota.edit.hint": "Täytä se, mitä valittu toiminto tarvitsee; muut kentät jätetään huomiotta.",
    "rota.edit.need_action": "Valitse, mitä tehdään.",
    "rota.edit.required": "Valittu toiminto tarvitsee tämän.",
    "rota.edit.nothing_to_remove": "Poistettavaa ei ole.",
}

_PL: dict[str, str] = {
    "rota.cmd.weekdays": "pon,wt,śr,czw,pt,sob,niedz",
    "rota.cmd.months": (
        "stycznia,lutego,marca,kwietnia,maja,czerwca,lipca,sierpnia,września,października,listopada,grudnia"
    ),
    "rota.cmd.date": "{weekday} {day} {month}",
    "rota.cmd.shift_line": "`{id}` {days} {start}–{end}: {people}",
    "rota.cmd.cover_line": "`{id}` {cover} zastępuje: {absent}, {span}",
    "rota.cmd.swap_line": "`{id}` {first} ⇄ {second}: {day}",
    "rota.cmd.empty": "Grafik jest pusty. Kierownik zmiany dodaje zmiany: `/rota add mon-fri 08:00-16:00 @anna`.",
    "rota.cmd.open_end": "odwołania",
    "rota.cmd.now_on": "🟢 Teraz na zmianie: {people}, do {until}.",
    "rota.cmd.now_nobody": "⚪ Teraz nikt nie ma zmiany.",
    "rota.cmd.next_on": "Następnie: {people} od {at}.",
    "rota.cmd.next_nobody": "Następnie: nikt od {at}.",
    "rota.cmd.next_none": "W najbliższym tygodniu nikt nie ma zmiany.",
    "rota.cmd.mark_cover": "_(zastępstwo za: {people})_",
    "rota.cmd.mark_swap": "_(zamiana z: {people})_",
    "rota.cmd.week_title": "*Grafik {first} – {last}*",
    "rota.cmd.nobody": "nikt",
    "rota.cmd.no_shifts_day": "brak zmian",
    "rota.cmd.list_shifts": "*Zmiany*",
    "rota.cmd.list_changes": "*Zastępstwa i zamiany*",
    "rota.cmd.none": "brak",
    "rota.cmd.more": "…i jeszcze {count}",
    "rota.cmd.failed": "Przepraszamy, /rota nie zadziałało. Nic nie zostało zmienione; spróbuj ponownie.",
    "rota.cmd.posted": "Opublikowano na kanale {channel}.",
    "rota.help.title": "*/rota* – kto ma zmianę i zmiany w grafiku (zmiany: tylko kierownicy zmian)",
    "rota.usage.now": (
        "`/rota now` – kto ma teraz zmianę i kto następny (kierownicy: `/rota now post` pokazuje to na kanale)"
    ),
    "rota.usage.week": "`/rota week`, `/rota week next` – tydzień dzień po dniu (`/rota week post`: na kanał)",
    "rota.usage.list": "`/rota list` – zmiany z identyfikatorami (s3) oraz nadchodzące zastępstwa (c4) i zamiany (w5)",
    "rota.usage.help": "`/rota help` – ta pomoc",
    "rota.usage.add": (
        "`/rota add mon-fri 08:00-16:00 @anna @jari` – cotygodniowa zmiana (dni: `mon,wed,fri`, `sat-mon`, "
        "`daily`; `22:00-06:00` trwa po północy, `24:00` kończy dzień)"
    ),
    "rota.usage.remove": "`/rota remove s3` – usuń zmianę (`s3`), zastępstwo (`c4`) lub zamianę (`w5`)",
    "rota.usage.cover": (
        "`/rota cover @anna 2026-12-01..2026-12-03 @jari` – Jari przejmuje zmiany Anny "
        "(także `today`, `tomorrow`, `2026-12-01`; od godziny: `today 12:00..`, `2026-12-01 12:00..2026-12-02 18:00`)"
    ),
    "rota.usage.uncover": "`/rota uncover @anna 2026-12-02` – cofnij zastępstwo w tym okresie",
    "rota.usage.swap": "`/rota swap @anna @jari 2026-12-05` – oboje zamieniają się zmianami tego dnia",
    "rota.usage.edit": "`/rota edit` – te same zmiany w oknie dialogowym",
    "rota.help.calendar": "`/rota calendar` – twoje zmiany we własnym kalendarzu",
    "rota.help.footer": "Wybieraj osoby z podpowiedzi Slacka po wpisaniu @, aby stały się wzmiankami.",
    "rota.parse.too_long": "To dłużej, niż /rota czyta ({limit} znaków).",
    "rota.parse.missing": "Czegoś brakuje.",
    "rota.parse.extra": "Nie rozumiem „{text}”.",
    "rota.parse.unknown": "/rota nie zna „{word}”.",
    "rota.parse.not_person": "{text} to grupa użytkowników lub kanał: zmiany są dla osób, więc wymień każdą osobę.",
    "rota.parse.plain_mention": (
        "„{name}” to zwykły tekst: wybierz osobę z podpowiedzi Slacka po wpisaniu @, aby stała się wzmianką."
    ),
    "rota.parse.person": "„{text}” to nie osoba: wspomnij ją przez @ i wybierz z podpowiedzi Slacka.",
    "rota.parse.days": "„{text}” to nie dni w rodzaju mon-fri, mon,wed,fri czy sat-mon.",
    "rota.parse.times": "„{text}” to nie przedział godzin w rodzaju 08:00-16:00 (zegar 24-godzinny).",
    "rota.parse.too_many": "Zmiana może mieć najwyżej {limit} osób.",
    "rota.parse.id": "„{text}” to nie identyfikator w rodzaju s3, c4 czy w5 (zobacz /rota list).",
    "rota.parse.same_person": "To dwa razy ta sama osoba.",
    "rota.parse.date": "„{text}” to nie data w rodzaju 2026-12-01, today czy tomorrow.",
    "rota.parse.no_such_date": "Nie ma daty {text}.",
    "rota.parse.date_far": "{text} to zbyt odległa data; grafik obejmuje najwyżej dwa lata naprzód.",
    "rota.parse.range": "„{text}” to nie okres w rodzaju 2026-12-01..2026-12-03 czy today 12:00..",
    "rota.parse.time": "„{text}” to nie godzina w rodzaju 12:00 (zegar 24-godzinny).",
    "rota.parse.reversed": "„{text}” kończy się, zanim się zaczyna.",
    "rota.parse.range_long": "Okres może mieć najwyżej {days} dni.",
    "rota.lead.none": "Nikt nie może jeszcze zmieniać grafiku: w konfiguracji bota brak `plugins.rota.leads`.",
    "rota.lead.unchecked": "Nie udało się teraz sprawdzić w Slacku członków {groups}; spróbuj ponownie.",
    "rota.lead.refused": "Przepraszamy, grafik mogą zmieniać tylko kierownicy zmian: {leads}. Poproś któregoś z nich.",
    "rota.done.add": "✅ Gotowe: zmiana {days} {start}–{end} dla: {people}. Zespół widzi to na kanale {channel}.",
    "rota.done.remove": "✅ Gotowe: usunięto {id}. Zespół widzi to na kanale {channel}.",
    "rota.done.cover": "✅ Gotowe: {cover} zastępuje {absent} {span}. Zespół widzi to na kanale {channel}.",
    "rota.done.uncover": "✅ Gotowe: cofnięto zastępstwo za {absent} {span}. Zespół widzi to na kanale {channel}.",
    "rota.done.swap": (
        "✅ Gotowe: {first} i {second} zamieniają się zmianami {day}. Zespół widzi to na kanale {channel}."
    ),
    "rota.change.no_such": "Nie ma {id} do usunięcia (zobacz /rota list).",
    "rota.change.over": "To już minęło.",
    "rota.change.no_shift": "{person} nie ma wtedy zmiany do zastąpienia (albo jest już zastąpiona: /rota list).",
    "rota.change.no_cover": "{person} nie ma wtedy zastępstwa.",
    "rota.change.swap_neither": (
        "Ani {first}, ani {second} nie ma zmiany zaczynającej się {day}: nie ma czego zamienić."
    ),
    "rota.confirm.add": "🗓️ {actor} dodaje zmianę: {shift}",
    "rota.confirm.remove": "🗓️ {actor} usuwa: {what}",
    "rota.confirm.cover": "🩹 {actor} ustala zastępstwo: {cover}",
    "rota.confirm.uncover": "🗓️ {actor} cofa zastępstwo za {absent}: {span}",
    "rota.confirm.uncover_kept": "Nadal zastąpione:",
    "rota.confirm.swap": "🔁 {actor} zamienia zmiany: {swap}",
    "rota.confirm.swap_one_way": (
        "🔁 {actor} zamienia zmiany: {swap}. Tylko {giver} ma tego dnia zmianę, "
        "więc zamiana jest jednostronna: {taker} ją przejmuje."
    ),
    "rota.edit.title": "Zmień grafik",
    "rota.edit.submit": "Zapisz",
    "rota.edit.close": "Anuluj",
    "rota.edit.action": "Co zrobić",
    "rota.edit.do_add": "Dodaj cotygodniową zmianę",
    "rota.edit.do_cover": "Zastępstwo za kogoś",
    "rota.edit.do_uncover": "Cofnij zastępstwo",
    "rota.edit.do_swap": "Zamień zmiany dwóch osób",
    "rota.edit.do_remove": "Usuń zmianę, zastępstwo lub zamianę",
    "rota.edit.people": "Osoby na zmianie (dodawanie)",
    "rota.edit.days": "Dni (dodawanie)",
    "rota.edit.start": "Od (dodawanie; zastępstwo od godziny)",
    "rota.edit.end": "Do (dodawanie; zastępstwo do godziny)",
    "rota.edit.person": "Nieobecna osoba (zastępstwo, cofnięcie) lub pierwsza osoba (zamiana)",
    "rota.edit.other": "Kto zastępuje (zastępstwo) lub druga osoba (zamiana)",
    "rota.edit.first_date": "Data (zastępstwo, cofnięcie, zamiana)",
    "rota.edit.last_date": "Data końcowa (zastępstwo, cofnięcie; puste = jeden dzień)",
    "rota.edit.target": "Co usunąć",
    "rota.edit.hint": "Wypełnij to, czego potrzebuje wybrane działanie; pozostałe pola są pomijane.",
    "rota.edit.need_action": "Wybierz, co zrobić.",
    "rota.edit.required": "To pole jest potrzebne dla wybranego działania.",
    "rota.edit.nothing_to_remove": "Nie ma nic do usunięcia.",
}

TEXTS: dict[str, dict[str, str]] = {"en": _EN, "fi": _FI, "pl": _PL}
