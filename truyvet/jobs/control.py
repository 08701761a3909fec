"""The control topic as a worker hears it: operators' commands to its jobs (today ``resume``
a job its dead-letter guard paused), followed from the topic's beginning so that a command
given while a worker was starting is not missed; each applies only to a pause that began
before it was given (``BatchJob.resume``)."""

from __future__ import annotations

import logging

from truyvet import topics
from truyvet.codec import control as control_codec
from truyvet.jobs.runtime import BatchJob
from truyvet.kafka.backend import Backend
from truyvet.kafka.follower import TopicFollower
from truyvet.kafka.record import Record
from truyvet.settings import Settings

log = logging.getLogger(__name__)


class Control:
    def __init__(self, s: Settings, jobs: list[BatchJob], backend: Backend | None = None) -> None:
        self.jobs = {j.name: j for j in jobs}
        self.follower = TopicFollower(s, topics.control(s), self._on_batch, "worker-control",
                                      backend=backend)

    def start(self) -> Control:
        self.follower.start()
        return self

    def stop(self) -> None:
        self.follower.stop()

    def _on_batch(self, batch: list[Record]) -> None:
        for r in batch:
            if r.value is None:
                continue
            command = control_codec.decode(r.value)  # refused: the follower passes over it
            job = self.jobs.get(command.job)
            if job is not None and command.command == "resume" and job.resume(command.at_ms):
                log.warning("%s: resume given by %s at %s", job.name, command.by,
                            r.timestamp_ms)
