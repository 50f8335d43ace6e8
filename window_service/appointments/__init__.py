"""Appointments (预约) and remote tickets (网上取号): the citizen's journey beyond the kiosk."""
