"""Scanners publishing check-ins: the producer, file publishing and the province simulator."""
