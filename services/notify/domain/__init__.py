"""Notify's rules, in the standard library only: what is told, when, and how often tried."""
