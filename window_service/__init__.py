"""window_service: queueing and accountability for a government service hall (政务服务大厅)."""

__version__ = "0.1.0"
