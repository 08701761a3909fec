"""Garbage on the check-in topic, through the real broker and a real worker process: every
bad record reaches the dead-letter topic with its reason and source; every good one is
forwarded, re-keyed by card; the worker survives."""

from __future__ import annotations

from pathlib import Path

import orjson

from truyvet.producers.scans import ScanPublisher
from tests.integration.helpers import (
    YESTERDAY,
    group_committed,
    metric_value,
    metrics_text,
    poll_until,
    read_all,
    truyvet_cli,
    wait_caught_up,
    wait_worker_ready,
    worker_process,
)
from truyvet import topics
from truyvet.codec import card_scan
from truyvet.codec.deadletter import DeadLetter
from truyvet.kafka.admin import ensure_topics
from truyvet.settings import Settings

VALID = {"event_id": "ok-{n}", "card_id": "card-{n}", "venue_id": "venue-1", "scanner_id": "s1",
         "direction": "in", "scanned_at": f"{YESTERDAY}T08:00:00+07:00", "method": "app"}

GARBAGE: list[tuple[bytes | None, str]] = [
    (b"this is not json", "not_json"),
    (b'{"event_id": "x", "card_id": ', "not_json"),
    (b"\xff\xfe\x00garbage", "not_utf8"),
    (b"[1, 2, 3]", "not_object"),
    (orjson.dumps({**VALID, "direction": "sideways"}), "bad_enum"),
    (orjson.dumps({**VALID, "venue_id": 12345}), "wrong_type"),
    (orjson.dumps({k: v for k, v in VALID.items() if k != "card_id"}), "missing_field"),
    (orjson.dumps({**VALID, "scanned_at": "2021-02-30T25:61:00Z"}), "bad_timestamp"),
    (orjson.dumps({**VALID, "scanned_at": "1999-12-31T23:59:59Z"}), "timestamp_out_of_range"),
    (orjson.dumps({**VALID, "scanned_at": "2099-01-01T00:00:00Z"}), "timestamp_in_future"),
    (orjson.dumps({**VALID, "v": 2, "extra": True}), "unsupported_version"),  # a new version
    (orjson.dumps({**VALID, "card_id": "x" * 100_000}), "too_large"),
    (None, "not_json"),  # a null value (tombstone)
]


def _valid(n: int) -> bytes:
    return orjson.dumps({k: v.format(n=n) for k, v in VALID.items()})


def test_garbage_goes_to_dead_letters_with_reason_and_source(settings: Settings, tmp_path: Path) -> None:
    ensure_topics(settings)
    pub = ScanPublisher(settings)
    sent_valid = []
    for i, (payload, _) in enumerate(GARBAGE):  # valid records around every bad one
        pub.publish_raw("venue-1", _valid(i))
        sent_valid.append(f"ok-{i}")
        pub.publish_raw("venue-1", payload)
    pub.publish_raw("venue-1", _valid(999))
    sent_valid.append("ok-999")
    # a newer firmware's optional field within v1: accepted and forwarded, not dead-lettered
    pub.publish_raw("venue-1", orjson.dumps({**orjson.loads(_valid(1000)), "temperature": 36.6}))
    sent_valid.append("ok-1000")
    assert pub.flush() == 0 and not pub.producer.stats.failures

    source = read_all(settings, topics.checkins(settings))
    offset_of = {r.value: r.offset for r in source}
    with worker_process(settings, tmp_path / "worker.log") as worker:
        wait_caught_up(settings, 90, [worker])
        assert worker.poll() is None, "the worker died on bad input"
        text = metrics_text(settings.worker_web_port)

    letters = [DeadLetter.from_record(r.value, r.key, list(r.headers.items()))
               for r in read_all(settings, topics.deadletter(settings))]
    assert sorted(d.reason for d in letters) == sorted(reason for _, reason in GARBAGE)
    for d in letters:
        assert d.stage == "ingest" and d.detail
        assert d.source_topic == topics.checkins(settings)
        assert d.source_offset == offset_of[d.payload or None]
        assert d.key == b"venue-1"
    assert {d.payload for d in letters} == {p or b"" for p, _ in GARBAGE}

    forwarded = read_all(settings, topics.scans_by_card(settings))
    assert sorted(card_scan.decode(r.value).event_id for r in forwarded) == sorted(sent_valid)
    assert all(r.key == card_scan.decode(r.value).card_id.encode() for r in forwarded)

    assert metric_value(text, "truyvet_scans_ingested_total") == len(sent_valid)
    assert metric_value(text, "truyvet_deadletter_records_total",
                        'reason="not_json",stage="ingest"') == 3


