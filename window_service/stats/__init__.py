"""Statistics for the efficiency office: figures, charts, exports, the statistics page."""
