"""Tests of window_service/web/."""
