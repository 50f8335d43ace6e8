"""The hall administrator's configuration: settings, departments, services, windows, staff, devices."""
