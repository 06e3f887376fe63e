"""The card's block builders make exactly what slack_sdk's block models make, for any text they are given.

Cards are built as plain dicts (``chatops.slack.blockkit``) so that drawing one does not
re-check what the card's budgets already keep; these properties hold each builder to the
slack_sdk model it stands for, so a card still reaches Slack as slack_sdk would send it.
What Slack refuses (too long, empty) is the budgets' business, checked on whole cards in
tests/test_card_properties.py.
"""

from __future__ import annotations

from any_input import PROPERTY
from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from chatops.slack.blockkit import actions, button, confirm, context, mrkdwn, plain, section

texts = st.text(min_size=1, max_size=40)
labels = st.text(min_size=1, max_size=30)
ids = st.none() | st.text(alphabet="abcdefghij:0123456789_", min_size=1, max_size=20)
styles = st.none() | st.sampled_from(["primary", "danger"])
urls = st.none() | st.sampled_from(["https://example.test/p/1", "http://example.test/?a=1&b=2"])


@PROPERTY
@given(text=texts, block_id=ids, emoji=st.booleans(), as_plain=st.booleans())
def test_a_section_is_slack_sdks_section(text: str, block_id: str | None, emoji: bool, as_plain: bool) -> None:
    ours = section(plain(text, emoji=emoji) if as_plain else mrkdwn(text), block_id=block_id)
    model = PlainTextObject(text=text, emoji=emoji) if as_plain else MarkdownTextObject(text=text)
    assert ours == SectionBlock(block_id=block_id, text=model).to_dict()


@PROPERTY
@given(text=texts, block_id=ids)
def test_a_context_is_slack_sdks_context(text: str, block_id: str | None) -> None:
    assert (
        context(text, block_id=block_id)
        == ContextBlock(block_id=block_id, elements=[MarkdownTextObject(text=text)]).to_dict()
    )


@PROPERTY
@given(
    label=labels,
    value=st.none() | st.text(min_size=1, max_size=20),
    style=styles,
    url=urls,
    dialog=st.none() | st.tuples(labels, texts, labels, labels),
    retry=st.booleans(),
)
def test_buttons_and_their_rows_are_slack_sdks(
    label: str,
    value: str | None,
    style: str | None,
    url: str | None,
    dialog: tuple[str, str, str, str] | None,
    retry: bool,
) -> None:
    ours = button(
        label,
        action_id="chatops:claim",
        value=value,
        style=style,
        url=url,
        confirm=confirm(title=dialog[0], text=dialog[1], yes=dialog[2], no=dialog[3]) if dialog else None,
    )
    model = ButtonElement(
        text=label,
        action_id="chatops:claim",
        value=value,
        style=style,
        url=url,
        confirm=ConfirmObject(title=dialog[0], text=dialog[1], confirm=dialog[2], deny=dialog[3]) if dialog else None,
    )
    assert ours == model.to_dict()
    assert actions([ours], block_id="actions") == ActionsBlock(block_id="actions", elements=[model]).to_dict()
    accessory_of = section(mrkdwn("x"), block_id="answer:1", accessory=ours)
    assert (
        accessory_of == SectionBlock(block_id="answer:1", text=MarkdownTextObject(text="x"), accessory=model).to_dict()
    )
