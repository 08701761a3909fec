"""The compliance job: check-ins, heartbeats, headcounts and gaps (all keyed by venue, so
co-partitioned) -> ``compliance.v1`` (compacted: the current content of every venue hour, day,
headcount coverage and gap) and ``alerts.v1``.

State is rebuilt on assignment from the history of the four input partitions, as the visits
job does; outputs are replacements, so a replay re-emits the same records. Alerts are raised
once per alert id in a process; a rebuilt process may raise an alert again with the same id
(``alerts.v1`` is compacted by alert id, consumers keep one). Silence is judged every minute,
per partition, at the time its four inputs are read up to (``InputProgress``, from the records'
times), for the venues open then (the venue registry's opening hours): a job catching up on a
backlog, or reading a backfill as it is published, must not call every venue silent whose
later heartbeats it has not read yet.

Check-ins are validated as the ingest job validates them (``truyvet.domain.checkins``; what
scanners send is read by the compiled ``accept_checkins`` when it is built, the rest by those
rules); the ones refused are skipped here, and dead-lettered by ingest only, so each is
reported once.
Refused heartbeats, headcounts and gaps are dead-lettered here.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

from truyvet import metrics, topics
from truyvet.codec import alert as alert_codec
from truyvet.codec import compliance as compliance_codec
from truyvet.codec import gap as gap_codec
from truyvet.codec import headcount as headcount_codec
from truyvet.codec import heartbeat as heartbeat_codec
from truyvet.codec.alert import Alert
from truyvet.codec.checkin import CheckIn
from truyvet.codec.errors import InvalidEvent
from truyvet.codec.native import core as compiled
from truyvet.domain.checkins import accept
from truyvet.domain.compliance.alerts import Compliance
from truyvet.domain.compliance.state import Keys
from truyvet.domain.venues import OpenVenue
from truyvet.jobs.progress import InputProgress
from truyvet.jobs.runtime import BatchJob
from truyvet.jobs.step import Output, StepResult, dead_letter
from truyvet.kafka.backend import Backend
from truyvet.kafka.follower import read_partition
from truyvet.kafka.partitioner import partition_of
from truyvet.kafka.record import Record, TopicPartition
from truyvet.settings import Settings

log = logging.getLogger(__name__)
STAGE = "compliance"
SILENCE_CHECK_S = 60.0
OpenAt = Callable[[int], dict[str, OpenVenue]]  # t_s -> the venues open then
Apply = Callable[[Compliance, bytes | None, int], tuple[str, Keys]]


class ComplianceStep:
    stage = STAGE

    def __init__(self, s: Settings, open_at: OpenAt, progress: InputProgress,
                 backend: Backend | None = None) -> None:
        self.s = s
        self.open_at = open_at
        self.progress = progress
        self.backend = backend
        self.sink = topics.compliance(s)
        self.alerts_topic = topics.alerts(s)
        self.partitions = s.checkin_partitions
        self.retention_s = int(s.retention_days * 86_400)
        self.max_future_ms = s.max_future_skew_s * 1000
        self.checkins = topics.checkins(s)
        self.states: dict[int, Compliance] = {}
        self.inputs: dict[str, Apply] = {
            self.checkins: self._scan, topics.heartbeats(s): self._heartbeat,
            topics.headcounts(s): self._headcount, topics.gaps(s): self._gap}
        self.silence_every_s = SILENCE_CHECK_S
        self._last_silence_check = 0.0
        self._caught_up: set[int] = set()  # partitions read to their end since assigned

    # --- one input record into state changes (InvalidEvent: refused) ----------------------------
    def _scan(self, c: Compliance, raw: bytes | None, now_s: int) -> tuple[str, Keys]:
        scan = accept(raw, now_s * 1000, self.max_future_ms)
        return scan.venue_id, c.add_scan(scan, now_s)

    def _heartbeat(self, c: Compliance, raw: bytes | None, now_s: int) -> tuple[str, Keys]:
        hb = heartbeat_codec.decode(raw or b"")
        return hb.venue_id, c.add_heartbeat(hb, now_s)

    def _headcount(self, c: Compliance, raw: bytes | None, now_s: int) -> tuple[str, Keys]:
        hc = headcount_codec.decode(raw or b"")
        return hc.venue_id, c.add_headcount(hc)

    def _gap(self, c: Compliance, raw: bytes | None, now_s: int) -> tuple[str, Keys]:
        gap = gap_codec.decode(raw or b"")
        return gap.venue_id, c.add_gap(gap)

    def _checkins(self, batch: Sequence[Record], now_ms: int) -> Iterable[CheckIn | None]:
        """Per record of ``batch``, its check-in as the compiled core reads it, or None where
        the rules of ``truyvet.domain.checkins`` must judge (and for the other inputs)."""
        if compiled is None:
            return itertools.repeat(None)
        checkins = self.checkins
        return compiled.accept_checkins([r.value if r.topic == checkins else None for r in batch],
                                        now_ms, self.max_future_ms, CheckIn)

    # --- state per partition ------------------------------------------------------------------------
    def assigned(self, partitions: dict[TopicPartition, int]) -> None:
        by_partition: dict[int, dict[str, int]] = defaultdict(dict)
        for (topic, p), committed in partitions.items():
            by_partition[p][topic] = committed
        now_s = int(time.time())
        for p, offsets in by_partition.items():
            started = time.monotonic()
            state = self.states[p] = Compliance(self.retention_s)
            n = 0
            for topic, until in offsets.items():
                for batch in read_partition(self.s, topic, p, until, backend=self.backend):
                    for r, scan in zip(batch, self._checkins(batch, now_s * 1000)):
                        if scan is not None:
                            state.add_scan(scan, now_s)
                        else:
                            try:
                                self.inputs[topic](state, r.value, now_s)
                            except InvalidEvent:
                                continue  # refused when first read (dead-lettered then)
                        n += 1
            state.raised.update(state.already_raised(now_s))
            log.info("compliance: partition %d rebuilt from %d records in %.1fs", p, n,
                     time.monotonic() - started)

    def revoked(self, partitions: list[TopicPartition]) -> None:
        for _, p in partitions:
            self.states.pop(p, None)
            self._caught_up.discard(p)

    # --- processing ----------------------------------------------------------------------------
    def process(self, batch: Sequence[Record], now_ms: int) -> StepResult:
        now_s = now_ms // 1000
        result = StepResult()
        touched: dict[tuple[int, str], Keys] = defaultdict(set)
        for r, scan in zip(batch, self._checkins(batch, now_s * 1000)):
            state = self.states.get(r.partition)
            if state is None:
                state = self.states[r.partition] = Compliance(self.retention_s)
            if scan is not None:
                venue, keys = scan.venue_id, state.add_scan(scan, now_s)
            else:
                try:
                    venue, keys = self.inputs[r.topic](state, r.value, now_s)
                except InvalidEvent as exc:
                    if r.topic != self.checkins:  # refused check-ins: ingest reports them
                        result.dead.append(dead_letter(r, exc, STAGE, now_ms))
                    continue
            touched[(r.partition, venue)] |= keys
        alerts: list[Alert] = []
        read_to: dict[int, int] = {}
        for (p, venue), keys in touched.items():
            state = self.states[p]
            for kind, key in keys:
                record = state.record(venue, kind, key)
                if record is not None:
                    result.outputs.append(Output(
                        self.sink, compliance_codec.key(record), compliance_codec.encode(record),
                        partition=partition_of(venue.encode(), self.partitions)))
            if p not in read_to:
                upto_ms = self.progress.complete_to_ms(self.inputs, p, now_ms)
                read_to[p] = -1 if upto_ms is None else upto_ms // 1000
            alerts += state.alerts_for(venue, keys, now_s, read_to[p])
        result.outputs += self._alert_outputs(alerts)
        return result

    def tick(self, now_ms: int) -> StepResult | None:
        """Judgements of absence, per partition at the time its inputs are read up to: the
        coverage of headcounts held back until that time passed their span (every tick), and
        silence (every ``silence_every_s``, input or not, and at once when a partition is
        first read to the end of all four inputs: caught up after its backlog); then
        forgetting what is past the retention."""
        due = time.monotonic() - self._last_silence_check >= self.silence_every_s
        if due:
            self._last_silence_check = time.monotonic()
        alerts: list[Alert] = []
        open_at: dict[int, dict[str, OpenVenue]] = {}  # by minute
        for p, state in self.states.items():
            upto_ms = self.progress.complete_to_ms(self.inputs, p, now_ms)
            if upto_ms is None:
                continue
            at_s = upto_ms // 1000
            alerts += state.ripe_coverage(at_s, now_ms // 1000)  # few held back: every tick
            first_caught_up = p not in self._caught_up and self.progress.at_end(self.inputs, p)
            if first_caught_up:
                self._caught_up.add(p)
            if not (due or first_caught_up):
                continue
            venues = open_at.get(at_s // 60)
            if venues is None:
                venues = open_at[at_s // 60] = self.open_at(at_s)
            alerts += state.silent_venues(venues, at_s)
        if due:
            for state in self.states.values():
                state.purge(now_ms // 1000)
        return StepResult(outputs=self._alert_outputs(alerts)) if alerts else None

    def _alert_outputs(self, alerts: list[Alert]) -> list[Output]:
        out = []
        for a in alerts:
            out.append(Output(self.alerts_topic, alert_codec.key(a), alert_codec.encode(a),
                              partition=partition_of(a.venue_id.encode(), self.partitions)))
            metrics.ALERTS.labels(a.kind).inc()
        return out


def compliance_job(s: Settings, open_at: OpenAt, backend: Backend | None = None) -> BatchJob:
    progress = InputProgress(clock_topics=[topics.checkins(s), topics.heartbeats(s)])
    step = ComplianceStep(s, open_at, progress, backend)
    return BatchJob(s, "compliance", list(step.inputs), step, topics.deadletter(s),
                    progress=progress, backend=backend)
