"""Kith's common package: event contracts, messaging, settings, logging and the embedded stack.

Services share nothing but this package and the Kafka topics it describes.
"""
