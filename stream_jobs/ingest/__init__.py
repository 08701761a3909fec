"""Ingest: validate raw check-ins; bad ones to the dead-letter topic, good ones re-keyed by card."""
