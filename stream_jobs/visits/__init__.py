"""Visits: per-card scan history -> per-venue, day-bucketed visits (compacted topic)."""
