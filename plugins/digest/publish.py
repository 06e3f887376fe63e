"""Posting a digest to a channel: its message (Block Kit), then its chart, through any Slack client.

One path for the scheduled post (an outbox job) and ``chatops digest --post`` (a Web API
client of its own), so both post the same thing.
"""

from __future__ import annotations
