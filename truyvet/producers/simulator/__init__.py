"""A scanner simulator for a province like Thừa Thiên Huế.

``world`` builds venues (with per-venue scanning compliance) and residents; ``routine``
turns one resident-day into visits and visits into scans; ``timeline`` orders everything by
the time a scanner would send it (late scanners, re-sends) and picks F0 cases with their
declared itineraries; ``runner`` paces and publishes. All but ``runner`` are pure and
deterministic for a given seed.
"""
