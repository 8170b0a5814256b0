"""The only booking code that touches asyncpg."""
