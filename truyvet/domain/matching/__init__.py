"""The matching contract, as pure code (no Kafka, no Redis, no faust).

- :mod:`visits`: from a card's scans to its visits (the per-card rules);
- :mod:`index`: a per-venue, day-bucketed columnar index of visits (numpy);
- :mod:`overlap`: answering one itinerary stop from the index (verified, gap, contacts).

Everything here works in whole seconds since the epoch (UTC).
"""
