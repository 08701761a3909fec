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
