"""What an operator sees of a running bot: Prometheus metrics and the log format.

- :mod:`chatops.observability.metrics`: the bot's metrics, in a registry of its own per app.
- :mod:`chatops.observability.outbox_gauges`: outbox depth and oldest pending age, read at scrape time.
- :mod:`chatops.observability.rate_limits`: counts Slack's HTTP 429 answers on every Web API client.
- :mod:`chatops.observability.endpoint`: the ``GET /metrics`` route.
- :mod:`chatops.observability.slack_acks`: how long Slack requests wait for their ack (HTTP and Socket Mode).
- :mod:`chatops.observability.logs`: one log format (text or JSON lines) for chatops and uvicorn,
  with configured secrets masked.
"""
