"""The console's only adapter: the feed from every stream into the console's state."""
