"""Ledger: how an hour is paid for (paid, time credits, gifted hours, expenses), as one
double-entry ledger that posts each completed visit exactly once."""
