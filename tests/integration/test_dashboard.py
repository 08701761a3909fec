"""The operations room's dashboard in a real headless Chromium on a running pipeline: it
loads without external resources, its live figures change as scans arrive, it shows the
non-scanning venue alerted and first in the inspection queue, one venue's detail, and
switches to English. Screenshots go to test-output/dashboard/."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from pathlib import Path

from truyvet.producers.scans import ScanPublisher
from tests.browser import Browser
from tests.conftest import Services, _free_port
from tests.integration.helpers import api_process, http_json, wait_caught_up, worker_process
from tests.integration.test_compliance_api import _venue
from truyvet import topics
from truyvet.codec import headcount as headcount_codec
from truyvet.codec.checkin import CheckIn
from truyvet.codec.timefmt import format_ms
from truyvet.kafka.admin import ensure_topics
from truyvet.settings import ROOT, Settings

OUTPUT = ROOT / "test-output" / "dashboard"


def _scans_forever(s: Settings, stop: threading.Event, t0: int) -> None:
    """GOOD keeps scanning people in and out, a few per second, as the page is watched."""
    pub = ScanPublisher(s)
    i = 0
    while not stop.is_set():
        for _ in range(10):
            i += 1
            at = (t0 + i % 3000) * 1000
            pub.publish(CheckIn(f"live-{i}", f"p{i % 500}", "GOOD", "GOOD-s1",
                                "in" if i % 2 else "out", at, "card"))
        pub.flush()
        stop.wait(0.5)
    pub.flush()


def test_dashboard_live_in_chromium(services: Services, tmp_path: Path) -> None:
    s = Settings.from_env(env={}, bootstrap_servers=services.bootstrap_servers,
                          redis_url=services.redis_url, topic_prefix=f"t{uuid.uuid4().hex[:10]}",
                          data_dir=tmp_path, worker_web_port=_free_port(), api_port=_free_port(),
                          api_token="test-token-0123456789abcdefghijklmnopqrstuv")
    ensure_topics(s)
    now = int(time.time())
    t0 = now - now % 3600 - 3600
    pub = ScanPublisher(s)
    send = pub.producer.send
    send(topics.venues(s), b"GOOD", _venue("GOOD", "Thành phố Huế", "cafe"))
    send(topics.venues(s), b"BAD", _venue("BAD", "Thành phố Huế", "bar"))
    send(topics.venues(s), b"FAR", _venue("FAR", "Huyện A Lưới", "restaurant"))
    for i in range(3):  # BAD scans 3 of 20 people, two of them with a poster
        method = "card" if i == 0 else "venue_qr"
        pub.publish(CheckIn(f"b{i}", f"q{i}", "BAD", "BAD-s1", "in", (t0 + 60 * i) * 1000, method))
    send(topics.headcounts(s), b"BAD", headcount_codec.encode(headcount_codec.Headcount(
        "hc-BAD", "BAD", t0 * 1000, (t0 + 3600) * 1000, 20, "door_counter")))
    assert pub.flush() == 0

    stop = threading.Event()
    feeder = threading.Thread(target=_scans_forever, args=(s, stop, t0), daemon=True)
    with worker_process(s, tmp_path / "worker.log") as worker, \
            api_process(s, tmp_path / "api.log"):
        status, _ = http_json(s, "POST", "/api/v1/itineraries", {
            "case_id": "case-d", "classification": "F1", "card_id": "q7",
            "stops": [{"venue_id": "BAD", "from": format_ms(t0 * 1000),
                       "to": format_ms((t0 + 1800) * 1000)}]})
        assert status == 201
        status, _ = http_json(s, "POST", "/api/v1/campaigns", {
            "campaign_id": "peak", "name": "Tuần cao điểm", "from": format_ms((now - 86400) * 1000),
            "to": format_ms((now + 6 * 86400) * 1000), "categories": ["cafe", "restaurant", "bar"]})
        assert status == 201
        wait_caught_up(s, 90, [worker])
        feeder.start()
        try:
            asyncio.run(_drive(s, tmp_path))
        finally:
            stop.set()
            feeder.join(10)


async def _drive(s: Settings, tmp_path: Path) -> None:
    async with Browser(_free_port()) as b:
        try:
            await _check(b, s, tmp_path)
        except BaseException:
            await b.screenshot(OUTPUT / "dashboard-failure.png")
            raise


async def _check(b: Browser, s: Settings, tmp_path: Path) -> None:
    if True:
        await b.goto(f"{s.api_url}/dashboard/#token={s.api_token}")
        await b.wait_for("/\\d/.test(document.querySelector('#scans-total')?.textContent)")
        assert await b.eval("location.hash") == ""  # the token left the address bar
        assert await b.eval("document.documentElement.lang") == "vi"
        assert "Phòng điều hành" in await b.eval("document.querySelector('h1').textContent")

        # live figures change while scans arrive
        read_total = "Number(document.querySelector('#scans-total').textContent.replace(/\\D/g, ''))"
        first = await b.eval(read_total)
        await b.wait_for(f"{read_total} > {first}", timeout=30)
        await b.wait_for("Number(document.querySelector('#scans-rate').textContent"
                         ".replace(/\\./g, '').replace(',', '.')) > 0", timeout=30)
        await b.wait_for("!!document.querySelector('#spark-scans polyline')", timeout=30)

        # compliance by district, the alert and the gap, the queue with BAD first
        await b.wait_for("!!document.querySelector('#districts tr[data-district=\"Thành phố Huế\"]')")
        await b.wait_for("!!document.querySelector('#alerts li[data-kind=venue_qr] a[data-venue=BAD]')")
        await b.wait_for("!!document.querySelector('#gaps a[data-venue=BAD]')")
        first_in_queue = await b.wait_for(
            "document.querySelector('#queue tbody tr')?.dataset.venue", timeout=30)
        assert first_in_queue == "BAD"
        reasons = await b.eval("document.querySelector('#queue tbody tr .reasons').textContent")
        assert "mã QR dán" in reasons

        # one venue's detail
        await b.eval("document.querySelector('#queue a[data-venue=BAD]').click()")
        assert await b.wait_for("document.querySelector('#venue-name')?.textContent") == "Quán BAD"
        await b.screenshot(tmp_path / "dashboard-vi.png")
        await b.screenshot(OUTPUT / "dashboard-vi.png")

        # English
        await b.eval("document.querySelector('button[data-lang=en]').click()")
        await b.wait_for("document.querySelector('h1').textContent.startsWith('Tracing')")
        await b.wait_for("document.querySelector('#queue tbody tr .reasons')?.textContent"
                         ".includes('poster')")
        assert await b.eval("document.documentElement.lang") == "en"
        await b.screenshot(OUTPUT / "dashboard-en.png")

        # offline: every resource the page loaded came from the API itself
        origins = await b.eval("[...new Set(performance.getEntriesByType('resource')"
                               ".map(e => new URL(e.name).origin))]")
        assert origins == [s.api_url], origins
        assert await b.eval("document.querySelector('#error').hidden")


def test_the_total_of_scans_counts_a_re_sent_scan_once(services: Services,
                                                       tmp_path: Path) -> None:
    """Scanners re-send (no acknowledgement seen, a reconnect): the check-in topic holds the
    copies, the pipeline's throughput counts them, but the dashboard's total of scans counts
    each scan once. Likewise its tile of compliance alerts counts each alert once, and not a
    cluster's (a cluster of cases at a venue is not the venue's failing)."""
    from truyvet.codec import alert as alert_codec
    from tests.conftest import own_settings
    from tests.integration.helpers import poll_until

    s = own_settings(services, tmp_path)
    ensure_topics(s)
    now = int(time.time())
    pub = ScanPublisher(s)
    pub.producer.send(topics.venues(s), b"V1", _venue("V1", "Thành phố Huế", "cafe"))
    scans = [CheckIn(f"r{i}", f"card-{i % 7}", "V1", "V1-s1", "in" if i % 3 else "out",
                     (now - 600 + i) * 1000, "card") for i in range(60)]
    for c in scans:
        pub.publish(c)
    for c in scans[::3]:  # a third sent again, as a scanner that saw no acknowledgement does
        pub.publish(c)
    silent = alert_codec.Alert("V1/silent/x", "V1", "silent", now * 1000, "silent", {"minutes": 40})
    cluster = alert_codec.Alert("V1/cluster/x", "V1", "cluster", now * 1000, "2 cases",
                                {"cases": 2})
    for a in (silent, silent, cluster):  # the silent alert written twice, as a restart may
        pub.producer.send(topics.alerts(s), alert_codec.key(a), alert_codec.encode(a))
    assert pub.flush() == 0
    with worker_process(s, tmp_path / "worker.log") as worker, \
            api_process(s, tmp_path / "api.log"):
        wait_caught_up(s, 90, [worker])
        ops = poll_until(lambda: http_json(s, "GET", "/api/v1/ops")[1],
                         lambda o: o["totals"].get("checkins") == 80
                         and o["views"].get("api-compliance") == 0
                         and o["totals"].get("alerts") == 3 and o["views"].get("api-alerts") == 0
                         and o["totals"].get("scans", 0) >= 60, timeout=60)
    assert ops["totals"]["scans"] == 60  # each once
    assert (ops["totals"]["alerts"], ops["totals"]["compliance_alerts"]) == (3, 1)