def test_the_guard_pauses_its_job_only_and_truyvet_dlq_resume_goes_on(settings: Settings,
                                                                       tmp_path: Path) -> None:
    """A scanner fleet sending garbage: with TRUYVET_DLQ_MAX_SHARE=0.5 the ingest job pauses
    with one clear log line, sending and committing nothing of the batch that tripped it; the
    worker and its other jobs go on (/ready says which is paused, /metrics too); `truyvet dlq
    resume ingest` resumes it, and every input is then forwarded or dead-lettered exactly once
    (no duplicate from the tripping batch)."""
    s = settings.replace(dlq_max_share=0.5)
    ensure_topics(s)
    pub = ScanPublisher(s)
    sent = [_valid(i) if i % 10 == 0 else b"garbage %d" % i for i in range(3000)]
    for value in sent:
        pub.publish_raw("venue-1", value)
    assert pub.flush() == 0
    log = tmp_path / "worker.log"
    group = f"{s.topic_prefix}-ingest"
    with worker_process(s, log) as worker:
        ready = poll_until(lambda: _ready(s), lambda r: r is not None and r["paused"], 120)
        assert ready["ready"] is True and set(ready["paused"]) == {"ingest"}
        assert "TRUYVET_DLQ_MAX_SHARE" in ready["paused"]["ingest"]
        text = log.read_text()
        assert "PAUSED by the dead-letter guard" in text and "TRUYVET_DLQ_MAX_SHARE" in text
        assert metric_value(metrics_text(s.worker_web_port), "truyvet_job_paused",
                            'job="ingest"') == 1
        committed = group_committed(s, group, topics.checkins(s))
        assert committed < 3000, "the batch that tripped the guard must stay uncommitted"
        assert len(read_all(s, topics.deadletter(s))) + \
            len(read_all(s, topics.scans_by_card(s))) == committed  # nothing of it was sent
        assert worker.poll() is None  # the worker, and its visits and compliance jobs, go on

        done = truyvet_cli(s, "dlq", "resume", "ingest", "--by", "ops-hue-1")
        assert done.returncode == 0, done.stderr.decode()
        poll_until(lambda: group_committed(s, group, topics.checkins(s)), lambda c: c == 3000, 120)
        wait_worker_ready(s, worker)
        assert "resume given by ops-hue-1" in log.read_text()
        assert metric_value(metrics_text(s.worker_web_port), "truyvet_job_paused",
                            'job="ingest"') == 0
    dead = sorted(r.value for r in read_all(s, topics.deadletter(s)))
    assert dead == sorted(v for v in sent if v.startswith(b"garbage"))  # each exactly once
    assert len(read_all(s, topics.scans_by_card(s))) == 300


def _ready(s: Settings) -> dict | None:  # type: ignore[type-arg]
    import json
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{s.worker_web_port}/ready", timeout=5) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read())
    except OSError:
        return None


def test_corrected_dead_letters_are_replayed(settings: Settings, tmp_path: Path) -> None:
    """dlq show --json → correct the payload → dlq replay: the record is ingested this time;
    one still wrong is dead-lettered again, not lost."""
    from tests.integration.helpers import truyvet_cli

    ensure_topics(settings)
    pub = ScanPublisher(settings)
    pub.publish_raw("venue-1", _valid(1))
    pub.publish_raw("venue-1", orjson.dumps({**VALID, "event_id": "fix-me", "card_id": "c-fix",
                                             "direction": "sideways"}))
    pub.publish_raw("venue-1", orjson.dumps({**VALID, "event_id": "still-bad", "card_id": "c-bad",
                                             "direction": "sideways"}))
    assert pub.flush() == 0
    with worker_process(settings, tmp_path / "worker.log") as worker:
        wait_caught_up(settings, 90, [worker])
        shown = truyvet_cli(settings, "dlq", "show", "--json", "--reason", "bad_enum")
        assert shown.returncode == 0, shown.stderr.decode()
        letters = [orjson.loads(line) for line in shown.stdout.splitlines()]
        assert len(letters) == 2
        for letter in letters:  # the operator fixes one of the two
            if "fix-me" in letter["payload_text"]:
                letter["payload_text"] = letter["payload_text"].replace("sideways", "in")
        corrected = tmp_path / "corrected.jsonl"
        corrected.write_bytes(b"\n".join(orjson.dumps(x) for x in letters) + b"\n")
        done = truyvet_cli(settings, "dlq", "replay", str(corrected))
        assert done.returncode == 0, done.stderr.decode()
        assert b"2 re-published" in done.stderr
        wait_caught_up(settings, 90, [worker])

    forwarded = {card_scan.decode(r.value).event_id
                 for r in read_all(settings, topics.scans_by_card(settings))}
    assert forwarded == {"ok-1", "fix-me"}
    again = [DeadLetter.from_record(r.value, r.key, list(r.headers.items()))
             for r in read_all(settings, topics.deadletter(settings))]
    assert sorted(b"still-bad" in d.payload for d in again) == [False, True, True]
