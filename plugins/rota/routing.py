"""New cards: who is on shift (shown and mentioned), assignment, and the out-of-hours reply."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chatops.cards import CardData
    from chatops.sources import InboundMessage

    from .service import Rota


async def card_blocks(rota: Rota, card: CardData) -> list[dict[str, Any]]:
    """The card's decoration."""
    return []  # PLACEHOLDER until the routing part lands


async def on_inbound(rota: Rota, message: InboundMessage, conversation_id: int, new: bool) -> None:
    """React to a stored customer message."""
    # PLACEHOLDER until the routing part lands
