"""Venue compliance for authorities and inspectors: the compliance job's records, alerts,
inspections and campaigns followed from Kafka; figures, the inspection queue and the report."""
