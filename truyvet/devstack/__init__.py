"""The local stack: real Apache Kafka (KRaft) and Redis processes run by truyvet itself.

Used by ``truyvet run`` / ``truyvet stack`` and by the test fixtures. Every start is
idempotent (a server already running from the same data directory is reused), readiness is
awaited by probing the server's own protocol, and stop is graceful (SIGTERM, then wait).
"""
