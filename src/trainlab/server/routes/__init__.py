"""Route tables, one module per domain."""
