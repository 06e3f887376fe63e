"""Block Kit and message content checks: what Slack refuses in a message, a modal or a Home tab.

The fake's chat and views methods answer with the first problem found, as Slack does;
:mod:`chatops.testing.card_checks` uses the same functions to list every problem in a
card before it is ever posted. Limits follow docs.slack.dev/reference/block-kit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from chatops.testing.fake_slack.web_api import missing

# ---------------------------------------------------------------------------
# Block Kit limits (docs.slack.dev/reference/block-kit, PLATFORM-NOTES.md)
# ---------------------------------------------------------------------------

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_ID_LENGTH = 255
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MAX_ACTIONS_ELEMENTS = 25
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OPTIONS = 100
MAX_CONTEXT_ELEMENTS = 10
MAX_PLACEHOLDER = 150
MAX_LABEL = 2000
MAX_MESSAGE_TEXT = 40_000
#: Slack rejects messages whose blocks carry ~13k characters in total; the fake is stricter.
MAX_BLOCKS_TOTAL_TEXT = 12_000
MAX_ATTACHMENTS = 100
MAX_VIEW_TITLE = 24
MAX_VIEW_BUTTON = 24
MAX_CALLBACK_ID = 255
MAX_PRIVATE_METADATA = 3000
MAX_CONFIRM_TITLE = 100
MAX_CONFIRM_TEXT = 300
MAX_CONFIRM_BUTTON = 30

_TEXT_TYPES = ("plain_text", "mrkdwn")
_PLAIN = ("plain_text",)
_SELECTS_WITH_OPTIONS = frozenset({"static_select", "multi_static_select", "overflow", "radio_buttons", "checkboxes"})


class _Checker:
    """Collects Block Kit violations as Slack words them (with a JSON pointer)."""

    def __init__(self) -> None:
        """Start with no errors."""
        self.errors: list[str] = []

    def err(self, message: str, pointer: str) -> None:
        """Record ``message`` at JSON ``pointer``."""
        self.errors.append(f"{message} [json-pointer:{pointer}]")

    def string(self, value: Any, pointer: str, *, max_len: int, required: bool = False) -> None:
        """Check an optional (or ``required``) string of at most ``max_len`` characters."""
        if value is None:
            if required:
                self.err(f"missing required field: {pointer.rsplit('/', 1)[-1]}", pointer)
            return
        if not isinstance(value, str):
            self.err("must be a string", pointer)
        elif len(value) > max_len:
            self.err(f"must be less than {max_len + 1} characters", pointer)

    def text(
        self,
        obj: Any,
        pointer: str,
        *,
        max_len: int,
        types: tuple[str, ...] = _TEXT_TYPES,
        required: bool = True,
    ) -> None:
        """Check a text object: its ``type`` is one of ``types`` and its text is 1..``max_len`` long."""
        if obj is None:
            if required:
                self.err(f"missing required field: {pointer.rsplit('/', 1)[-1]}", pointer)
            return
        if not isinstance(obj, dict):
            self.err("must be a text object", pointer)
            return
        kind = obj.get("type")
        if kind not in types:
            self.err(f"must be a valid enum value (expected {' or '.join(types)}, got {kind!r})", pointer + "/type")
        text = obj.get("text")
        if not isinstance(text, str):
            self.err("must be a string", pointer + "/text")
        elif not text:
            self.err("must be more than 0 characters", pointer + "/text")
        elif len(text) > max_len:
            self.err(f"must be less than {max_len + 1} characters", pointer + "/text")

    def array(self, value: Any, pointer: str, *, max_items: int, min_items: int = 1) -> list[Any]:
        """Check a list's length; return it (or [] when it is not a list)."""
        if not isinstance(value, list):
            self.err("must be an array", pointer)
            return []
        if len(value) > max_items:
            self.err(f"no more than {max_items} items allowed", pointer)
        if len(value) < min_items:
            self.err(f"must provide at least {min_items} item(s)", pointer)
        return value

    def option(self, option: Any, pointer: str, *, text_types: tuple[str, ...]) -> None:
        """Check an option object (text, value, description, url)."""
        if not isinstance(option, dict):
            self.err("must be an option object", pointer)
            return
        self.text(option.get("text"), pointer + "/text", max_len=MAX_OPTION_TEXT, types=text_types)
        self.string(option.get("value"), pointer + "/value", max_len=MAX_OPTION_VALUE)
        self.text(option.get("description"), pointer + "/description", max_len=MAX_OPTION_TEXT, required=False)
        self.string(option.get("url"), pointer + "/url", max_len=MAX_URL)

    def confirm(self, dialog: Any, pointer: str) -> None:
        """Check a confirmation dialog (title 100, text 300, confirm and deny 30 characters)."""
        if not isinstance(dialog, dict):
            self.err("must be a confirm object", pointer)
            return
        self.text(dialog.get("title"), pointer + "/title", max_len=MAX_CONFIRM_TITLE, types=_PLAIN)
        self.text(dialog.get("text"), pointer + "/text", max_len=MAX_CONFIRM_TEXT)
        self.text(dialog.get("confirm"), pointer + "/confirm", max_len=MAX_CONFIRM_BUTTON, types=_PLAIN)
        self.text(dialog.get("deny"), pointer + "/deny", max_len=MAX_CONFIRM_BUTTON, types=_PLAIN)

    def element(self, element: Any, pointer: str) -> None:
        """Check an interactive element (button, select, input, …)."""
        if not isinstance(element, dict):
            self.err("must be an object", pointer)
            return
        kind = element.get("type")
        if not isinstance(kind, str):
            self.err("missing required field: type", pointer + "/type")
            return
        self.string(element.get("action_id"), pointer + "/action_id", max_len=MAX_ID_LENGTH)
        self.text(element.get("placeholder"), pointer + "/placeholder", max_len=MAX_PLACEHOLDER, required=False)
        if element.get("confirm") is not None:
            self.confirm(element["confirm"], pointer + "/confirm")
        if kind == "button":
            self.text(element.get("text"), pointer + "/text", max_len=MAX_BUTTON_TEXT, types=_PLAIN)
            self.string(element.get("value"), pointer + "/value", max_len=MAX_BUTTON_VALUE)
            self.string(element.get("url"), pointer + "/url", max_len=MAX_URL)
            style = element.get("style")
            if style is not None and style not in ("primary", "danger"):
                self.err("must be a valid enum value (expected primary or danger)", pointer + "/style")
        elif kind == "image":
            self.string(element.get("image_url"), pointer + "/image_url", max_len=MAX_URL)
            self.string(element.get("alt_text"), pointer + "/alt_text", max_len=MAX_LABEL, required=True)
        elif kind in _SELECTS_WITH_OPTIONS:
            # Checkboxes and radio buttons may use mrkdwn option text; menus only plain_text.
            text_types = _TEXT_TYPES if kind in ("checkboxes", "radio_buttons") else _PLAIN
            limit = 5 if kind == "overflow" else MAX_OPTIONS
            if "options" in element:
                options = self.array(element["options"], pointer + "/options", max_items=limit)
                for i, option in enumerate(options):
                    self.option(option, f"{pointer}/options/{i}", text_types=text_types)
            if "option_groups" in element:
                groups = self.array(element["option_groups"], pointer + "/option_groups", max_items=MAX_OPTIONS)
                for g, group in enumerate(groups):
                    gp = f"{pointer}/option_groups/{g}"
                    if not isinstance(group, dict):
                        self.err("must be an option group object", gp)
                        continue
                    self.text(group.get("label"), gp + "/label", max_len=MAX_OPTION_TEXT, types=_PLAIN)
                    options = self.array(group.get("options"), gp + "/options", max_items=MAX_OPTIONS)
                    for i, option in enumerate(options):
                        self.option(option, f"{gp}/options/{i}", text_types=text_types)
        elif kind == "plain_text_input":
            max_length = element.get("max_length")
            if max_length is not None and (not isinstance(max_length, int) or not 1 <= max_length <= 3000):
                self.err("must be between 1 and 3000", pointer + "/max_length")
            self.string(element.get("initial_value"), pointer + "/initial_value", max_len=3000)

    def block(self, block: Any, pointer: str, seen_block_ids: set[str]) -> None:
        """Check one layout block."""
        if not isinstance(block, dict):
            self.err("must be an object", pointer)
            return
        kind = block.get("type")
        if not isinstance(kind, str):
            self.err("missing required field: type", pointer + "/type")
            return
        block_id = block.get("block_id")
        self.string(block_id, pointer + "/block_id", max_len=MAX_ID_LENGTH)
        if isinstance(block_id, str):
            if block_id in seen_block_ids:
                self.err(f"duplicate block_id {block_id!r}", pointer + "/block_id")
            seen_block_ids.add(block_id)
        if kind == "section":
            if block.get("text") is None and block.get("fields") is None:
                self.err("must provide text or fields", pointer)
            self.text(block.get("text"), pointer + "/text", max_len=MAX_SECTION_TEXT, required=False)
            if "fields" in block:
                fields = self.array(block["fields"], pointer + "/fields", max_items=MAX_SECTION_FIELDS)
                for i, item in enumerate(fields):
                    self.text(item, f"{pointer}/fields/{i}", max_len=MAX_FIELD_TEXT)
            if block.get("accessory") is not None:
                self.element(block["accessory"], pointer + "/accessory")
        elif kind == "header":
            self.text(block.get("text"), pointer + "/text", max_len=MAX_HEADER_TEXT, types=_PLAIN)
        elif kind == "actions":
            elements = self.array(block.get("elements"), pointer + "/elements", max_items=MAX_ACTIONS_ELEMENTS)
            action_ids: set[str] = set()
            for i, element in enumerate(elements):
                self.element(element, f"{pointer}/elements/{i}")
                action_id = element.get("action_id") if isinstance(element, dict) else None
                if isinstance(action_id, str):
                    if action_id in action_ids:
                        self.err(f"duplicate action_id {action_id!r}", f"{pointer}/elements/{i}/action_id")
                    action_ids.add(action_id)
        elif kind == "context":
            elements = self.array(block.get("elements"), pointer + "/elements", max_items=MAX_CONTEXT_ELEMENTS)
            for i, element in enumerate(elements):
                ep = f"{pointer}/elements/{i}"
                if isinstance(element, dict) and element.get("type") == "image":
                    self.element(element, ep)
                else:
                    self.text(element, ep, max_len=MAX_SECTION_TEXT)
        elif kind == "image":
            self.string(block.get("image_url"), pointer + "/image_url", max_len=MAX_URL)
            self.string(block.get("alt_text"), pointer + "/alt_text", max_len=MAX_LABEL, required=True)
            self.text(block.get("title"), pointer + "/title", max_len=MAX_LABEL, types=_PLAIN, required=False)
        elif kind == "input":
            self.text(block.get("label"), pointer + "/label", max_len=MAX_LABEL, types=_PLAIN)
            self.text(block.get("hint"), pointer + "/hint", max_len=MAX_LABEL, types=_PLAIN, required=False)
            if block.get("element") is None:
                self.err("missing required field: element", pointer + "/element")
            else:
                self.element(block["element"], pointer + "/element")
        # divider, rich_text, file, video, markdown, …: no limits checked.


