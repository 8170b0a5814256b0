"""The ledger's entrypoints: the bookings consumer and the HTTP API."""
