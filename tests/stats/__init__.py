"""Tests of window_service/stats/."""
