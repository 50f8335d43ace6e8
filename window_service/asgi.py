"""ASGI entry point for uvicorn workers: ``window_service.asgi:app``."""

import gc

from .app import create_app

app = create_app()

# Everything loaded so far (the models, SQLAlchemy's and pydantic's machinery, the templates)
# lives as long as the process. Frozen, the cyclic garbage collector stops walking it on
# every full collection: those walks were pauses of about 80 ms that every request waiting
# at that moment paid, the p99 of bench/issue.py (125 ms before, about 40 ms after).
gc.collect()
gc.freeze()
