"""The rules of the system as pure code: no Kafka, Redis, faust or HTTP. ``matching``: from
scans to visits, the visit index and the answers to itineraries; ``compliance``: a venue's
figures, alerts and risk; ``checkins``: what a valid check-in is; ``localtime``: Vietnam's
clock."""
