"""Shared fixtures: the same ones third-party plugin authors use."""

pytest_plugins = ["chatops.testing.fixtures"]
