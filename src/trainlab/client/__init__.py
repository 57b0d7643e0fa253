"""The SDK side: REST client, batching logger with its spool, fluent API."""
