"""Entrypoints: the consumer, the sender and reminder sweeps, the operators' HTTP API."""
