"""The ledger's use cases, over the ports in ``ports``."""
