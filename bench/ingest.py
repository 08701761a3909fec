"""Ingest: scans/s through the whole path (check-ins -> ingest -> scans-by-card -> visits ->
visit buckets) in one faust worker process, and the same work done by a minimal hand-written
confluent-kafka consumer in the same run (the ratio is the cost of the framework and of
the repartition hop)."""

from __future__ import annotations

import dataclasses
import itertools
import os
import time
from collections import defaultdict

from confluent_kafka import Consumer, Producer, TopicPartition

from bench import children
from bench.services import LOGS, bench_settings
from truyvet.producers.scans import ScanPublisher
from truyvet.producers.simulator.timeline import Timeline
from truyvet.producers.simulator.world import build_world
from truyvet.jobs.visits import to_scan
from truyvet.kafka.partitioner import partition_of
from truyvet.domain.matching.visit_builder import new_builder
from truyvet import gc_tuning, topics
from truyvet.codec import checkin
from truyvet.codec import visits as visits_codec
from truyvet.codec.errors import InvalidEvent
from truyvet.kafka.admin import ensure_topics
from truyvet.kafka.lag import group_lag
from truyvet.kafka.config import librdkafka
from truyvet.kafka.confluent import NO_FETCH_BACKOFF, PRODUCER_DEFAULTS
from truyvet.domain.matching.rules import DAY_S
from truyvet.settings import Settings
from truyvet.topics import pipeline_groups

N = int(os.environ.get("TRUYVET_BENCH_SCANS", "1000000"))


STALL_S = 120.0  # no commit for this long: the worker is stuck, the figure would be wrong
MIN_TIMED_S = 5.0  # commits are sampled every 0.5 s: a shorter run is mostly rounding


def publish_scans(s: Settings, n: int) -> None:
    world = build_world(11, 60_000)
    start_ms = int(time.time() * 1000) - 12 * 86_400_000  # 1 M scans end before now
    pub = ScanPublisher(s)
    events = (e for e in Timeline(world, start_ms).events() if e.kind == "scan")
    for e in itertools.islice(events, n):
        pub.publish(e.payload)
    assert pub.flush() == 0 and not pub.producer.stats.failures


def faust_worker(s: Settings, n: int, jobs: tuple[str, ...] = ("ingest", "visits")) -> float:
    """Scans/s of one `truyvet worker` running ``jobs``, timed from its first commit to the
    last of the final job's group on its scan topic. Fails, saying so, when the worker exits
    or its commits stop moving for ``STALL_S`` before it has caught up."""
    groups = {g: t for g, t in pipeline_groups(s).items() if g.rsplit("-", 1)[1] in jobs}
    counted = topics.scans_by_card(s) if "visits" in jobs else topics.checkins(s)
    with children.running(s, ["truyvet", "worker"], LOGS / "bench-worker.log",
                          TRUYVET_LOG_LEVEL="warning",
                          TRUYVET_WORKER_JOBS=",".join(jobs)) as proc:
        first = None
        moved = (time.monotonic(), -1)  # when the commits last moved, and to what
        while True:
            time.sleep(0.5)
            parts = [p for g, ts in groups.items() for p in group_lag(s, g, ts)]
            done = sum(p.committed or 0 for p in parts if p.topic == counted)
            if first is None and done > 0:
                first = (time.monotonic(), done)
            if parts and all(p.lag == 0 for p in parts) and first:  # empty inputs: no commit
                t0, d0 = first  # caught up (dead letters never reach the counted topic)
                timed_s, timed = time.monotonic() - t0, done - d0
                if timed_s < MIN_TIMED_S or timed < done / 2:
                    raise RuntimeError(
                        f"the worker caught up with {n:,} scans after {timed_s:.1f}s of sampled "
                        f"commits covering {timed:,} of {done:,}: too few for a figure (need "
                        f"{MIN_TIMED_S:g}s and half the scans; raise TRUYVET_BENCH_SCANS)")
                return timed / timed_s
            if proc.poll() is not None:
                raise RuntimeError(f"the worker exited with {proc.returncode} before catching "
                                   f"up; see {LOGS / 'bench-worker.log'}")
            total = sum(p.committed or 0 for p in parts)
            if total != moved[1]:
                moved = (time.monotonic(), total)
            elif time.monotonic() - moved[0] > STALL_S:
                raise RuntimeError(f"the worker's commits stayed at {total:,} for {STALL_S:g}s "
                                   f"(lag {sum(p.lag or 0 for p in parts):,}): no figure; see "
                                   f"{LOGS / 'bench-worker.log'}")


