"""A replica is ready once given its partitions, before it has answered their cases again; a
read or a submission of a case it has not come to yet answers that case first, so what it
serves has been checked against its index as it is now. In process, on the real broker and
Redis: the replica's matching of the cases it was given is held until the test lets it go."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from tests.conftest import Services, own_settings
from truyvet import topics
from truyvet.api.tracing.service import TracerService
from truyvet.codec import visits as visits_codec
from truyvet.codec.itinerary import Itinerary, Stop
from truyvet.domain.matching.ownership import Caller, Outcome
from truyvet.kafka.admin import ensure_topics
from truyvet.kafka.partitioner import partition_of
from truyvet.kafka.producer import DurableProducer
from truyvet.settings import Settings

VENUE = "HUE-PH-CF-0042"
TRACER = Caller("tracer-1")


def _visit(s: Settings, card: str, start_s: int, end_s: int) -> None:
    bucket = visits_codec.Bucket(VENUE, start_s // 86_400, card, [(start_s, end_s)])
    p = DurableProducer(s, "test")
    p.send(topics.visits(s), visits_codec.key(bucket), visits_codec.encode(bucket),
           partition=partition_of(VENUE.encode(), s.checkin_partitions))
    assert p.flush() == 0


def test_a_read_answers_a_case_not_answered_again_yet(services: Services, tmp_path: Path) -> None:
    s = own_settings(services, tmp_path)
    ensure_topics(s)
    now = int(time.time())
    start = now - 7200
    _visit(s, "TKS-46-0000001", start + 600, start + 2400)
    cases = [Itinerary(f"BN-{i}", "F0", f"TKS-46-100000{i}",
                       (Stop(VENUE, (start + 300) * 1000, (start + 3000) * 1000),))
             for i in range(3)]

    async def first_replica() -> dict[str, int]:
        service = TracerService(s)
        await service.start()
        try:
            revisions = {}
            for it in cases:
                done = await service.submit(it, TRACER)
                assert done.outcome is Outcome.OPENED and done.case is not None
                assert done.case.contacts == 1, done.case.summary
                revisions[it.case_id] = done.case.revision
            return revisions
        finally:
            await service.stop()

    before = asyncio.run(first_replica())
    # while no replica runs, a late scan becomes a visit at the same venue and hour
    _visit(s, "TKS-46-0000002", start + 1200, start + 1800)

    release = threading.Event()

    async def second_replica() -> None:
        service = TracerService(s)
        matching = service._matching  # (the cases given, matched in turn one ahead)

        async def after_release(case_id: str):  # type: ignore[no-untyped-def]
            await asyncio.to_thread(release.wait, 120)
            ahead = matching(case_id)
            return await ahead if ahead is not None else None

        service._matching = lambda case_id: asyncio.ensure_future(  # type: ignore[method-assign]
            after_release(case_id))
        try:
            # ready while none of its cases is answered again (the old start waited for them)
            await asyncio.wait_for(service.start(), 60)
            assert service.ready
            assert service.answering_again == len(cases)
            for it in cases:  # the last revision published, not checked yet
                assert service.board.latest(it.case_id).revision == before[it.case_id]

            # a read of one answers it first: the late visit is in its new revision
            await asyncio.wait_for(service.settled(cases[0].case_id), 30)
            shown = service.board.latest(cases[0].case_id)
            assert (shown.revision, shown.contacts) == (before[cases[0].case_id] + 1, 2)
            assert service.answering_again == len(cases) - 1

            # so does a submission that changes nothing: it returns the case answered again
            done = await asyncio.wait_for(service.submit(cases[1], TRACER), 30)
            assert done.outcome is Outcome.UNCHANGED and done.case is not None
            assert (done.case.revision, done.case.contacts) == (before[cases[1].case_id] + 1, 2)
            assert service.board.latest(cases[2].case_id).revision == before[cases[2].case_id]
        finally:
            release.set()
        # the rest, in their turn; none answered twice
        deadline = time.monotonic() + 30
        while service.answering_again and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        try:
            assert service.answering_again == 0
            for it in cases:
                shown = service.board.latest(it.case_id)
                assert (shown.revision, shown.contacts) == (before[it.case_id] + 1, 2), it.case_id
        finally:
            await service.stop()

    asyncio.run(second_replica())
