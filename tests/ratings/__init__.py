"""Tests of window_service/ratings/."""
