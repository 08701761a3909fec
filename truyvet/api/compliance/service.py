"""Compliance in the API process: inspections and campaigns recorded, and the figures,
rankings and report computed from what :class:`~truyvet.api.compliance.views.ComplianceViews`
follows.

Inspections and campaigns are written to Kafka first (acknowledged) and read back through the
same followers, so every API process, and a restarted one, sees the same records. The numbers
come from ``truyvet.domain.compliance.figures`` (pure), as the dashboard's and the report's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from truyvet import topics
from truyvet.api.compliance.views import ComplianceViews, inspection_json
from truyvet.codec import alert as alert_codec
from truyvet.codec.alert import COMPLIANCE_KINDS
from truyvet.codec import campaign as campaign_codec
from truyvet.codec import headcount as headcount_codec
from truyvet.codec import inspection as inspection_codec
from truyvet.codec import venue as venue_codec
from truyvet.codec.campaign import Campaign
from truyvet.codec.inspection import Inspection
from truyvet.codec.timefmt import format_ms
from truyvet.codec.venue import ASSUMABLE, HOSPITALITY, Venue
from truyvet.domain.compliance.figures import Figures, combine, risk, venue_figures
from truyvet.domain.venue_search import VenueSearch
from truyvet.kafka.async_producer import AsyncProducer
from truyvet.kafka.backend import Backend
from truyvet.settings import Settings

QUEUE_EVIDENCE_S = 7 * 86_400  # the inspection queue ranks on the last week


class UnknownVenue(LookupError):
    """An inspection of a venue the registry does not have."""


log = logging.getLogger(__name__)


class ComplianceService:
    def __init__(self, s: Settings, producer: AsyncProducer,
                 clock: Callable[[], float] = time.time, backend: Backend | None = None) -> None:
        self.s = s
        self.producer = producer
        self.clock = clock
        self.views = ComplianceViews(s, backend)
        self.lock = self.views.lock
        self.registry = self.views.registry
        self.followers = [*self.views.followers, self.registry.follower]
        self._search = VenueSearch()  # used on the event loop only

    def start(self) -> None:
        self.views.start()

    def stop(self) -> None:
        self.views.stop()

    def distinct_scans(self) -> int:
        """Scans within the retention, each once (the compliance job counts a re-sent scan,
        same event id, once)."""
        with self.lock:
            return sum(h.scans_in + h.scans_out for r in self.views.records.values()
                       for h in r.hours.values())

    def compliance_alerts(self) -> int:
        """Compliance alerts within the retention, each once (a cluster alert is not the
        venue's failing: the dashboard's tile counts these, not every record of alerts.v1)."""
        with self.lock:
            return sum(1 for a in self.views.alerts.values() if a.kind in COMPLIANCE_KINDS)

    async def expire_forever(self) -> None:
        """Apply the retention to the views every sweep (as the tracer service does)."""
        rules = self.s.rules()
        while True:
            await asyncio.sleep(rules.sweep_every_s)
            gone = await asyncio.to_thread(self.views.expire,
                                           int(self.clock()) - rules.retention_s)
            if gone:
                log.info("retention: %d compliance records and alerts forgotten", gone)

    # --- writing ------------------------------------------------------------------------------------
    async def record_inspection(self, i: Inspection) -> dict[str, Any]:
        """Publish the inspection (acknowledged), and its head count as a headcount report."""
        if i.venue_id not in self.registry.venues:
            raise UnknownVenue(i.venue_id)
        now_ms = int(self.clock() * 1000)
        i = dataclasses.replace(
            i, inspection_id=i.inspection_id or f"insp-{uuid.uuid4().hex[:16]}",
            recorded_at_ms=now_ms)
        await self.producer.send(topics.inspections(self.s), inspection_codec.key(i),
                                 inspection_codec.encode(i))
        headcount = headcount_codec.Headcount(
            f"{i.inspection_id}", i.venue_id, i.observed_from_ms, i.observed_to_ms,
            i.people_counted, "inspector", i.inspector)
        await self.producer.send(topics.headcounts(self.s), headcount_codec.key(headcount),
                                 headcount_codec.encode(headcount))
        with self.lock:
            self.views.inspections[i.inspection_id or ""] = i
        return inspection_codec.to_mapping(i)

    async def create_campaign(self, c: Campaign) -> dict[str, Any]:
        await self.producer.send(topics.campaigns(self.s), campaign_codec.key(c),
                                 campaign_codec.encode(c))
        with self.lock:
            self.views.campaigns[c.campaign_id] = c
        return campaign_codec.to_mapping(c)

    # --- reading -------------------------------------------------------------------------------------
    def campaigns(self) -> list[dict[str, Any]]:
        with self.lock:
            return [campaign_codec.to_mapping(c) for c in self.views.campaigns.values()]

    def inspections(self, frm_s: int, to_s: int,
                    venue_id: str | None = None) -> list[dict[str, Any]]:
        """Inspections observed in [frm_s, to_s), oldest first."""
        with self.lock:
            rows = [i for i in self.views.inspections.values()
                    if (venue_id is None or i.venue_id == venue_id)
                    and frm_s <= i.observed_from_ms // 1000 < to_s]
        return [inspection_json(i) for i in sorted(rows, key=lambda i: i.observed_from_ms)]

    def venue(self, venue_id: str, frm_s: int, to_s: int) -> dict[str, Any] | None:
        with self.lock:
            v = self.registry.venues.get(venue_id)
            if v is None and venue_id not in self.views.records:
                return None
            f = self._figures(venue_id, frm_s, to_s)
            alerts = sorted((a for a in self.views.alerts.values() if a.venue_id == venue_id),
                            key=lambda a: a.raised_at_ms, reverse=True)[:50]
            inspections = sorted((i for i in self.views.inspections.values()
                                  if i.venue_id == venue_id),
                                 key=lambda i: i.observed_from_ms, reverse=True)[:50]
        score, reasons = risk(f)
        return {"venue": _venue_info(v, venue_id), "from": format_ms(frm_s * 1000),
                "to": format_ms(to_s * 1000), "figures": f.to_mapping(), "risk": score,
                "reasons": reasons, "alerts": [alert_codec.to_mapping(a) for a in alerts],
                "inspections": [inspection_json(i) for i in inspections]}

    def grouped(self, frm_s: int, to_s: int, by: str, district: str | None = None,
                category: str | None = None) -> list[dict[str, Any]]:
        """Figures per district, per category or per venue, with the filters."""
        with self.lock:
            groups: dict[str, list[Figures]] = defaultdict(list)
            for vid, v in self.registry.venues.items():
                if (district and v.district != district) or (category and v.category != category):
                    continue
                key = {"district": v.district, "category": v.category, "venue": vid}[by]
                groups[key].append(self._figures(vid, frm_s, to_s))
        return [{by: key, "figures": combine(fs).to_mapping()} for key, fs in sorted(groups.items())]

    def queue(self, campaign_id: str, limit: int = 50,
              district: str | None = None) -> dict[str, Any] | None:
        """Venues of the campaign's categories (and districts; of ``district`` only when
        given), most urgent first."""
        with self.lock:
            c = self.views.campaigns.get(campaign_id)
            if c is None:
                return None
            now_s = int(self.clock()) + 1  # periods exclude their end: include this second
            frm_s = now_s - QUEUE_EVIDENCE_S
            inspected = {i.venue_id for i in self.views.inspections.values()
                         if i.campaign_id == campaign_id}
            rows = []
            for vid, v in self.registry.venues.items():
                if v.category not in c.categories or (c.districts and v.district not in c.districts) \
                        or (district and v.district != district):
                    continue
                f = self._figures(vid, frm_s, now_s)
                score, reasons = risk(f)
                rows.append({"venue": _venue_info(v, vid), "risk": score, "reasons": reasons,
                             "inspected": vid in inspected, "figures": f.to_mapping()})
        rows.sort(key=lambda r: (r["inspected"], -r["risk"], r["venue"]["venue_id"]))
        return {"campaign": campaign_codec.to_mapping(c), "district": district,
                "venues": rows[:limit], "total": len(rows),
                "inspected": sum(r["inspected"] for r in rows), "evidence": {"from": format_ms(frm_s * 1000),
                                                 "to": format_ms(now_s * 1000)}}

    def alert_list(self, frm_s: int, to_s: int, district: str | None = None,
                   venue_id: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            out = []
            for a in self.views.alerts.values():
                v = self.registry.venues.get(a.venue_id)
                if not frm_s * 1000 <= a.raised_at_ms < to_s * 1000 or \
                        (venue_id and a.venue_id != venue_id):
                    continue
                if district and (v is None or v.district != district):
                    continue
                out.append(a)
        out.sort(key=lambda a: a.raised_at_ms, reverse=True)
        return [{**alert_codec.to_mapping(a),
                 "venue": _venue_info(self.registry.venues.get(a.venue_id), a.venue_id)}
                for a in out]

    def search_venues(self, query: str, district: str | None = None,
                      limit: int = 20) -> list[dict[str, Any]]:
        """Registered venues matching what a tracer typed, best first (diacritics aside)."""
        with self.lock:
            venues = list(self.registry.venues.values())
        return [venue_codec.to_mapping(v)
                for v in self._search.search(venues, query, district, limit)]

    def venue_info(self, venue_id: str) -> dict[str, Any]:
        """What the registry says of a venue (``registered: false`` when it is not in it)."""
        with self.lock:
            return _venue_info(self.registry.venues.get(venue_id), venue_id)

    def districts(self) -> list[str]:
        with self.lock:
            return sorted({v.district for v in self.registry.venues.values()})

    def recent_gaps(self, limit: int = 50, district: str | None = None) -> list[dict[str, Any]]:
        """The latest gaps flagged (open or resolved), newest first, without the case: the
        operations room sees venues, not people."""
        with self.lock:
            found = []
            for vid, rec in self.views.records.items():
                v = self.registry.venues.get(vid)
                if district and (v is None or v.district != district):
                    continue
                found += [(g, v) for g in rec.gaps.values()]
        found.sort(key=lambda gv: gv[0].flagged_at_ms, reverse=True)
        return [{"venue": _venue_info(v, g.venue_id), "status": g.status,
                 "from": format_ms(g.from_ms), "to": format_ms(g.to_ms),
                 "flagged_at": format_ms(g.flagged_at_ms),
                 "resolved_at": None if g.resolved_at_ms is None else format_ms(g.resolved_at_ms)}
                for g, v in found[:limit]]

    def report(self, frm_s: int, to_s: int, district: str | None = None,
               worst: int = 10) -> dict[str, Any]:
        """The summary a district sends to the Department of Information and Communications."""
        with self.lock:
            per: dict[str, dict[str, list[Figures]]] = defaultdict(lambda: defaultdict(list))
            scored = []
            incomplete = []
            for vid, v in self.registry.venues.items():
                if district and v.district != district:
                    continue
                if v.assumed:
                    incomplete.append(v)
                f = self._figures(vid, frm_s, to_s)
                per[v.district][v.category].append(f)
                score, reasons = risk(f)
                if score > 0:
                    scored.append({"venue": _venue_info(v, vid), "risk": score,
                                   "reasons": reasons, "figures": f.to_mapping()})
        districts = []
        everything: list[Figures] = []
        for d in sorted(per):
            cats = [{"category": c, "figures": combine(fs).to_mapping()}
                    for c, fs in sorted(per[d].items())]
            all_d = [f for fs in per[d].values() for f in fs]
            everything += all_d
            hospitality = [f for c, fs in per[d].items() if c in HOSPITALITY for f in fs]
            districts.append({"district": d, "figures": combine(all_d).to_mapping(),
                              "hospitality": combine(hospitality).to_mapping(),
                              "categories": cats})
        scored.sort(key=lambda r: (-r["risk"], r["venue"]["venue_id"]))
        return {"v": 1, "from": format_ms(frm_s * 1000), "to": format_ms(to_s * 1000),
                "district": district, "generated_at": format_ms(int(self.clock() * 1000)),
                "total": combine(everything).to_mapping(), "districts": districts,
                "worst_venues": scored[:worst],
                "registry": registry_gaps(sum(len(fs) for d in per.values() for fs in d.values()),
                                          incomplete)}

    def _figures(self, venue_id: str, frm_s: int, to_s: int) -> Figures:
        """Under ``lock``."""
        views = self.views
        alerts = [a for a in views.alerts.values() if a.venue_id == venue_id]
        inspections = [i for i in views.inspections.values() if i.venue_id == venue_id]
        # the first hour the job saw is likely partial (it started within it): count from the
        # next; the newest is likely partial too (still being heard in): count up to it
        if views.observed_from_h is None or views.observed_to_h is None:
            observed_from, observed_to = None, None
        else:
            observed_from = (views.observed_from_h + 1) * 3600
            observed_to = views.observed_to_h * 3600
        return venue_figures(self.registry.venues.get(venue_id), views.records[venue_id],
                             frm_s, to_s, alerts, inspections, observed_from, observed_to)


LISTED_INCOMPLETE = 200  # venues listed by name in the report's registry section


def registry_gaps(venues: int, incomplete: list[Venue]) -> dict[str, Any]:
    """What the registry assumes (imported from the province's list): how many venues lack
    each field, and the first of them by district and name, for the district to complete."""
    incomplete.sort(key=lambda v: (v.district, v.name, v.venue_id))
    return {"venues": venues, "incomplete": len(incomplete),
            "assumed": {k: sum(k in v.assumed for v in incomplete) for k in ASSUMABLE},
            "incomplete_venues": [{**_venue_info(v, v.venue_id), "assumed": list(v.assumed)}
                                  for v in incomplete[:LISTED_INCOMPLETE]]}


def _venue_info(v: Venue | None, venue_id: str) -> dict[str, Any]:
    if v is None:
        return {"venue_id": venue_id, "registered": False}
    return {"venue_id": venue_id, "registered": True, "name": v.name, "district": v.district,
            "ward": v.ward, "category": v.category, "scanning_points": v.scanning_points,
            "staff_count": v.staff_count}
