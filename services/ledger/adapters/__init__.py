"""The ledger's adapters: its PostgreSQL database, the payment provider, booking's sessions."""
