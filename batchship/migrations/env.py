"""Alembic's entry point: batchship passes the connection to migrate (batchship/schema_version.py)."""
from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        # Two sites starting at once on a new database: one migrates, the other then finds it done.
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7310021)")
    context.run_migrations()
