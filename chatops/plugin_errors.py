"""How a plugin's failure is reported: one line naming the plugin, never a traceback.

Its own module, importing nothing of chatops, so that the hook caller and the plugin
loader can both raise it without importing each other.
"""

from __future__ import annotations


class PluginFailed(Exception):
    """A plugin could not start (or its texts are incomplete): one line naming the plugin and the problem."""

    def __init__(self, plugin: str, problem: str) -> None:
        super().__init__(f"plugin {plugin}: {problem}")
        self.plugin = plugin


def describe_error(exc: BaseException) -> str:
    """An exception as one line: its type and message, never its traceback."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
