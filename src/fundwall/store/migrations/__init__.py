"""Alembic migrations of the Fundwall schema, shipped inside the package."""
