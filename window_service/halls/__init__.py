"""The hall and its organisation: departments, services (事项), windows (窗口), devices."""
