"""The Discord plugin's words in English, Finnish and Polish (keys start with ``discord.``)."""

from __future__ import annotations

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "discord.no_hide": "Discord has no hide; deleting is off (plugins.discord.allow_delete)",
        "discord.no_manage_messages": "the bot lacks Manage Messages in #{channel}",
        "discord.not_connected": "the bot is not connected to Discord right now",
    },
    "fi": {
        "discord.no_hide": "Discordissa ei voi piilottaa; poistaminen on pois päältä (plugins.discord.allow_delete)",
        "discord.no_manage_messages": "botilla ei ole Hallitse viestejä -oikeutta kanavalla #{channel}",
        "discord.not_connected": "botti ei ole juuri nyt yhteydessä Discordiin",
    },
    "pl": {
        "discord.no_hide": "Discord nie ma ukrywania; usuwanie jest wyłączone (plugins.discord.allow_delete)",
        "discord.no_manage_messages": "bot nie ma uprawnienia Zarządzanie wiadomościami na kanale #{channel}",
        "discord.not_connected": "bot nie jest teraz połączony z Discordem",
    },
}
