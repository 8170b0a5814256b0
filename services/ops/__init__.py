"""The operators' console: every stream as it happens, who is waiting, open concerns, figures.

Its own process (``python -m services.ops``). It reads every topic, private ones included,
without a consumer group, and keeps what it shows in memory, rebuilt from the topics (the
source of truth) each time it starts. Only operators, signed in with the operators' token,
see anything.
"""
