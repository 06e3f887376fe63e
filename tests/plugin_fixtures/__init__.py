"""Plugins used by the tests only, registered with ``extra_plugins`` (never installed)."""
