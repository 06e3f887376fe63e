"""The digest's words: ``chatops report`` (its messages and the Excel file's Summary sheet), en, fi, pl.

The CSV's column names are not here: they are a documented, stable interface
(:data:`~chatops_plugins.digest.log_rows.COLUMNS`), the same in every language.
"""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        # The command line.
        "digest.report.bad_date": "{option} {value}: not a date like 2026-12-01",
        "digest.report.date_range": "{option} {value}: a date between the years 2000 and 2100, please",
        "digest.report.to_before_from": "--to {last} is before --from {first}",
        "digest.report.too_long": "the period is {days} days; one report covers at most {limit} days (3 years)",
        "digest.report.bad_format": "--format {value}: use csv or xlsx",
        "digest.report.xlsx_needs_output": (
            "--format xlsx needs --output FILE (an Excel file cannot go to the terminal)"
        ),
        "digest.report.no_directory": "--output {path}: there is no directory {directory}",
        "digest.report.is_directory": "--output {path}: that is a directory; name a file",
        "digest.report.cannot_write": "--output {path}: cannot write there ({reason})",
        "digest.report.output_failed": "writing to {target} failed: {reason}",
        "digest.report.wrote": "wrote {rows} rows ({conversations} conversations) to {file}",
        "digest.report.stdout": "standard output",
        "digest.report.no_stdout": "standard output is closed: give --output FILE",
        "digest.report.sheets": "the log is longer than one Excel sheet ({limit} rows): it continues on {sheets}",
        "digest.report.clipped": (
            "{cells} texts were longer than an Excel cell holds ({limit} characters) and were cut; "
            "the CSV has them whole"
        ),
        # The Summary sheet.
        "digest.report.summary.title": "chatops report {first} – {last}",
        "digest.report.summary.timezone": "Timezone",
        "digest.report.summary.period_utc": "Period (UTC, end excluded)",
        "digest.report.summary.generated": "Generated (answers counted up to)",
        "digest.report.summary.log_rows": "Rows in the log",
        "digest.report.summary.log_conversations": "Conversations in the log",
        "digest.report.summary.log_sheets": "Log sheets",
        "digest.report.summary.figures": (
            "The digest's figures for the same period: conversations that started in it, "
            "answered up to the time above (definitions in the README)"
        ),
        "digest.report.summary.conversations": "Conversations in",
        "digest.report.summary.from_source": "… from {source}",
        "digest.report.summary.messages": "Customer messages in",
        "digest.report.summary.answered": "Answered",
        "digest.report.summary.unanswered": "Still unanswered",
        "digest.report.summary.response_rate": "Response rate",
        "digest.report.summary.first_median": "First response, median",
        "digest.report.summary.first_p90": "First response, 90th percentile",
        "digest.report.summary.service_median": "First response in service hours, median",
        "digest.report.summary.service_p90": "First response in service hours, 90th percentile",
        "digest.report.summary.target": "Response target",
        "digest.report.summary.within_target": "Answered within the target",
        "digest.report.summary.breaches": "Target missed",
        "digest.report.summary.resolved": "Resolved in the period",
        "digest.report.summary.resolution_median": "Time to resolution, median",
        "digest.report.summary.escalations": "Escalations",
        "digest.report.summary.negative": "Negative feedback",
        "digest.report.summary.negative_share": "Negative share",
        "digest.report.summary.open_now": "Open now",
        "digest.report.summary.oldest_open": "Oldest open since",
        "digest.report.summary.tags": "Top tags",
        "digest.report.summary.people": "Per person: handled, first answers, median first response",
        "digest.report.summary.fans": "Most active customers: conversations, messages, sources",
        "digest.report.summary.none": "none",
    },
    "fi": {
        "digest.report.bad_date": "{option} {value}: ei ole päivämäärä muotoa 2026-12-01",
        "digest.report.date_range": "{option} {value}: anna päivämäärä vuosien 2000 ja 2100 väliltä",
        "digest.report.to_before_from": "--to {last} on ennen päivää --from {first}",
        "digest.report.too_long": "jakso on {days} päivää; yksi raportti kattaa enintään {limit} päivää (3 vuotta)",
        "digest.report.bad_format": "--format {value}: käytä csv tai xlsx",
        "digest.report.xlsx_needs_output": (
            "--format xlsx tarvitsee valitsimen --output TIEDOSTO (Excel-tiedostoa ei voi tulostaa päätteeseen)"
        ),
        "digest.report.no_directory": "--output {path}: hakemistoa {directory} ei ole",
        "digest.report.is_directory": "--output {path}: se on hakemisto; anna tiedoston nimi",
        "digest.report.cannot_write": "--output {path}: sinne ei voi kirjoittaa ({reason})",
        "digest.report.output_failed": "kirjoittaminen kohteeseen {target} epäonnistui: {reason}",
        "digest.report.wrote": "kirjoitettu rivejä: {rows} (keskusteluja: {conversations}) kohteeseen {file}",
        "digest.report.stdout": "vakiotuloste",
        "digest.report.no_stdout": "vakiotuloste on suljettu: anna --output TIEDOSTO",
        "digest.report.sheets": (
            "loki on pidempi kuin yksi Excel-taulukko ({limit} riviä): se jatkuu taulukoilla {sheets}"
        ),
        "digest.report.clipped": (
            "{cells} tekstiä oli pidempiä kuin Excel-solu sallii ({limit} merkkiä) ja ne katkaistiin; "
            "CSV-tiedostossa ne ovat kokonaisina"
        ),
        "digest.report.summary.title": "chatops-raportti {first} – {last}",
        "digest.report.summary.timezone": "Aikavyöhyke",
        "digest.report.summary.period_utc": "Jakso (UTC, loppuhetki ei mukana)",
        "digest.report.summary.generated": "Luotu (vastaukset laskettu tähän asti)",
        "digest.report.summary.log_rows": "Lokin rivit",
        "digest.report.summary.log_conversations": "Lokin keskustelut",
        "digest.report.summary.log_sheets": "Lokin taulukot",
        "digest.report.summary.figures": (
            "Koosteen luvut samalta jaksolta: jakson aikana alkaneet keskustelut, "
            "vastaukset yllä olevaan aikaan asti (määritelmät README-tiedostossa)"
        ),
        "digest.report.summary.conversations": "Uudet keskustelut",
        "digest.report.summary.from_source": "… lähteestä {source}",
        "digest.report.summary.messages": "Asiakkaiden viestit",
        "digest.report.summary.answered": "Vastattu",
        "digest.report.summary.unanswered": "Vielä vastaamatta",
        "digest.report.summary.response_rate": "Vastausprosentti",
        "digest.report.summary.first_median": "Ensivastausaika, mediaani",
        "digest.report.summary.first_p90": "Ensivastausaika, 90. persentiili",
        "digest.report.summary.service_median": "Ensivastausaika palveluaikana, mediaani",
        "digest.report.summary.service_p90": "Ensivastausaika palveluaikana, 90. persentiili",
        "digest.report.summary.target": "Vastausaikatavoite",
        "digest.report.summary.within_target": "Vastattu tavoiteajassa",
        "digest.report.summary.breaches": "Tavoite ylitetty",
        "digest.report.summary.resolved": "Ratkaistu jakson aikana",
        "digest.report.summary.resolution_median": "Ratkaisuaika, mediaani",
        "digest.report.summary.escalations": "Eskaloinnit",
        "digest.report.summary.negative": "Negatiivinen palaute",
        "digest.report.summary.negative_share": "Negatiivisten osuus",
        "digest.report.summary.open_now": "Avoinna nyt",
        "digest.report.summary.oldest_open": "Vanhin avoin alkaen",
        "digest.report.summary.tags": "Käytetyimmät tunnisteet",
        "digest.report.summary.people": "Henkilöittäin: käsitellyt, ensivastaukset, ensivastausajan mediaani",
        "digest.report.summary.fans": "Aktiivisimmat asiakkaat: keskustelut, viestit, lähteet",
        "digest.report.summary.none": "ei yhtään",
    },
    "pl": {
        "digest.report.bad_date": "{option} {value}: to nie jest data w formacie 2026-12-01",
        "digest.report.date_range": "{option} {value}: podaj datę z lat 2000–2100",
        "digest.report.to_before_from": "--to {last} jest wcześniej niż --from {first}",
        "digest.report.too_long": "okres ma {days} dni; jeden raport obejmuje najwyżej {limit} dni (3 lata)",
        "digest.report.bad_format": "--format {value}: użyj csv albo xlsx",
        "digest.report.xlsx_needs_output": (
            "--format xlsx wymaga --output PLIK (pliku Excela nie da się wypisać w terminalu)"
        ),
        "digest.report.no_directory": "--output {path}: nie ma katalogu {directory}",
        "digest.report.is_directory": "--output {path}: to jest katalog; podaj nazwę pliku",
        "digest.report.cannot_write": "--output {path}: nie można tam zapisać ({reason})",
        "digest.report.output_failed": "zapis do {target} nie powiódł się: {reason}",
        "digest.report.wrote": "zapisano wierszy: {rows} (rozmów: {conversations}) do {file}",
        "digest.report.stdout": "standardowe wyjście",
        "digest.report.no_stdout": "standardowe wyjście jest zamknięte: podaj --output PLIK",
        "digest.report.sheets": (
            "dziennik nie mieści się w jednym arkuszu Excela ({limit} wierszy): ciąg dalszy w arkuszach {sheets}"
        ),
        "digest.report.clipped": (
            "tekstów dłuższych, niż mieści komórka Excela ({limit} znaków), było {cells}; zostały obcięte, "
            "w pliku CSV są w całości"
        ),
        "digest.report.summary.title": "Raport chatops {first} – {last}",
        "digest.report.summary.timezone": "Strefa czasowa",
        "digest.report.summary.period_utc": "Okres (UTC, bez chwili końcowej)",
        "digest.report.summary.generated": "Utworzono (odpowiedzi liczone do tej chwili)",
        "digest.report.summary.log_rows": "Wiersze dziennika",
        "digest.report.summary.log_conversations": "Rozmowy w dzienniku",
        "digest.report.summary.log_sheets": "Arkusze dziennika",
        "digest.report.summary.figures": (
            "Liczby z podsumowania za ten sam okres: rozmowy rozpoczęte w tym okresie, "
            "odpowiedzi liczone do chwili podanej wyżej (definicje w README)"
        ),
        "digest.report.summary.conversations": "Nowe rozmowy",
        "digest.report.summary.from_source": "… ze źródła {source}",
        "digest.report.summary.messages": "Wiadomości od klientów",
        "digest.report.summary.answered": "Z odpowiedzią",
        "digest.report.summary.unanswered": "Wciąż bez odpowiedzi",
        "digest.report.summary.response_rate": "Odsetek odpowiedzi",
        "digest.report.summary.first_median": "Czas pierwszej odpowiedzi, mediana",
        "digest.report.summary.first_p90": "Czas pierwszej odpowiedzi, 90. percentyl",
        "digest.report.summary.service_median": "Czas pierwszej odpowiedzi w godzinach obsługi, mediana",
        "digest.report.summary.service_p90": "Czas pierwszej odpowiedzi w godzinach obsługi, 90. percentyl",
        "digest.report.summary.target": "Docelowy czas odpowiedzi",
        "digest.report.summary.within_target": "Odpowiedziano w docelowym czasie",
        "digest.report.summary.breaches": "Przekroczony czas docelowy",
        "digest.report.summary.resolved": "Zamknięte w tym okresie",
        "digest.report.summary.resolution_median": "Czas do zamknięcia, mediana",
        "digest.report.summary.escalations": "Eskalacje",
        "digest.report.summary.negative": "Negatywne opinie",
        "digest.report.summary.negative_share": "Udział negatywnych",
        "digest.report.summary.open_now": "Otwarte teraz",
        "digest.report.summary.oldest_open": "Najstarsza otwarta od",
        "digest.report.summary.tags": "Najczęstsze tagi",
        "digest.report.summary.people": "Według osób: obsłużone, pierwsze odpowiedzi, mediana pierwszej odpowiedzi",
        "digest.report.summary.fans": "Najaktywniejsi klienci: rozmowy, wiadomości, źródła",
        "digest.report.summary.none": "brak",
    },
}
