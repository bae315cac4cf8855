"""FastAPI: queries, live WebSocket streams and the web pages (wallboard first)."""
