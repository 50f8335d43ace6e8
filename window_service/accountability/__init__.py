"""A hall's accountability settings (效能参数) and the rating periods: what feedback,
inspections, devices and ratings all read."""
