"""Tests of window_service/admin/."""
