"""The visits step on the in-memory Kafka: a partition that arrives without its state is rebuilt
up to *its own* first record of the batch. (It used to be rebuilt up to the batch's first
record, which may belong to another partition: here partition 3's offset 0, so partition 5 was
rebuilt from nothing and its next bucket missed seven scans.)"""

from __future__ import annotations

from pathlib import Path

from truyvet import topics
from truyvet.codec import card_scan
from truyvet.codec.checkin import CheckIn
from truyvet.jobs.visits import VisitsStep
from truyvet.kafka.memory import MemoryBroker
from truyvet.settings import Settings

T0 = 1_800_000_000


def test_a_partition_without_state_is_rebuilt_up_to_its_own_first_offset(tmp_path: Path) -> None:
    s = Settings.from_env(env={}, topic_prefix="unit", data_dir=tmp_path, retention_days=3650.0)
    broker = MemoryBroker()
    broker.create_topics(topics.catalogue(s))
    source = topics.scans_by_card(s)
    scans = [CheckIn(f"e{i}", "card-x", "V", "s1", "in" if i % 2 == 0 else "out",
                     (T0 + 600 * i) * 1000, "card") for i in range(10)]
    producer = broker.backend().producer("test")
    for c in scans:
        producer.produce(source, b"card-x", card_scan.encode(c), partition=5)
    producer.produce(source, b"card-y", card_scan.encode(scans[0]._replace(
        card_id="card-y", event_id="y0")), partition=3)
    rules = s.rules()
    step = VisitsStep(s, rules, rules.dwell_function(lambda v: None), broker.backend())
    log = {p: [r for r in broker.records(source) if r.partition == p] for p in (3, 5)}
    # processing resumes at partition 5's offset 7 (0..6 committed before), and partition 3's 0
    result = step.process([log[3][0], log[5][7]], (T0 + 86_400) * 1000)
    assert step.builders[5].scans == 8 and step.builders[3].scans == 1
    # the bucket of card-x holds the four visits of its scans e0..e7
    [bucket] = [o for o in result.outputs if o.key and b"card-x" in o.key]
    assert bucket.value is not None and bucket.value.count(b"],[") == 3
