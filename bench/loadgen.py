"""A scan load generator: publishes check-ins at a fixed rate, as a separate process.

    python -m bench.loadgen RATE SECONDS   (settings from the environment)

Scans are at the busy venues of bench/data.py (V0000..V0039), now, for cards C0000000..;
every card alternates in/out at one venue, so the visits job builds visits from them.
"""

from __future__ import annotations

import sys
import time

from bench.data import Shape, card_id, venue_id
from truyvet.producers.scans import ScanPublisher
from truyvet.codec.checkin import CheckIn
from truyvet.settings import Settings


def run(s: Settings, rate: float, seconds: float) -> int:
    shape = Shape()
    pub = ScanPublisher(s, "bench-loadgen")
    sent = 0
    started = time.monotonic()
    tick = 0.01
    while True:
        elapsed = time.monotonic() - started
        if elapsed >= seconds:
            break
        due = int(elapsed * rate)
        now_ms = int(time.time() * 1000)
        while sent < due:
            card = sent // 2
            direction = "in" if sent % 2 == 0 else "out"
            pub.publish(CheckIn(f"load-{started:.0f}-{sent}", card_id(card % shape.cards),
                                venue_id(card % shape.busy_venues), "load", direction,
                                now_ms, "card"))
            sent += 1
        pub.producer.poll(0)
        time.sleep(tick)
    pub.flush()
    return sent


if __name__ == "__main__":
    n = run(Settings.from_env(), float(sys.argv[1]), float(sys.argv[2]))
    print(f"loadgen: {n:,} scans in {sys.argv[2]}s", flush=True)
