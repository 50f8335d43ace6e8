"""ASGI entry point for uvicorn workers: ``window_service.asgi:app``."""

from . import gc_tuning
from .app import create_app

app = create_app()
# Garbage-collector pauses set the p99 of issuing and of display fan-out (see gc_tuning).
gc_tuning.tune(app.state.core.settings.tz)
