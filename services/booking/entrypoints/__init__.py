"""Ways into booking: HTTP and the event consumers."""
