"""The database: SQLAlchemy Core tables, staging, batches, locks, sync state and demo data."""
