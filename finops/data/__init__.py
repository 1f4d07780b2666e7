"""The store and what fills it."""
