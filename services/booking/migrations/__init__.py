"""Booking's SQL migrations, applied in name order."""
