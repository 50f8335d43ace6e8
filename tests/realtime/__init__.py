"""Tests of window_service/realtime/."""
