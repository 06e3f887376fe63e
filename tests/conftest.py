"""Shared fixtures: the same ones third-party plugin authors use."""

from chatops.testing.bot import TestBot
from chatops_plugins.webhook.testing import WebhookCustomer

pytest_plugins = ["chatops.testing.fixtures"]

# Most of this suite's comments arrive through the built-in webhook source; a test that
# wants another customer side (or none) passes ``customer=`` to TestBot.
TestBot.default_customer = WebhookCustomer
