"""Tests of window_service/auth/."""
