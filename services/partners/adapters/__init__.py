"""The gateway's adapters: PostgreSQL, Kafka and HTTP clients."""
