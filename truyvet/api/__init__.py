"""The HTTP API (aiohttp): ``tracing`` (itineraries, answers, revisions), ``compliance``
(figures, alerts, inspections, campaigns, the report), ``dashboard`` (the operations room's
page and figures); ``access`` (roles), ``audit``, ``web`` (what routes share), ``app`` (the
application and its middlewares) and ``server`` (the process)."""
