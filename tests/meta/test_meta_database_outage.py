"""Facebook and Instagram webhooks while the database cannot take a write: 503 (Meta retries), nothing stored."""

from __future__ import annotations

from meta_world import IG, Meta, _unix

from chatops.testing.bot import TestBot
from chatops.testing.outages import database_read_only
from chatops_plugins.graph_api.testing import facebook_feed_payload


async def test_meta_webhooks_answer_503_while_the_database_is_read_only(
    meta_bot: TestBot, meta: Meta, database_url: str
) -> None:
    await meta.facebook(meta.fb_comment("1_401", "Ennen katkosta"))
    await meta_bot.next_card()
    await meta_bot.idle()
    facebook = facebook_feed_payload(meta.fb_comment("1_402", "Katkoksen aikana"))
    instagram = {
        "object": "instagram",
        "entry": [{"id": IG, "time": _unix(None), "changes": [meta.ig_comment("17900000000000402", "Czy działa?")]}],
    }
    async with database_read_only(database_url):
        for platform, payload in (("facebook", facebook), ("instagram", instagram)):
            refused = await meta.send(platform, payload)
            assert refused.status_code == 503, (platform, refused.text)
            assert refused.headers["Retry-After"].isdigit()
    # Meta's retry after the outage is stored as new, not as a duplicate of a half-stored first try.
    again = await meta.send("facebook", facebook)
    assert again.status_code == 200 and again.json()["stored"] == 1, again.text
    assert "Katkoksen aikana" in (await meta_bot.next_card()).text
    assert (await meta.send("instagram", instagram)).json()["stored"] == 1
