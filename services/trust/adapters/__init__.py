"""Trust's adapters: the only code here that touches asyncpg."""
