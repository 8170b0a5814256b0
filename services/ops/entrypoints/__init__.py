"""How operators reach the console: its HTTP server."""
