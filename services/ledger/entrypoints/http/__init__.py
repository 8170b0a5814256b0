"""The ledger's HTTP API."""
