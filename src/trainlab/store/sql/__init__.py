"""SQLAlchemy 2.0 implementation of the stores (SQLite and PostgreSQL)."""
