"""The hall's event log and its live fan-out to displays, terminals and dashboards."""
