"""Venue compliance as pure code: the compliance job's per-venue state and alerts (``state``),
and the figures, rates and risk over a period (``figures``)."""
