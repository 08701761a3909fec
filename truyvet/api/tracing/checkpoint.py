"""Checkpoints of the API's visit index: restart in seconds, whatever the retention.

A checkpoint is the index's columns (``truyvet.domain.matching.index_columns``) with the
offsets of the visits topic they reflect, in one file on local disk
(``truyvet.checkpoint_file``: written whole or not at all, refused when a byte changed). A
starting API loads it and reads the topic from those offsets only; replaying a record already
reflected is harmless, since every record replaces its (venue, day, card) bucket whole. The
offsets are taken *before* the columns are copied, so a checkpoint never claims a record it
lacks.

A checkpoint is used only when it gives the answers a full rebuild would give; otherwise the
index is rebuilt from the whole topic and the reason is logged and shown in ``/healthz``:

- it is whole, of this format, of this topic;
- it is younger than half the topic's ``delete.retention.ms``: compaction keeps a tombstone at
  least that long, so every bucket deleted after the checkpoint is still there to be read;
- it was written with a retention at least as long as today's (a shorter one forgot visits a
  longer one keeps: lengthening the retention needs a rebuild);
- the topic has the same partitions, and each offset lies within that partition's watermarks
  (a recreated topic, or records deleted past the checkpoint's offset, do not fit).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from truyvet import checkpoint_file, topics
from truyvet.checkpoint_file import Unreadable
from truyvet.domain.matching.index_columns import IndexColumns
from truyvet.settings import Settings

FORMAT = 1
DEFAULT_DELETE_RETENTION_MS = 86_400_000  # the broker's default for delete.retention.ms


@dataclass(frozen=True)
class Checkpoint:
    topic: str
    positions: dict[int, int]  # partition -> next offset not reflected
    written_ms: int
    retention_s: int
    columns: IndexColumns


def path(s: Settings) -> Path:
    return s.checkpoint_dir / f"{topics.visits(s)}.index"


def max_age_ms(s: Settings) -> int:
    """How old a checkpoint may be: half the time compaction keeps the visits topic's
    tombstones (from the topic catalogue, the broker's default when it sets none)."""
    spec = next(t for t in topics.catalogue(s) if t.name == topics.visits(s))
    return int(spec.config.get("delete.retention.ms", DEFAULT_DELETE_RETENTION_MS)) // 2


def save(where: Path, cp: Checkpoint) -> int:
    """Write ``cp`` over the checkpoint at ``where``; returns its size in bytes."""
    c = cp.columns
    venue_bytes, venue_ends = checkpoint_file.strings(c.venues)
    card_bytes, card_ends = checkpoint_file.strings(c.card_names)
    meta = {"format": FORMAT, "topic": cp.topic, "written_ms": cp.written_ms,
            "retention_s": cp.retention_s, "visits": c.visits,
            "positions": {str(p): o for p, o in sorted(cp.positions.items())}}
    return checkpoint_file.write(where, meta, {
        "venue_bytes": venue_bytes, "venue_ends": venue_ends, "longest": c.longest,
        "bucket_venue": c.bucket_venue, "bucket_day": c.bucket_day, "bucket_end": c.bucket_end,
        "cards": c.cards, "starts": c.starts, "ends": c.ends,
        "card_bytes": card_bytes, "card_ends": card_ends,
    })


def load(where: Path) -> Checkpoint:
    """The checkpoint at ``where``; :class:`Unreadable` (or FileNotFoundError) otherwise."""
    if not where.exists():
        raise FileNotFoundError(where)
    meta, a = checkpoint_file.read(where)
    try:
        if meta["format"] != FORMAT:
            raise Unreadable(f"format {meta['format']!r}, this version reads {FORMAT}")
        columns = IndexColumns(
            venues=checkpoint_file.from_strings(a["venue_bytes"], a["venue_ends"]),
            longest=a["longest"], bucket_venue=a["bucket_venue"], bucket_day=a["bucket_day"],
            bucket_end=a["bucket_end"], cards=a["cards"], starts=a["starts"], ends=a["ends"],
            card_names=checkpoint_file.from_strings(a["card_bytes"], a["card_ends"]))
        return Checkpoint(str(meta["topic"]),
                          {int(p): int(o) for p, o in meta["positions"].items()},
                          int(meta["written_ms"]), int(meta["retention_s"]), columns)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise Unreadable(f"checkpoint content unreadable: {type(exc).__name__}: {exc}") from None


def why_unusable(cp: Checkpoint, topic: str, retention_s: int, max_age: int, now_ms: int,
                 ) -> str | None:
    """Why ``cp`` cannot stand for the topic's content now (None: it can, if its offsets fit
    the partitions, :func:`why_offsets_do_not_fit`)."""
    if cp.topic != topic:
        return f"written for topic {cp.topic}, not {topic}"
    age = now_ms - cp.written_ms
    if age > max_age:
        return (f"{age / 3_600_000:.1f} h old, more than the {max_age / 3_600_000:.1f} h "
                "within which every later tombstone is still in the topic")
    if age < -60_000:
        return "written more than a minute in the future (a clock changed)"
    if cp.retention_s < retention_s:
        return (f"written with a retention of {cp.retention_s} s, shorter than today's "
                f"{retention_s} s: it forgot visits that are now wanted")
    return None


def why_offsets_do_not_fit(positions: dict[int, int], marks: dict[int, tuple[int, int]],
                           ) -> str | None:
    """Why reading from ``positions`` would not give the topic's content (None: it would);
    ``marks`` are each partition's (low, high) watermarks now."""
    if set(positions) != set(marks):
        return (f"the checkpoint has partitions {sorted(positions)}, the topic "
                f"{sorted(marks)}")
    for p, (low, high) in sorted(marks.items()):
        at = positions[p]
        if at < low:
            return f"partition {p}: records from {at} to {low} were deleted since (retention)"
        if at > high:
            return f"partition {p}: the checkpoint read to {at}, the topic ends at {high} " \
                   "(recreated?)"
    return None
