"""chatops: social-media customer service inside Slack."""

__version__ = "0.1.0"
