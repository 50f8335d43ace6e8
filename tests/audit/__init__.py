"""Tests of window_service/audit/."""
