"""The tracer API: an HTTP service answering itineraries from an in-memory visit index that
follows the visits topic, re-matching standing itineraries as late scans arrive."""
