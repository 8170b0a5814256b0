"""A synthetic neighbourhood replayed through matching's real code, against baselines.

``world`` draws a week; ``replay`` runs it through the real handlers and through a greedy
baseline; ``optimum`` solves the offline optimum (scipy, imported only there); ``metrics``
compares them; ``throughput`` times the real per-request path in cities of any size.
Pure: no broker, no database.
"""
