"""The rota plugin's Alembic environment: chatops supplies the connection and the version table."""

from chatops.plugin_migrations import run_plugin_env

run_plugin_env()
