"""Worked examples of partners taking part in Kith."""
