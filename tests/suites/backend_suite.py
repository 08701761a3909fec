"""What truyvet relies on from a Kafka backend, checked on the in-memory one and on a real
broker alike: order per partition, partition ends, keys to partitions by murmur2, committed
offsets that a group's next member starts from, a group's partitions shared and handed over,
readers at chosen offsets, a delivery report for every record; and a topic follower that
passes over only the records its handler fails on."""

from __future__ import annotations

import time

from prometheus_client import REGISTRY

from tests.suites.env import Env
from truyvet.codec.errors import InvalidEvent, Reason
from truyvet.kafka.follower import TopicFollower
from truyvet.kafka.partitioner import partition_of
from truyvet.kafka.record import EndOfPartition, Record, TopicPartition

TOPIC = "suite.v1"


class BackendSuite:
    """Subclasses provide the ``env`` fixture, with a 4-partition topic ``<prefix>.suite.v1``."""

    PARTITIONS = 4

    def _produce(self, env: Env, n: int, start: int = 0) -> list[tuple[str | None, bytes]]:
        p = env.backend.producer("suite")
        reports: list[tuple[str | None, bytes]] = []
        for i in range(start, start + n):
            p.produce(env.s.topic(TOPIC), f"k{i % 7}".encode(), f"v{i}".encode(),
                      on_delivery=lambda err, record: reports.append(
                          (None if err is None else err.str(), record.value())))
        assert p.flush(30) == 0
        return reports

    def _consume_all(self, consumer, n: int, timeout: float = 30.0) -> tuple[list[Record], set[TopicPartition]]:  # type: ignore[no-untyped-def]
        got: list[Record] = []
        ends: set[TopicPartition] = set()
        deadline = time.monotonic() + timeout
        while len(got) < n and time.monotonic() < deadline:
            for e in consumer.consume(1000, 0.2):
                if isinstance(e, EndOfPartition):
                    ends.add((e.topic, e.partition))
                else:
                    got.append(e)
        return got, ends

    def test_every_record_is_reported_delivered_and_keyed_by_murmur2(self, env: Env) -> None:
        reports = self._produce(env, 70)
        assert sorted(v for _, v in reports) == sorted(f"v{i}".encode() for i in range(70))
        assert all(err is None for err, _ in reports)
        stored = env.records(env.s.topic(TOPIC))
        assert len(stored) == 70
        for r in stored:
            assert r.partition == partition_of(r.key, self.PARTITIONS)  # type: ignore[arg-type]
            assert r.timestamp_ms > 0
        for p in range(self.PARTITIONS):  # offsets from 0, in produce order
            mine = [r for r in stored if r.partition == p]
            assert [r.offset for r in mine] == list(range(len(mine)))
            assert [int(r.value[1:]) for r in mine] == sorted(int(r.value[1:]) for r in mine)  # type: ignore[index]

    def test_a_group_reads_in_order_reports_ends_and_resumes_from_its_commits(self, env: Env) -> None:
        self._produce(env, 40)
        topic = env.s.topic(TOPIC)
        assigned: list[list[TopicPartition]] = []
        c = env.backend.group_consumer(f"{env.s.topic_prefix}-g1", "suite")
        c.subscribe([topic], on_assign=assigned.append, on_revoke=lambda _: None,
                    on_lost=lambda _: None)
        got, ends = self._consume_all(c, 40)
        assert len(got) == 40 and sorted(assigned[0]) == [(topic, p) for p in range(4)]
        for p in range(self.PARTITIONS):
            offsets = [r.offset for r in got if r.partition == p]
            assert offsets == sorted(offsets)
        deadline = time.monotonic() + 10
        while len(ends) < self.PARTITIONS and time.monotonic() < deadline:
            ends |= self._consume_all(c, 1, 0.2)[1]
        assert ends == {(topic, p) for p in range(4)}
        half = {(topic, p): sum(1 for r in got if r.partition == p) // 2
                for p in range(self.PARTITIONS)}
        c.commit(half, wait=True)
        assert c.committed(list(half), 10) == half
        c.close()
        assert env.committed(f"{env.s.topic_prefix}-g1", topic) == {p: o for (_, p), o in half.items()}

        again = env.backend.group_consumer(f"{env.s.topic_prefix}-g1", "suite")
        again.subscribe([topic], on_assign=lambda _: None, on_revoke=lambda _: None,
                        on_lost=lambda _: None)
        rest, _ = self._consume_all(again, sum(1 for r in got if r.offset >= half[(topic, r.partition)]))
        assert sorted((r.partition, r.offset) for r in rest) == sorted(
            (r.partition, r.offset) for r in got if r.offset >= half[(topic, r.partition)])
        again.close()

    def test_two_members_share_the_partitions_and_one_takes_all_when_the_other_leaves(
            self, env: Env) -> None:
        topic = env.s.topic(TOPIC)
        group = f"{env.s.topic_prefix}-g2"
        owned: dict[str, set[TopicPartition]] = {"a": set(), "b": set()}

        def member(name: str):  # type: ignore[no-untyped-def]
            c = env.backend.group_consumer(group, f"suite-{name}")
            c.subscribe([topic], on_assign=lambda parts: owned[name].update(parts),
                        on_revoke=lambda parts: owned[name].difference_update(parts),
                        on_lost=lambda parts: owned[name].difference_update(parts))
            return c

        a, b = member("a"), member("b")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (owned["a"] and owned["b"]
                                                   and len(owned["a"] | owned["b"]) == 4):
            a.consume(100, 0.1)
            b.consume(100, 0.1)
        assert owned["a"] and owned["b"] and not owned["a"] & owned["b"]
        assert owned["a"] | owned["b"] == {(topic, p) for p in range(4)}
        b.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(owned["a"]) < 4:
            a.consume(100, 0.1)
        assert owned["a"] == {(topic, p) for p in range(4)}
        a.close()

    def test_a_reader_reads_a_partition_from_an_offset(self, env: Env) -> None:
        self._produce(env, 30)
        topic = env.s.topic(TOPIC)
        r = env.backend.reader("suite-reader")
        assert r.partitions(topic, 10) == list(range(self.PARTITIONS))
        low, high = r.watermarks(topic, 1, 10)
        assert low == 0 and high == len([x for x in env.records(topic) if x.partition == 1])
        r.assign({(topic, 1): 2})
        got: list[Record] = []
        deadline = time.monotonic() + 30
        while len(got) < high - 2 and time.monotonic() < deadline:
            got += r.consume(100, 0.2)
        assert [x.offset for x in got] == list(range(2, high)) and {x.partition for x in got} == {1}
        r.close()

    def test_a_follower_passes_over_only_the_records_its_handler_fails_on(self, env: Env) -> None:
        """A view's handler that raises on a batch costs only the records it raises on: a
        record its codec refuses (``invalid``) and one it fails on (a bug: ``error``, the
        follower degraded), each counted in the metric; every other record is applied."""
        topic = env.s.topic(TOPIC)
        p = env.backend.producer("suite")
        values = [f"v{i}".encode() for i in range(30)]
        values[7], values[19] = b"refused", b"bug"
        for i, v in enumerate(values):
            p.produce(topic, f"k{i}".encode(), v)
        assert p.flush(30) == 0
        applied: dict[bytes, bytes] = {}

        def on_batch(batch: list[Record]) -> None:  # replaces by key: idempotent per record
            for r in batch:
                if r.value == b"refused":
                    raise InvalidEvent(Reason.NOT_JSON, "not a record")
                if r.value == b"bug":
                    raise KeyError("a handler's bug")
                applied[r.key] = r.value  # type: ignore[index]

        name = f"suite-follower-{env.s.topic_prefix}"

        def skipped(reason: str) -> float:
            return REGISTRY.get_sample_value("truyvet_follower_skipped_records_total",
                                             {"follower": name, "reason": reason}) or 0.0

        f = TopicFollower(env.s, topic, on_batch, name, backend=env.backend).start()
        try:
            assert f.wait_caught_up(30)
        finally:
            f.stop()
        stored = {r.key: r for r in env.records(topic)}
        assert applied == {k: r.value for k, r in stored.items()
                           if r.value not in (b"refused", b"bug")}
        assert len(applied) == 28
        assert f.skipped == {"invalid": 1, "error": 1} and f.degraded
        bug = stored[b"k19"]
        assert f.last_error == f"{topic}[{bug.partition}]@{bug.offset}: KeyError"
        assert (skipped("invalid"), skipped("error")) == (1.0, 1.0)
        assert f.health()["skipped_error"] == 1 and f.health()["caught_up"] is True
