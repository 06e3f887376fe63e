"""A small DOM read with the standard library's ``html.parser``, for asserting on the sandbox's HTML.

dom = parse(message_html(card.message))
[claim] = dom.find_all("button", text="Claim")
assert "bk-primary" in claim.classes
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})


@dataclass
class Node:
    """An element: its tag, attributes and children (elements and text)."""

    tag: str
    attrs: dict[str, str | None] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)

    @property
    def classes(self) -> list[str]:
        """The element's CSS classes."""
        return (self.attrs.get("class") or "").split()

    @property
    def text(self) -> str:
        """The text a person reads in the element (``<br>`` as a line break)."""
        parts: list[str] = []
        for child in self.children:
            if isinstance(child, str):
                parts.append(child)
            elif child.tag == "br":
                parts.append("\n")
            else:
                parts.append(child.text)
        return "".join(parts)

    @property
    def action(self) -> dict[str, Any]:
        """The element's ``data-action`` JSON."""
        raw = self.attrs.get("data-action")
        assert raw is not None, f"<{self.tag}> has no data-action"
        found = json.loads(raw)
        assert isinstance(found, dict)
        return found

    def walk(self) -> Iterator[Node]:
        """Every element under this one, in document order."""
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.walk()

    def find_all(self, tag: str | None = None, *, text: str | None = None, **attrs: str) -> list[Node]:
        """Elements with ``tag``, exactly ``text`` (stripped) and the given attributes (``data_testid`` = ``data-testid``, ``class_`` = ``class``)."""
        wanted = {k.rstrip("_").replace("_", "-"): v for k, v in attrs.items()}

        def matches(node: Node) -> bool:
            return (
                (tag is None or node.tag == tag)
                and (text is None or node.text.strip() == text)
                and all(node.attrs.get(k) == v for k, v in wanted.items())
            )

        return [node for node in self.walk() if matches(node)]

    def find(self, tag: str | None = None, **kwargs: Any) -> Node:
        """The one element matching (fails unless there is exactly one)."""
        found = self.find_all(tag, **kwargs)
        assert len(found) == 1, f"expected one <{tag}> {kwargs}, found {len(found)}"
        return found[0]

    def by_id(self, element_id: str) -> Node:
        """The element with this id."""
        return self.find(id=element_id)

    def where(self, predicate: Callable[[Node], bool]) -> list[Node]:
        """Elements for which ``predicate`` holds."""
        return [node for node in self.walk() if predicate(node)]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root")
        self.stack = [self.root]
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = [name for name, _ in attrs]
        if len(names) != len(set(names)):
            self.problems.append(f"<{tag}> repeats an attribute: {names}")
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if self.stack[-1].tag != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1].tag}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)

    def handle_comment(self, data: str) -> None:
        self.problems.append(f"a comment: {data!r}")

    def handle_decl(self, decl: str) -> None:
        self.problems.append(f"a declaration: {decl!r}")

    def handle_pi(self, data: str) -> None:
        self.problems.append(f"a processing instruction: {data!r}")

    def unknown_decl(self, data: str) -> None:
        self.problems.append(f"an unknown declaration: {data!r}")


def parse(markup: str) -> Node:
    """``markup`` as a tree; fails on unbalanced tags, repeated attributes, comments or declarations."""
    builder = _Builder()
    builder.feed(markup)
    builder.close()
    assert not builder.problems, builder.problems
    assert builder.stack == [builder.root], f"unclosed: {[n.tag for n in builder.stack[1:]]}"
    return builder.root
