"""The console's live state, fed by the streams and read by the HTTP routes."""
