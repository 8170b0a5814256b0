"""Booking: Kith's HTTP API and system of record for people, requests, offers and bookings."""
