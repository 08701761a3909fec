from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from truyvet.codec import checkin
from truyvet.codec.checkin import CheckIn
from truyvet.codec.errors import InvalidEvent, Reason

ids = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x7f",
                           min_codepoint=0x20),
    min_size=1, max_size=128,
)
scans = st.builds(
    CheckIn, ids, ids, ids, ids, st.sampled_from(["in", "out"]),
    st.integers(1_577_923_200_000, 4_102_358_400_000), st.sampled_from(["card", "app", "venue_qr"]),
)


@given(scans)
def test_encode_decode_round_trip(scan: CheckIn) -> None:
    assert checkin.decode(checkin.encode(scan)) == scan


def test_decode_reports_the_first_broken_rule() -> None:
    base = {"event_id": "e", "card_id": "c", "venue_id": "v", "scanner_id": "s",
            "direction": "in", "scanned_at": "2021-12-06T10:00:00+07:00", "method": "card"}
    cases = [
        ({**base, "direction": 1}, Reason.WRONG_TYPE, "direction"),
        ({**base, "venue_id": ""}, Reason.EMPTY_FIELD, "venue_id"),
        ({**base, "card_id": "a\nb"}, Reason.BAD_CHARACTERS, "card_id"),
        ({**base, "method": "poster"}, Reason.BAD_ENUM, "method"),
        ({**base, "v": 2}, Reason.UNSUPPORTED_VERSION, "v=2"),
        ({**base, "scanned_at": 1638759600}, Reason.WRONG_TYPE, "scanned_at"),
    ]
    for doc, reason, mention in cases:
        with pytest.raises(InvalidEvent) as err:
            checkin.decode(orjson.dumps(doc))
        assert err.value.reason == reason and mention in err.value.detail


def test_refuses_oversized_and_non_utf8_payloads() -> None:
    with pytest.raises(InvalidEvent) as err:
        checkin.decode(b"{" + b" " * 5000 + b"}")
    assert err.value.reason == Reason.TOO_LARGE
    with pytest.raises(InvalidEvent) as err:
        checkin.decode(b'{"event_id": "\xff"}')
    assert err.value.reason == Reason.NOT_UTF8


def test_the_scanners_formats_take_a_newer_firmwares_optional_fields() -> None:
    """Schema evolution within v1 (docs/architecture.md): an added field is accepted and
    ignored; a missing one is still refused, and so is a version this reader does not know."""
    from truyvet.codec import headcount, heartbeat, itinerary

    base = {"event_id": "e", "card_id": "c", "venue_id": "v", "scanner_id": "s",
            "direction": "in", "scanned_at": "2021-12-06T10:00:00+07:00", "method": "card"}
    newer = {**base, "temperature": 36.6, "firmware": {"build": 7}}
    assert checkin.decode(orjson.dumps(newer)) == checkin.decode(orjson.dumps(base))
    for doc, reason in (({k: v for k, v in newer.items() if k != "card_id"}, Reason.MISSING_FIELD),
                        ({**newer, "v": 2}, Reason.UNSUPPORTED_VERSION)):
        with pytest.raises(InvalidEvent) as err:
            checkin.decode(orjson.dumps(doc))
        assert err.value.reason == reason
    beat = {"venue_id": "v", "scanner_id": "s", "sent_at": "2021-12-06T10:00:00+07:00"}
    assert heartbeat.decode(orjson.dumps({**beat, "signal_dbm": -70})) == \
        heartbeat.decode(orjson.dumps(beat))
    count = {"headcount_id": "h", "venue_id": "v", "from": "2021-12-06T10:00:00+07:00",
             "to": "2021-12-06T11:00:00+07:00", "source": "door_counter", "people_counted": 3}
    assert headcount.decode(orjson.dumps({**count, "sensor": "ir-2"})) == \
        headcount.decode(orjson.dumps(count))
    # what people type into the API stays strict: a misspelt field is said, not ignored
    with pytest.raises(InvalidEvent) as err:
        itinerary.decode(orjson.dumps({"case_id": "c", "classification": "F0", "stop": []}))
    assert err.value.reason == Reason.UNKNOWN_FIELD
