"""Two API replicas behind no balancer at all (the clients alternate): Kafka's consumer group
decides which replica re-matches which cases. Submissions reach either replica; event-stream
clients watch every case on both; late scans arrive; one replica is killed (SIGKILL). Its cases
move to the survivor within the group's session timeout, every answer equals the brute-force
reference, no revision is lost or published twice, and the clients of the dead replica
reconnect to the survivor with ``Last-Event-ID`` and receive every revision they missed."""

from __future__ import annotations

import random
import signal
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import orjson
import pytest

from tests.conftest import Services, _free_port, own_settings
from tests.integration.helpers import (
    api_process,
    http_json,
    poll_until,
    read_all,
    wait_caught_up,
    wait_index_caught_up,
    worker_process,
)
from tests.integration.test_matching_pipeline import _answers, _body, _expected, _publish
from tests.integration.test_restarts import _generate_groups
from tests.reference import reference_visits
from truyvet import topics
from truyvet.kafka.admin import ensure_topics
from truyvet.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
SESSION_TIMEOUT_S = 10.0  # the consumer groups' session.timeout.ms (truyvet.kafka.confluent)
BUSY_MARGIN_S = 20.0  # what a rebalance and a busy 2-core machine add to it


class Watcher(threading.Thread):
    """An event-stream client of one case. When its stream ends (its replica died) it
    reconnects to the next address, as a client behind a load balancer would, sending the
    revision it received last as ``Last-Event-ID``."""

    def __init__(self, token: str, case_id: str, urls: list[str],
                 offline: threading.Event | None = None) -> None:
        super().__init__(daemon=True, name=f"watch-{case_id}")
        self.token, self.case_id, self.urls = token, case_id, urls
        self.offline = offline  # set: it may reconnect (until then it is away, missing revisions)
        self.events: list[tuple[int, dict]] = []  # (revision, result) in the order received
        self.on_connection: list[int] = []  # which connection brought each event
        self.connections: list[tuple[str, str | None]] = []  # (address, Last-Event-ID sent)
        self.done = threading.Event()

    def run(self) -> None:
        which = 0
        while not self.done.is_set():
            if which and self.offline is not None:
                self.offline.wait()
            url = self.urls[which % len(self.urls)]
            headers = {"Authorization": f"Bearer {self.token}"}
            last = str(self.events[-1][0]) if self.events else None
            if last is not None:
                headers["Last-Event-ID"] = last
            try:
                req = urllib.request.Request(
                    f"{url}/api/v1/itineraries/{self.case_id}/events", headers=headers)
                with urllib.request.urlopen(req, timeout=30) as stream:
                    self.connections.append((url, last))
                    self._read(stream)
            except (OSError, urllib.error.URLError):
                pass
            which += 1  # the stream ended or was refused: the next replica
            time.sleep(0.2)

    def _read(self, stream) -> None:  # type: ignore[no-untyped-def]
        revision, data = None, None
        while not self.done.is_set():
            line = stream.readline()
            if not line:
                return
            line = line.decode().rstrip("\n")
            if line.startswith("id: "):
                revision = int(line[4:])
            elif line.startswith("data: "):
                data = orjson.loads(line[6:])
            elif line == "" and data is not None:
                assert revision == data["revision"]
                self.events.append((revision, data))
                self.on_connection.append(len(self.connections))
                revision, data = None, None

    def revisions(self) -> list[int]:
        return [r for r, _ in self.events]


def _health(s: Settings) -> dict:
    status, body = http_json(s, "GET", "/healthz", token="")
    assert status == 200, body
    return body  # type: ignore[return-value]


def _published_revisions(s: Settings) -> dict[str, list[int]]:
    """Each case's revisions in the order they are in the match-results topic."""
    out: dict[str, list[int]] = {}
    for r in read_all(s, topics.match_results(s)):
        out.setdefault(r.key.decode(), []).append(orjson.loads(r.value)["revision"])
    return out


