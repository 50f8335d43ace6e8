"""ASGI entry point for uvicorn workers: ``window_service.asgi:app``."""

from .app import create_app

app = create_app()
