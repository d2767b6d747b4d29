"""The conversation-flow engine: routers, filters, state and built-in flows (pure, no I/O)."""
