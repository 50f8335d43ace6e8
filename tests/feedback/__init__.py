"""Tests of window_service/feedback/."""
