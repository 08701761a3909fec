"""Clusters (ổ dịch) on a running API, on the simulator's cases: the list and the compacted
topic equal a brute-force reference (every pair of F0 stops compared, tests/reference.py);
members shown only to whoever may see the case; a replaced case dissolves its cluster (a
tombstone); an alert per cluster formed; a restarted API publishes nothing again."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path
from typing import Any

from tests.browser import Browser
from tests.conftest import Services, _free_port
from tests.integration.helpers import api_process, http_json, poll_until, read_all
from tests.reference import reference_clusters
from truyvet import topics
from truyvet.codec import alert as alert_codec
from truyvet.codec import cluster as cluster_codec
from truyvet.codec import venue as venue_codec
from truyvet.codec.timefmt import parse_ms
from truyvet.kafka.admin import ensure_topics
from truyvet.producers.scans import ScanPublisher
from truyvet.producers.simulator.timeline import Behaviour, Timeline
from truyvet.producers.simulator.world import build_world
from truyvet.settings import Settings

ADMIN = "admin-token-0123456789abcdefghijkl"
LAN, MINH, NOC = ("lan-token-0123456789abcdefghijklmn", "minh-token-0123456789abcdefghijklm",
                  "noc-token-0123456789abcdefghijklmn")
H = 3_600_000
SEED, RESIDENTS = 7, 2000
HUE = "Thành phố Huế"
Clusters = set[tuple[str, frozenset[tuple[str, int]]]]


def _simulated_itineraries() -> list[dict[str, Any]]:
    """Three days of the simulator's declared itineraries (F0 and F1), up to now."""
    now = int(time.time() * 1000)
    start = (now // (24 * H) - 3) * 24 * H
    out = []
    for ev in Timeline(build_world(SEED, RESIDENTS), start,
                       Behaviour(cases_per_day=30)).events():
        if ev.send_ms > now:
            break
        if ev.kind == "itinerary":
            out.append(ev.payload)
    return out


def _cases(its: list[dict[str, Any]]) -> list[tuple[str, str, list[tuple[str, int, int]]]]:
    return [(it["case_id"], it["classification"],
             [(s["venue_id"], parse_ms(s["from"]), parse_ms(s["to"])) for s in it["stops"]])
            for it in its]


def _listed(body: Any) -> Clusters:
    return {(c["venue"]["venue_id"], frozenset((m["case_id"], m["stop"]) for m in c["members"]))
            for c in body["clusters"]}


def _in_topic(s: Settings) -> tuple[Clusters, int]:
    """The latest record of each key (a tombstone deletes), and how many records there are."""
    latest: dict[bytes, bytes | None] = {}
    records = read_all(s, topics.clusters(s))
    for r in records:
        latest[r.key] = r.value
    out = set()
    for raw in latest.values():
        if raw is not None:
            c = cluster_codec.decode(raw)
            out.add((c.venue_id, frozenset((m.case_id, m.stop) for m in c.members)))
    return out, len(records)


def _clusters(s: Settings, token: str = ADMIN, query: str = "?limit=1000") -> Any:
    status, body = http_json(s, "GET", f"/api/v1/clusters{query}", token=token)
    assert status == 200, body
    return body


def test_the_simulators_clusters_equal_the_reference_live_in_the_topic_and_after_a_restart(
        services: Services, tmp_path: Path) -> None:
    s = Settings.from_env(env={}, bootstrap_servers=services.bootstrap_servers,
                          redis_url=services.redis_url, topic_prefix=f"t{uuid.uuid4().hex[:10]}",
                          data_dir=tmp_path, api_port=_free_port(), api_token=ADMIN,
                          api_tokens=f"lan:tracer:{LAN},minh:tracer:{MINH},noc:ops:{NOC}")
    ensure_topics(s)
    world = build_world(SEED, RESIDENTS)
    pub = ScanPublisher(s)
    for v in world.venues:  # the registry, as the simulator publishes it
        pub.venue(venue_codec.from_mapping(v.record()))
    assert pub.flush() == 0
    districts = {v.venue_id: v.record()["district"] for v in world.venues}
    its = _simulated_itineraries()
    owner = {it["case_id"]: (LAN if i % 2 == 0 else MINH) for i, it in enumerate(its)}
    expected = reference_clusters(_cases(its))
    assert len(expected) >= 10, len(expected)  # the simulator's cases do meet

    with api_process(s, tmp_path / "api.log"):
        for it in its:
            status, body = http_json(s, "POST", "/api/v1/itineraries", it, token=owner[it["case_id"]])
            assert status in (200, 201, 202), body
        body = poll_until(lambda: _clusters(s), lambda b: _listed(b) == expected, 60)
        assert body["window"] == "day" and body["total"] == len(expected)
        assert all(c["hidden_cases"] == 0 and c["cases"] == len({m["case_id"] for m in
                                                                 c["members"]})
                   for c in body["clusters"])
        assert poll_until(lambda: _in_topic(s), lambda t: t[0] == expected, 60)

        # each tracer sees the members of its own cases, and counts the others
        lan = _clusters(s, LAN)
        for c in lan["clusters"]:
            assert all(owner[m["case_id"]] == LAN for m in c["members"])
            full = next(x for x in body["clusters"] if x["cluster_id"] == c["cluster_id"])
            assert c["hidden_cases"] == len({m["case_id"] for m in full["members"]
                                             if owner[m["case_id"]] != LAN})
        noc = _clusters(s, NOC)  # the operations room: venues, times, counts; never a case
        assert len(noc["clusters"]) == len(expected)
        assert all(c["members"] == [] and c["hidden_cases"] == c["cases"] for c in noc["clusters"])
        mine = next(cid for cid, tok in owner.items() if tok == LAN and any(
            cid in {m[0] for m in members} for _, members in expected))
        assert {c["cluster_id"] for c in _clusters(s, LAN, f"?case_id={mine}")["clusters"]} == \
            {c["cluster_id"] for c in body["clusters"]
             if mine in {m["case_id"] for m in c["members"]}}
        assert _clusters(s, MINH, f"?case_id={mine}")["clusters"] == []  # not his case

        # one district, typed without diacritics: its venues' clusters, as the registry says
        district = poll_until(lambda: http_json(
            s, "GET", "/api/v1/clusters?district=thanh%20pho%20hue&limit=1000", token=NOC),
            lambda r: r[0] == 200, 30)[1]
        assert {c["cluster_id"] for c in district["clusters"]} == {
            c["cluster_id"] for c in body["clusters"] if districts[c["venue"]["venue_id"]] == HUE}
        assert 0 < len(district["clusters"]) < len(body["clusters"])

        # one alert per cluster formed, and one more each time a cluster gained a case
        alerts = [alert_codec.decode(r.value) for r in read_all(s, topics.alerts(s))]
        raised = {a.facts["cluster_id"] for a in alerts if a.kind == "cluster"}
        assert {c["cluster_id"] for c in body["clusters"]} <= raised

        # the lists on the pages: the dashboard's (the newest 30), the workbench's (lan's)
        newest = [c["cluster_id"] for c in body["clusters"][:30]]
        lans = [c["cluster_id"] for c in lan["clusters"] if c["members"]]
        two = next(c for c in body["clusters"] if c["cases"] == 2 and c["cluster_id"] in lans)
        case_id = next(m["case_id"] for m in two["members"] if owner[m["case_id"]] == LAN)
        asyncio.run(_pages(s, newest, lans, case_id))

        # a case of a two-case cluster declares another venue: the cluster dissolves
        it = next(i for i in its if i["case_id"] == case_id)
        moved = {**it, "stops": [{**st, "venue_id": f"elsewhere-{n}"}
                                 for n, st in enumerate(it["stops"])]}
        status, body = http_json(s, "POST", "/api/v1/itineraries", moved, token=owner[case_id])
        assert status in (200, 202), body
        its = [moved if i["case_id"] == case_id else i for i in its]
        expected = reference_clusters(_cases(its))
        assert (two["venue"]["venue_id"], frozenset((m["case_id"], m["stop"])
                                                    for m in two["members"])) not in expected
        poll_until(lambda: _clusters(s), lambda b: _listed(b) == expected, 60)
        published, records = poll_until(lambda: _in_topic(s), lambda t: t[0] == expected, 60)
        tombstones = [r for r in read_all(s, topics.clusters(s)) if r.value is None]
        assert two["cluster_id"].encode() in {r.key for r in tombstones}

    # restarted: the clusters again from the itineraries; the topic already says them all
    with api_process(s, tmp_path / "api-2.log"):
        assert _listed(_clusters(s)) == expected
        assert _in_topic(s) == (published, records)  # ready means reconciled: nothing resent


SHOWN = "[...document.querySelectorAll('#clusters li[data-cluster]')].map(e => e.dataset.cluster)"


async def _pages(s: Settings, newest: list[str], lans: list[str], case_id: str) -> None:
    async with Browser(_free_port()) as b:
        await b.goto(f"{s.api_url}/dashboard/#token={NOC}")
        assert await b.wait_for(f"(l => l.length ? l : null)({SHOWN})") == newest
        await b.goto(f"{s.api_url}/workbench/#token={LAN}")
        assert sorted(await b.wait_for(f"(l => l.length ? l : null)({SHOWN})")) == sorted(lans)
        # one of lan's cases in a cluster opens from the list
        await b.eval(f"document.querySelector('#clusters button[data-case=\"{case_id}\"]').click()")
        await b.wait_for(f"document.querySelector('#cases tr.on')?.dataset.case === '{case_id}' || null")
