"""Tests of window_service/queue/."""
