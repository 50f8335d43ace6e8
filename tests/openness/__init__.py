"""Tests of window_service/openness/."""
