"""Tracing: itineraries answered from the visit index, standing ones re-matched as late scans
arrive, their revisions published and pushed to watchers."""
