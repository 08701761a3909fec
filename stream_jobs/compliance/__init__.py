"""Venue compliance: scans, heartbeats, headcounts and gaps per venue, hour and day."""
