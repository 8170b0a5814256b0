"""Adapters: PostgreSQL, SMTP, booking's contact API, the template folder."""
