"""Test suites written once and run on more than one backend (arroyo's ``tests/backends``):
``tests/unit`` runs them on the in-memory Kafka, ``tests/integration`` on the real broker, so
the in-memory backend cannot drift from what Kafka does."""
