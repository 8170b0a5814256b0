"""A community lift service run by a partner: it takes every lift request Kith routes to it."""
