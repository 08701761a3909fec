"""The stream worker's jobs: ingest, visits and compliance as batch jobs on a consumer group
each (``runtime``: consume, step, produce, commit), hosted by a faust worker (``app``,
``worker``: lifecycle, ``/metrics``, ``/ready``) that also runs the low-volume dead-letter
monitor agent. Each job is a thin step module; the rules it applies are in ``truyvet.domain``."""
