"""Helpers the tests share: databases, a served app, API clients, the browser."""
