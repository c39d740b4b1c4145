"""Helpers for weir's end-to-end tests: server lifecycle, media, API, raw sockets."""
