"""Tests of window_service/cases/."""
