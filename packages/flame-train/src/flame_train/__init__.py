"""flame package."""
