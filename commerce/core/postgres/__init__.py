"""The database backend: Django's PostgreSQL backend with django-prometheus's counters,
made cheap enough for the hot path (commerce/core/postgres/base.py)."""