def block_kit_errors(blocks: Any, *, pointer: str = "/blocks", max_blocks: int = MAX_MESSAGE_BLOCKS) -> list[str]:
    """Return the Block Kit violations in ``blocks`` (empty when valid).

    Each entry reads like Slack's, e.g.
    ``"must be less than 3001 characters [json-pointer:/blocks/0/text/text]"``.
    """
    checker = _Checker()
    items = checker.array(blocks, pointer, max_items=max_blocks, min_items=0)
    seen: set[str] = set()
    for i, block in enumerate(items):
        checker.block(block, f"{pointer}/{i}", seen)
    return checker.errors


def message_content_errors(
    args: Mapping[str, Any], *, max_blocks: int = MAX_MESSAGE_BLOCKS
) -> list[tuple[str, list[str]]]:
    """Every reason Slack refuses a chat message's content, in the order it answers them: ``(error, details)``.

    The chat methods answer the first; :mod:`chatops.testing.card_checks` reports them all.
    ``details`` are the Block Kit violations for ``invalid_blocks``, and the size for
    ``msg_blocks_too_long``. A ``max_blocks`` other than a message's checks a modal's blocks,
    which have no message size limit.
    """
    found: list[tuple[str, list[str]]] = []
    text, blocks, attachments = args.get("text"), args.get("blocks"), args.get("attachments")
    if missing(text) and missing(blocks) and missing(attachments):
        found.append(("no_text", []))
    if text is not None and len(str(text)) > MAX_MESSAGE_TEXT:
        found.append(("msg_too_long", []))
    if blocks is not None:
        if not isinstance(blocks, list):
            found.append(("invalid_blocks_format", []))
        else:
            errors = block_kit_errors(blocks, max_blocks=max_blocks)
            if errors:
                found.append(("invalid_blocks", errors))
            length = _blocks_text_length(blocks)
            if max_blocks == MAX_MESSAGE_BLOCKS and length > MAX_BLOCKS_TOTAL_TEXT:
                found.append(("msg_blocks_too_long", [f"{length} characters of text"]))
    if attachments is not None:
        if not isinstance(attachments, list):
            found.append(("invalid_attachments", []))
        elif len(attachments) > MAX_ATTACHMENTS:
            found.append(("too_many_attachments", []))
    if "metadata" in args:
        metadata = args["metadata"]
        if (
            not isinstance(metadata, dict)
            or not isinstance(metadata.get("event_type"), str)
            or not metadata["event_type"]
            or not isinstance(metadata.get("event_payload"), dict)
        ):
            found.append(("invalid_metadata", []))
    return found