def hand_written(s: Settings, n: int) -> float:
    """The same validation and visit building with confluent-kafka only: one process owns
    every partition, so no repartition topic is needed."""
    gc_tuning.tune()  # as the worker does
    consumer = Consumer({"bootstrap.servers": s.bootstrap_servers, "group.id": "bench-baseline",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest",
                         **NO_FETCH_BACKOFF})  # as the worker's consumers: the same fetching
    producer = Producer(librdkafka(s, "bench-baseline", **PRODUCER_DEFAULTS))
    src = topics.checkins(s)
    out = f"{s.topic_prefix}.baseline-visits.v1"
    parts = consumer.list_topics(src, timeout=10).topics[src].partitions
    consumer.assign([TopicPartition(src, p, 0) for p in parts])
    rules = s.rules()
    builder = new_builder(rules.dwell_function(lambda v: None), rules.retention_s)
    seen = 0
    started = time.monotonic()
    while seen < n:
        msgs = consumer.consume(5000, 1.0)
        now_s = int(time.time())
        per_card: dict[str, list] = defaultdict(list)
        for m in msgs:
            if m.error():
                continue
            seen += 1
            try:
                c = checkin.decode(m.value())
            except InvalidEvent:
                continue
            per_card[c.card_id].append(to_scan(c))
        for card, scans in per_card.items():
            for u in builder.apply(card, scans, now_s):
                while True:
                    try:
                        producer.produce(
                            out, visits_codec.encode(u),
                            visits_codec.key(u),
                            partition=partition_of(u.venue.encode(), s.checkin_partitions),
                            timestamp=u.day * DAY_S * 1000)
                        break
                    except BufferError:
                        producer.poll(0.05)
        producer.poll(0)
        consumer.commit(asynchronous=True)
    producer.flush(60)
    consumer.close()
    return seen / (time.monotonic() - started)


def main() -> None:
    with bench_settings() as s:
        from truyvet.topics import TopicSpec

        from truyvet.codec import visits as visits_codec_
        from truyvet.topics import Stamp

        ensure_topics(s, [TopicSpec(f"{s.topic_prefix}.baseline-visits.v1",
                                    s.checkin_partitions, "", visits_codec_.CODEC, Stamp.WRITTEN,
                                    {"cleanup.policy": "compact,delete"})])
        t = time.monotonic()
        publish_scans(s, N)
        print(f"published {N:,} simulator scans in {time.monotonic() - t:.0f}s")
        fw = faust_worker(s, N)
        print(f"faust worker        {fw:>10,.0f} scans/s through ingest + visits "
              f"(one worker process, {N:,} scans)")
        hw = hand_written(s, N)
        print(f"hand-written        {hw:>10,.0f} scans/s (confluent-kafka, same validation and "
              f"visit building, no repartition)")
        print(f"ratio               {fw / hw:.2f} (faust path / hand-written)")
        alone = dataclasses.replace(s, topic_prefix=f"{s.topic_prefix}x")  # groups of their own
        ensure_topics(alone)
        publish_scans(alone, N)
        aw = faust_worker(alone, N, ("ingest", "visits", "compliance"))
        print(f"all three jobs      {aw:>10,.0f} scans/s (one worker running ingest, visits and "
              f"compliance, {N:,} scans; counted through visits)")
        cw = faust_worker(s, N, ("compliance",))
        print(f"compliance job      {cw:>10,.0f} scans/s (one worker running only the compliance "
              f"job, {N:,} scans)")
