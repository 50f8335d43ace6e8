"""Tests of window_service/appointments/."""
