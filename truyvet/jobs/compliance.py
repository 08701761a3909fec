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
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence

import orjson
from confluent_kafka import Message

from truyvet.domain.compliance.state import Alert, Compliance, Record
from truyvet.jobs.progress import InputProgress
from truyvet.jobs.runtime import BatchJob, Output, StepResult
from truyvet.jobs.visits import partition_of
from truyvet import metrics, topics
from truyvet.codec import checkin, signals
from truyvet.codec.deadletter import DeadLetter
from truyvet.codec.errors import InvalidEvent, Reason
from truyvet.codec.fields import load_json
from truyvet.codec.venue import OpenVenue
from truyvet.kafka.follower import read_partition
from truyvet.settings import Settings

log = logging.getLogger(__name__)
STAGE = "compliance"
SEP = "\x1f"
SILENCE_CHECK_S = 60.0
OpenAt = Callable[[int], dict[str, OpenVenue]]  # t_s -> the venues open then
_GAP_FIELDS = frozenset({"venue_id", "gap_id", "status", "case_id", "from", "to", "flagged_at"})


class ComplianceStep:
    stage = STAGE

    def __init__(self, s: Settings, open_at: OpenAt, progress: InputProgress) -> None:
        self.s = s
        self.open_at = open_at
        self.progress = progress
        self.sink = topics.compliance(s)
        self.alerts_topic = topics.alerts(s)
        self.partitions = s.checkin_partitions
        self.retention_s = int(s.retention_days * 86_400)
        self.states: dict[int, Compliance] = {}
        self.inputs = {topics.checkins(s): self._scan, topics.heartbeats(s): self._heartbeat,
                       topics.headcounts(s): self._headcount, topics.gaps(s): self._gap}
        self.silence_every_s = SILENCE_CHECK_S
        self._last_silence_check = 0.0
        self._caught_up: set[int] = set()  # partitions read to their end since assigned

    # --- decoding one input record into state changes ------------------------------------------
    def _scan(self, c: Compliance, raw: bytes, now_s: int) -> tuple[str, set[tuple[str, str]]]:
        scan = checkin.decode(raw)
        return scan.venue_id, c.add_scan(scan, now_s)

    def _heartbeat(self, c: Compliance, raw: bytes, now_s: int) -> tuple[str, set[tuple[str, str]]]:
        hb = signals.decode_heartbeat(raw)
        return hb.venue_id, c.add_heartbeat(hb, now_s)

    def _headcount(self, c: Compliance, raw: bytes, now_s: int) -> tuple[str, set[tuple[str, str]]]:
        hc = signals.decode_headcount(raw)
        return hc.venue_id, c.add_headcount(hc)

    def _gap(self, c: Compliance, raw: bytes, now_s: int) -> tuple[str, set[tuple[str, str]]]:
        gap = load_json(raw)
        if not isinstance(gap, dict) or not _GAP_FIELDS <= gap.keys() \
                or gap["status"] not in ("open", "resolved"):
            raise InvalidEvent(Reason.BAD_VALUE, "not a gap event (schemas/gap.v1)")
        return gap["venue_id"], c.add_gap(gap)

    # --- state per partition ------------------------------------------------------------------------
    def assigned(self, partitions: dict[tuple[str, int], int]) -> None:
        by_partition: dict[int, dict[str, int]] = defaultdict(dict)
        for (topic, p), committed in partitions.items():
            by_partition[p][topic] = committed
        now_s = int(time.time())
        for p, offsets in by_partition.items():
            started = time.monotonic()
            state = self.states[p] = Compliance(self.retention_s)
            n = 0
            for topic, until in offsets.items():
                for batch in read_partition(self.s, topic, p, until):
                    for m in batch:
                        try:
                            venue, _ = self.inputs[topic](state, m.value(), now_s)
                        except (InvalidEvent, KeyError, TypeError):
                            continue  # was dead-lettered when first processed
                        n += 1
            state.raised.update(self._alerts_already_raised(state, now_s))
            log.info("compliance: partition %d rebuilt from %d records in %.1fs", p, n,
                     time.monotonic() - started)

    def _alerts_already_raised(self, state: Compliance, now_s: int) -> set[str]:
        """After a rebuild, the alerts its history implies were raised before: do not repeat."""
        ids = set()
        for venue, v in state.venues.items():
            keys = {("hour", str(h)) for h in v.hours} | {("coverage", k) for k in v.headcounts}
            keys |= {("gap", k) for k in v.gaps}
            ids |= {a.alert_id for a in state.alerts_for(venue, keys, now_s)}
        return ids

    def revoked(self, partitions: list[tuple[str, int]]) -> None:
        for _, p in partitions:
            self.states.pop(p, None)
            self._caught_up.discard(p)

    # --- processing ----------------------------------------------------------------------------
    def process(self, batch: Sequence[Message], now_ms: int) -> StepResult:
        now_s = now_ms // 1000
        result = StepResult()
        touched: dict[tuple[int, str], set[tuple[str, str]]] = defaultdict(set)
        for m in batch:
            state = self.states.get(m.partition())
            if state is None:
                state = self.states[m.partition()] = Compliance(self.retention_s)
            try:
                venue, keys = self.inputs[m.topic()](state, m.value(), now_s)
            except (InvalidEvent, KeyError, TypeError) as exc:
                if m.topic() != topics.checkins(self.s):  # bad check-ins: ingest reports them
                    result.dead.append(_dead(m, exc, now_ms))
                continue
            touched[(m.partition(), venue)] |= keys
        alerts: list[Alert] = []
        read_to: dict[int, int] = {}
        for (p, venue), keys in touched.items():
            state = self.states[p]
            for kind, key in keys:
                record = state.record(venue, kind, key)
                if record is not None:
                    result.outputs.append(self._output(record))
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
            out.append(Output(self.alerts_topic, a.alert_id.encode(), orjson.dumps(a.to_mapping()),
                              partition=partition_of(a.venue.encode(), self.partitions)))
            metrics.ALERTS.labels(a.kind).inc()
        return out

    def _output(self, r: Record) -> Output:
        key = f"{r.venue}{SEP}{r.kind}{SEP}{r.id}".encode()
        return Output(self.sink, key, orjson.dumps({"v": 1, **r.value}),
                      partition=partition_of(r.venue.encode(), self.partitions))


def _dead(m: Message, exc: Exception, now_ms: int) -> DeadLetter:
    reason = getattr(exc, "reason", "bad_value")
    return DeadLetter(reason=str(reason), detail=str(exc)[:500], stage=STAGE, failed_at_ms=now_ms,
                      payload=m.value() or b"", key=m.key(), source_topic=m.topic(),
                      source_partition=m.partition(), source_offset=m.offset())


def compliance_job(s: Settings, open_at: OpenAt) -> BatchJob:
    progress = InputProgress(clock_topics=[topics.checkins(s), topics.heartbeats(s)])
    step = ComplianceStep(s, open_at, progress)
    return BatchJob(s, "compliance", list(step.inputs), step, topics.deadletter(s),
                    progress=progress)
