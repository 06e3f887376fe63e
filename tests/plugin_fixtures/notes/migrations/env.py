"""The notes plugin's Alembic environment: one line, as for any plugin."""

from chatops.plugin_migrations import run_plugin_env

run_plugin_env()
