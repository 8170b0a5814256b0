"""How work reaches the gateway: the inbox topic, the public streams, and HTTP."""
