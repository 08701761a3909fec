"""Compliance in the API process: what the compliance job, inspectors and campaigns recorded,
followed from Kafka, and the figures, rankings and report computed from it.

Followers (threads) fill the stores under ``lock``; requests read under it. Inspections and
campaigns are written to Kafka first (acknowledged) and read back through the same followers,
so every API process, and a restarted one, sees the same records.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import orjson
from confluent_kafka import Message

from truyvet.domain.compliance.figures import Figures, VenueRecords, combine, risk, venue_figures
from truyvet import topics
from truyvet.codec import inspection as inspection_codec
from truyvet.codec import signals
from truyvet.codec.errors import InvalidEvent
from truyvet.codec.inspection import Campaign, Inspection
from truyvet.codec.timefmt import format_ms
from truyvet.codec.venue import HOSPITALITY
from truyvet.kafka.async_producer import AsyncProducer
from truyvet.kafka.follower import TopicFollower
from truyvet.kafka.registry import VenueRegistry
from truyvet.settings import Settings

SEP = "\x1f"


class ComplianceService:
    def __init__(self, s: Settings, producer: AsyncProducer,
                 clock: Callable[[], float] = time.time) -> None:
        self.s = s
        self.producer = producer
        self.clock = clock
        self.lock = threading.Lock()
        self.registry = VenueRegistry(s)
        self.records: dict[str, VenueRecords] = defaultdict(VenueRecords)
        self.observed_from_h: int | None = None  # the first hour with any record
        self.observed_to_h: int | None = None  # the newest hour with any record
        self.alerts: dict[str, dict[str, Any]] = {}
        self.inspections: dict[str, dict[str, Any]] = {}
        self.campaigns: dict[str, Campaign] = {}
        self.followers = [
            TopicFollower(s, topics.compliance(s), self._on_compliance, "api-compliance"),
            TopicFollower(s, topics.alerts(s), self._on_alerts, "api-alerts"),
            TopicFollower(s, topics.inspections(s), self._on_inspections, "api-inspections"),
            TopicFollower(s, topics.campaigns(s), self._on_campaigns, "api-campaigns"),
        ]

    # --- following Kafka (follower threads) ---------------------------------------------------------
    def start(self) -> None:
        self.registry.start()
        for f in self.followers:
            f.start()
        for f in self.followers:
            f.wait_caught_up()

    def stop(self) -> None:
        self.registry.stop()
        for f in self.followers:
            f.stop()

    def _on_compliance(self, msgs: list[Message]) -> None:
        with self.lock:
            for m in msgs:
                if m.value() is None:
                    continue  # the job only replaces records; retention removes them
                venue, kind, key = (m.key() or b"").decode().split(SEP, 2)
                value = orjson.loads(m.value())
                records = self.records[venue]
                if kind == "hour":
                    records.hours[int(key)] = value
                    if self.observed_from_h is None or int(key) < self.observed_from_h:
                        self.observed_from_h = int(key)
                    if self.observed_to_h is None or int(key) > self.observed_to_h:
                        self.observed_to_h = int(key)
                elif kind == "day":
                    records.days[value["day"]] = value
                elif kind == "coverage":
                    records.coverage[key] = value
                elif kind == "gap":
                    records.gaps[key] = value

    def _on_alerts(self, msgs: list[Message]) -> None:
        with self.lock:
            for m in msgs:
                if m.value() is not None:
                    a = orjson.loads(m.value())
                    self.alerts[a["alert_id"]] = a

    def _on_inspections(self, msgs: list[Message]) -> None:
        with self.lock:
            for m in msgs:
                if m.value() is not None:
                    i = orjson.loads(m.value())
                    i["inspected_at"] = i["observed_from"]
                    self.inspections[i["inspection_id"]] = i

    def _on_campaigns(self, msgs: list[Message]) -> None:
        with self.lock:
            for m in msgs:
                try:
                    c = inspection_codec.decode_campaign(m.value() or b"")
                except InvalidEvent:
                    continue
                self.campaigns[c.campaign_id] = c

    # --- writing ------------------------------------------------------------------------------------
    async def record_inspection(self, i: Inspection) -> dict[str, Any]:
        """Publish the inspection (acknowledged), and its head count as a headcount report."""
        if i.venue_id not in self.registry.venues:
            raise KeyError(i.venue_id)
        now_ms = int(self.clock() * 1000)
        i = dataclasses.replace(
            i, inspection_id=i.inspection_id or f"insp-{uuid.uuid4().hex[:16]}",
            recorded_at_ms=now_ms)
        record = inspection_codec.inspection_to_mapping(i)
        await self.producer.send(topics.inspections(self.s), i.venue_id,
                                 inspection_codec.encode(record))
        headcount = signals.Headcount(f"{i.inspection_id}", i.venue_id, i.observed_from_ms,
                                      i.observed_to_ms, i.people_counted, "inspector", i.inspector)
        await self.producer.send(topics.headcounts(self.s), i.venue_id,
                                 signals.encode_headcount(headcount))
        with self.lock:
            self.inspections[record["inspection_id"]] = {**record,
                                                          "inspected_at": record["observed_from"]}
        return record

    async def create_campaign(self, c: Campaign) -> dict[str, Any]:
        record = inspection_codec.campaign_to_mapping(c)
        await self.producer.send(topics.campaigns(self.s), c.campaign_id,
                                 inspection_codec.encode(record))
        with self.lock:
            self.campaigns[c.campaign_id] = c
        return record

    # --- reading -------------------------------------------------------------------------------------
    def venue(self, venue_id: str, frm_s: int, to_s: int) -> dict[str, Any] | None:
        with self.lock:
            v = self.registry.venues.get(venue_id)
            if v is None and venue_id not in self.records:
                return None
            f = self._figures(venue_id, frm_s, to_s)
            alerts = sorted((a for a in self.alerts.values() if a["venue_id"] == venue_id),
                            key=lambda a: a["raised_at"], reverse=True)[:50]
            inspections = sorted((i for i in self.inspections.values()
                                  if i["venue_id"] == venue_id),
                                 key=lambda i: i["inspected_at"], reverse=True)[:50]
        score, reasons = risk(f)
        return {"venue": _venue_info(v, venue_id), "from": format_ms(frm_s * 1000),
                "to": format_ms(to_s * 1000), "figures": f.to_mapping(), "risk": score,
                "reasons": reasons, "alerts": alerts, "inspections": inspections}

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

    def queue(self, campaign_id: str, limit: int = 50) -> dict[str, Any] | None:
        """Venues of the campaign's categories (and districts), most urgent first."""
        with self.lock:
            c = self.campaigns.get(campaign_id)
            if c is None:
                return None
            now_s = int(self.clock()) + 1  # periods exclude their end: include this second
            frm_s = now_s - 7 * 86_400  # the last week's evidence
            rows = []
            for vid, v in self.registry.venues.items():
                if v.category not in c.categories or (c.districts and v.district not in c.districts):
                    continue
                f = self._figures(vid, frm_s, now_s)
                done = [i for i in self.inspections.values()
                        if i["venue_id"] == vid and i.get("campaign_id") == campaign_id]
                score, reasons = risk(f)
                rows.append({"venue": _venue_info(v, vid), "risk": score, "reasons": reasons,
                             "inspected": bool(done), "figures": f.to_mapping()})
        rows.sort(key=lambda r: (r["inspected"], -r["risk"], r["venue"]["venue_id"]))
        return {"campaign": inspection_codec.campaign_to_mapping(c), "venues": rows[:limit],
                "total": len(rows), "evidence": {"from": format_ms(frm_s * 1000),
                                                 "to": format_ms(now_s * 1000)}}

    def alert_list(self, frm_s: int, to_s: int, district: str | None = None,
                   venue_id: str | None = None) -> list[dict[str, Any]]:
        lo, hi = format_ms(frm_s * 1000), format_ms(to_s * 1000)
        with self.lock:
            out = []
            for a in self.alerts.values():
                v = self.registry.venues.get(a["venue_id"])
                if not lo <= a["raised_at"] < hi or (venue_id and a["venue_id"] != venue_id):
                    continue
                if district and (v is None or v.district != district):
                    continue
                out.append({**a, "venue": _venue_info(v, a["venue_id"])})
        return sorted(out, key=lambda a: a["raised_at"], reverse=True)

    def districts(self) -> list[str]:
        with self.lock:
            return sorted({v.district for v in self.registry.venues.values()})

    def recent_gaps(self, limit: int = 50, district: str | None = None) -> list[dict[str, Any]]:
        """The latest gaps flagged (open or resolved), newest first, without the case: the
        operations room sees venues, not people."""
        with self.lock:
            rows = []
            for vid, rec in self.records.items():
                v = self.registry.venues.get(vid)
                if district and (v is None or v.district != district):
                    continue
                for g in rec.gaps.values():
                    rows.append({"venue": _venue_info(v, vid), "status": g["status"],
                                 "from": g["from"], "to": g["to"], "flagged_at": g["flagged_at"],
                                 "resolved_at": g.get("resolved_at")})
        rows.sort(key=lambda r: r["flagged_at"], reverse=True)
        return rows[:limit]

    def report(self, frm_s: int, to_s: int, district: str | None = None,
               worst: int = 10) -> dict[str, Any]:
        """The summary a district sends to the Department of Information and Communications."""
        with self.lock:
            per: dict[str, dict[str, list[Figures]]] = defaultdict(lambda: defaultdict(list))
            scored = []
            for vid, v in self.registry.venues.items():
                if district and v.district != district:
                    continue
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
                "worst_venues": scored[:worst]}

    def _figures(self, venue_id: str, frm_s: int, to_s: int) -> Figures:
        """Under ``lock``."""
        alerts = [a for a in self.alerts.values() if a["venue_id"] == venue_id]
        inspections = [i for i in self.inspections.values() if i["venue_id"] == venue_id]
        # the first hour the job saw is likely partial (it started within it): count from the
        # next; the newest is likely partial too (still being heard in): count up to it
        if self.observed_from_h is None or self.observed_to_h is None:
            observed_from, observed_to = None, None
        else:
            observed_from, observed_to = (self.observed_from_h + 1) * 3600, self.observed_to_h * 3600
        return venue_figures(self.registry.venues.get(venue_id), self.records[venue_id],
                             frm_s, to_s, alerts, inspections, observed_from, observed_to)


def _venue_info(v: Any, venue_id: str) -> dict[str, Any]:
    if v is None:
        return {"venue_id": venue_id, "registered": False}
    return {"venue_id": venue_id, "registered": True, "name": v.name, "district": v.district,
            "ward": v.ward, "category": v.category, "scanning_points": v.scanning_points,
            "staff_count": v.staff_count}
