"""Alembic migrations of the chatops schema."""
