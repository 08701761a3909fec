"""The consumer lag truyvet exports equals what Kafka's own kafka-consumer-groups tool reports
for the same group at the same moment; a reader that keeps its clients reads every change."""

from __future__ import annotations

from confluent_kafka import Consumer, TopicPartition
from prometheus_client import CollectorRegistry, generate_latest

from truyvet.kafka.admin import ensure_topics
from truyvet.kafka.admin import admin_client
from truyvet.kafka.lag import LagCollector, LagReader
from truyvet.kafka.producer import DurableProducer
from truyvet.devstack.kafka import tool
from truyvet.settings import Settings
from truyvet.topics import checkins

GROUP_TOOL = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"


def test_exported_lag_equals_kafka_consumer_groups(settings: Settings) -> None:
    ensure_topics(settings)
    topic = checkins(settings)
    producer = DurableProducer(settings, "test")
    for i in range(3000):
        producer.send(topic, f"v{i % 97}", b"x")
    assert producer.flush(30) == 0
    group = f"{settings.topic_prefix}-lag-probe"
    # a group that has processed part of each partition: commit a third of every partition
    consumer = Consumer({"bootstrap.servers": settings.bootstrap_servers, "group.id": group,
                         "enable.auto.commit": False})
    ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), 10)[1]
            for p in range(settings.checkin_partitions)}
    consumer.commit(offsets=[TopicPartition(topic, p, end // 3) for p, end in ends.items()
                             if p % 4 != 0],  # and nothing at all on every fourth partition
                    asynchronous=False)
    consumer.close()

    registry = CollectorRegistry()
    registry.register(LagCollector(settings, ttl_s=0, scrape_wait_s=60))  # (a read, waited for)
    exported = _parse(generate_latest(registry).decode(), group)
    described = _describe(settings, group)

    assert described, "kafka-consumer-groups described nothing"
    for (t, p), (current, end, lag) in described.items():
        got = exported[(t, p)]
        assert got["end"] == end
        if current is None:  # no commit: the tool shows '-'; we count from the earliest offset
            assert got["committed"] == -1 and got["lag"] == end
        else:
            assert (got["committed"], got["lag"]) == (current, lag)
    assert sum(1 for c, _, _ in described.values() if c is not None) == 9


def _parse(text: str, group: str) -> dict[tuple[str, int], dict[str, int]]:
    out: dict[tuple[str, int], dict[str, int]] = {}
    names = {"truyvet_consumer_lag": "lag", "truyvet_consumer_committed_offset": "committed",
             "truyvet_topic_end_offset": "end"}
    for line in text.splitlines():
        name, _, rest = line.partition("{")
        if name not in names or f'group="{group}"' not in rest:
            continue
        labels = dict(kv.split("=", 1) for kv in rest.split("}")[0].split(","))
        key = (labels["topic"].strip('"'), int(labels["partition"].strip('"')))
        out.setdefault(key, {})[names[name]] = int(float(line.rsplit(" ", 1)[1]))
    return out


def _describe(s: Settings, group: str) -> dict[tuple[str, int], tuple[int | None, int, int | None]]:
    res = tool(s, GROUP_TOOL, "--bootstrap-server", s.bootstrap_servers, "--describe",
               "--group", group)
    assert res.returncode == 0, res.stderr
    rows = {}
    for line in res.stdout.splitlines():
        cols = line.split()
        if len(cols) >= 6 and cols[0] == group and cols[2].isdigit():
            current = None if cols[3] == "-" else int(cols[3])
            lag = None if cols[5] == "-" else int(cols[5])
            rows[(cols[1], int(cols[2]))] = (current, int(cols[4]), lag)
    return rows


def test_a_reader_keeping_its_clients_sees_new_commits_records_and_groups(
        settings: Settings) -> None:
    """The API's operations monitor and /metrics read lag every few seconds through one
    reader: what changed since its last call must show, as a reader made anew would see it."""
    ensure_topics(settings)
    topic = checkins(settings)
    producer = DurableProducer(settings, "test")

    def publish(n: int) -> None:
        for i in range(n):
            producer.send(topic, f"k{i % 53}", b"x")
        assert producer.flush(30) == 0

    def commit(group: str, offsets: dict[int, int]) -> None:
        c = Consumer({"bootstrap.servers": settings.bootstrap_servers, "group.id": group,
                      "enable.auto.commit": False})
        c.commit(offsets=[TopicPartition(topic, p, o) for p, o in offsets.items()],
                 asynchronous=False)
        c.close()

    first, second = (f"{settings.topic_prefix}-kept-{n}" for n in ("a", "b"))
    publish(1200)
    with LagReader(settings) as reader:
        ends = {p.partition: p.end for p in reader.group_lag(first, [topic])}
        assert sum(ends.values()) == reader.end_offsets([topic])[topic] == 1200
        commit(first, {p: end // 2 for p, end in ends.items()})
        assert _lags(reader.group_lag(first, [topic])) == \
            {p: (end // 2, end - end // 2) for p, end in ends.items()}

        publish(600)  # more records, a later commit, a second group: all seen by the same clients
        ends = {p.partition: p.end for p in reader.group_lag(first, [topic])}
        assert sum(ends.values()) == reader.end_offsets([topic])[topic] == 1800
        commit(first, {p: end for p, end in ends.items()})
        commit(second, {0: 1})
        every = reader.all_group_lags()
        assert _lags(every[first]) == {p: (end, 0) for p, end in ends.items()}
        assert _lags(every[second]) == {0: (1, ends[0] - 1)}

        admin = admin_client(settings)  # (kept referenced until its future is resolved)
        admin.delete_consumer_groups([second])[second].result(30)
        assert second not in reader.all_group_lags()  # a group deleted is no longer listed
        assert _lags(reader.group_lag(first, [topic])) == \
            {p: (end, 0) for p, end in ends.items()}


def _lags(parts: list) -> dict[int, tuple[int | None, int]]:  # type: ignore[type-arg]
    return {p.partition: (p.committed, p.lag) for p in parts if p.committed is not None}
