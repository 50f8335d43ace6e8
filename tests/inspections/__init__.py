"""Tests of window_service/inspections/."""
