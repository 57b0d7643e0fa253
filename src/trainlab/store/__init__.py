"""Persistence: the store interfaces and their SQL implementation."""
