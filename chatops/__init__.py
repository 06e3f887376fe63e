"""chatops: social-media customer service inside Slack."""
