"""The operator console: server-rendered pages, live events, accounts."""
