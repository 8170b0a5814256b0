"""The partners gateway: local partners take part through checked, scoped streams."""
