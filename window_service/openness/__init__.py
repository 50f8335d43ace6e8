"""Openness (政务公开): results publication (办件结果公示) and fees in public (收费公开)."""
