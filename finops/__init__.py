"""FinOps: self-hosted cloud cost management."""

__version__ = "0.1.0"