def view_errors(view: Any, *, kinds: Iterable[str] = ("modal",), pointer: str = "/view") -> list[str]:
    """Return the violations in a modal or home-tab ``view`` (empty when valid)."""
    checker = _Checker()
    if not isinstance(view, dict):
        checker.err("must be an object", pointer)
        return checker.errors
    kinds = tuple(kinds)
    kind = view.get("type")
    if kind not in kinds:
        checker.err(f"must be a valid enum value (expected {' or '.join(kinds)}, got {kind!r})", pointer + "/type")
    if kind == "modal":
        checker.text(view.get("title"), pointer + "/title", max_len=MAX_VIEW_TITLE, types=_PLAIN)
        for button in ("submit", "close"):
            checker.text(view.get(button), f"{pointer}/{button}", max_len=MAX_VIEW_BUTTON, types=_PLAIN, required=False)
        blocks = view.get("blocks", [])
        has_input = isinstance(blocks, list) and any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        if has_input and view.get("submit") is None:
            checker.err("a submit button is required when the view has input blocks", pointer + "/submit")
    checker.string(view.get("callback_id"), pointer + "/callback_id", max_len=MAX_CALLBACK_ID)
    checker.string(view.get("private_metadata"), pointer + "/private_metadata", max_len=MAX_PRIVATE_METADATA)
    checker.string(view.get("external_id"), pointer + "/external_id", max_len=MAX_ID_LENGTH)
    if "blocks" not in view:
        checker.err("missing required field: blocks", pointer + "/blocks")
    else:
        checker.errors.extend(block_kit_errors(view["blocks"], pointer=pointer + "/blocks", max_blocks=MAX_VIEW_BLOCKS))
    return checker.errors


def _blocks_text_length(value: Any) -> int:
    """Total length of every ``text`` string inside ``value`` (blocks, recursively)."""
    if isinstance(value, list):
        return sum(_blocks_text_length(item) for item in value)
    if isinstance(value, dict):
        total = 0
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                total += len(item)
            else:
                total += _blocks_text_length(item)
        return total
    return 0
