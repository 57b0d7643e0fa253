"""trainlab: reproducible, tracked ML training."""

__version__ = "0.1.0"
