"""Use cases: each takes a unit of work (and settings) and returns plain data."""
