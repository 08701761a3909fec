"""Kafka plumbing shared by producers, stream jobs and tools (confluent-kafka)."""