def test_two_replicas_share_the_cases_and_a_killed_one_loses_nothing(
        services: Services, tmp_path: Path) -> None:
    s = own_settings(services, tmp_path, api_max_streams=64)  # the survivor takes all 36 streams
    ensure_topics(s)
    replica_a = s.replace(api_port=_free_port(), data_dir=tmp_path / "a")
    replica_b = s.replace(api_port=_free_port(), data_dir=tmp_path / "b")
    rng = random.Random(29)
    now = int(time.time())
    scans, itineraries = _generate_groups(rng, "rep", 3, now)  # 18 cases over 12 venues
    early, late, after_kill = scans[:len(scans) // 2], scans[len(scans) // 2:len(scans) * 3 // 4], \
        scans[len(scans) * 3 // 4:]
    retention = int(s.retention_days * 86400)

    def answers_equal(replicas: list[Settings], visits: dict) -> bool:
        for replica in replicas:
            for case_id, card, stops in itineraries:
                status, res = http_json(replica, "GET", f"/api/v1/itineraries/{case_id}?contacts=all")
                if status != 200 or _answers(res) != _expected(visits, card, stops):
                    return False
        return True

    with worker_process(s, tmp_path / "worker.log") as worker:
        _publish(s, early)
        wait_caught_up(s, 90, [worker])
        with api_process(replica_a, tmp_path / "api-a.log") as a, \
                api_process(replica_b, tmp_path / "api-b.log"):
            owned = poll_until(
                lambda: [_health(replica_a)["owned_partitions"],
                         _health(replica_b)["owned_partitions"]],
                lambda o: bool(o[0]) and bool(o[1]) and sorted(o[0] + o[1]) == [0, 1, 2],
                timeout=60)
            for replica in (replica_a, replica_b):
                wait_index_caught_up(replica)
            visits = reference_visits(early, lambda v: 3600, now, retention)
            # each case submitted to one replica or the other, whichever owns it
            for i, (case_id, card, stops) in enumerate(itineraries):
                status, res = http_json((replica_a, replica_b)[i % 2], "POST",
                                        "/api/v1/itineraries?contacts=all", _body(case_id, card, stops))
                assert status == 201 and res["revision"] == 1, (case_id, status, res)
                assert _answers(res) == _expected(visits, card, stops), case_id
            # every replica's board holds every case before its clients ask (a case answered
            # by its owner reaches the other replica's board through its follower)
            poll_until(lambda: [_health(r)["standing_itineraries"] for r in
                                (replica_a, replica_b)],
                       lambda n: n == [len(itineraries)] * 2, timeout=60)
            urls = [replica_a.api_url, replica_b.api_url]
            # A's clients stay away after A dies, until B has published what followed
            back = threading.Event()
            watchers = [Watcher(s.api_token, case_id, urls[k:] + urls[:k], back if k == 0 else None)
                        for case_id, _, _ in itineraries for k in (0, 1)]
            for w in watchers:
                w.start()
            poll_until(lambda: all(w.events for w in watchers), lambda ok: ok, timeout=60)

            _publish(s, late)  # late scans: the owners re-match, every replica shows it
            wait_caught_up(s, 90, [worker])
            visits = reference_visits(early + late, lambda v: 3600, now, retention)
            poll_until(lambda: answers_equal([replica_a, replica_b], visits), lambda ok: ok,
                       timeout=90)

            a.send_signal(signal.SIGKILL)  # A dies without leaving the group
            a.wait()
            killed = time.monotonic()
            _publish(s, after_kill)
            wait_caught_up(s, 90, [worker])
            poll_until(lambda: _health(replica_b)["owned_partitions"], lambda o: o == [0, 1, 2],
                       timeout=SESSION_TIMEOUT_S + BUSY_MARGIN_S + 30, every=0.2)
            moved_s = time.monotonic() - killed
            print(f"\nreplica A's partitions {owned[0]} moved to B {moved_s:.1f} s after SIGKILL")
            assert moved_s <= SESSION_TIMEOUT_S + BUSY_MARGIN_S
            wait_index_caught_up(replica_b)
            visits = reference_visits(scans, lambda v: 3600, now, retention)
            poll_until(lambda: answers_equal([replica_b], visits), lambda ok: ok, timeout=90)

            # the survivor takes new cases of every partition
            for k in range(6):
                status, res = http_json(replica_b, "POST", "/api/v1/itineraries",
                                        _body(f"after-{k}", None, [("rep0-V0", now - 3600, now)]))
                assert status == 201 and res["revision"] == 1, (status, res)

            current = {case_id: http_json(replica_b, "GET", f"/api/v1/itineraries/{case_id}")[1]
                       for case_id, _, _ in itineraries}
            back.set()  # A's clients reconnect, to B, each with the revision it saw last
            poll_until(lambda: [(w.case_id, w.revisions(), current[w.case_id]["revision"],
                                 w.connections) for w in watchers
                                if w.events[-1][0] != current[w.case_id]["revision"]],
                       lambda behind: not behind, timeout=60)
            for w in watchers:
                w.done.set()

    published = _published_revisions(s)
    for case_id, _, _ in itineraries:
        last = current[case_id]["revision"]
        # each revision once, in order: none lost, none published twice (by two owners)
        assert published[case_id] == list(range(1, last + 1)), (case_id, published[case_id])
    for w in watchers:
        seen = w.revisions()
        # every revision from the first it got to the last, once each, across reconnections
        assert seen == list(range(seen[0], seen[-1] + 1)), (w.case_id, seen, w.connections)
        assert w.events[-1][1]["stops"] == current[w.case_id]["stops"]
    moved = [w for w in watchers if len(w.connections) > 1]
    assert len(moved) == len(itineraries), "every client of replica A reconnects, once"
    for w in moved:  # to B, saying the last revision it had from A
        had = [rev for k, (rev, _) in zip(w.on_connection, w.events) if k == 1]
        assert w.connections[1:] == [(replica_b.api_url, str(had[-1]))], w.connections
    # revisions B published while they were away reached them on reconnecting (the backlog)
    missed = sum(1 for w in moved for k, (rev, _) in zip(w.on_connection, w.events) if k == 2)
    assert missed > 0, "no client missed a revision: the test did not test Last-Event-ID"
    print(f"{len(moved)} clients reconnected to B with Last-Event-ID and got {missed} revisions "
          f"they missed; revisions per case: {sorted(len(v) for v in published.values())}")
