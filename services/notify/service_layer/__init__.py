"""Notify's use cases, over ports."""
