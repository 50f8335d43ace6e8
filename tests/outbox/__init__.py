"""Tests of window_service/outbox/."""
