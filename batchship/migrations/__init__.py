"""Versioned schema migrations (Alembic), applied the same way to SQLite and PostgreSQL."""
