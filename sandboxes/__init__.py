"""Sandboxes: isolated, resource-limited execution of untrusted candidate code."""
