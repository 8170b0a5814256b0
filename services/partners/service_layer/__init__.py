"""The gateway's use cases: registry, inbox admission, projection and webhook delivery."""
