"""Pure booking rules: standard library and shared contracts only."""
