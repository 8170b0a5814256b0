"""Notify's migrations, applied in name order."""
