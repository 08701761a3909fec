"""A lag reader closed while a call is in flight closes its clients when the call ends, even
when the close comes just as the call ends (it then finds the reader's lock still taken)."""

from __future__ import annotations

import threading
from pathlib import Path

from truyvet.kafka.lag import LagReader
from truyvet.settings import Settings


class _Client:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


class _LockClosingAtRelease:
    """A lock whose first release lets ``close`` in first: the moment after a call has looked
    whether its reader was closed, before it gives the lock back."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.on_release = None

    def acquire(self, blocking: bool = True) -> bool:
        return self._lock.acquire(blocking)

    def release(self) -> None:
        hook, self.on_release = self.on_release, None
        if hook is not None:
            hook()
        self._lock.release()

    __enter__ = acquire

    def __exit__(self, *_: object) -> None:
        self.release()


def _reader(tmp_path: Path) -> tuple[LagReader, _Client]:
    reader = LagReader(Settings.from_env(env={}, data_dir=tmp_path))
    client = _Client()
    reader._offsets["a-group"] = client  # type: ignore[assignment]
    return reader, client


def test_closed_during_a_call_the_call_closes_the_clients(tmp_path: Path) -> None:
    reader, client = _reader(tmp_path)
    with reader._one_call():
        reader.close()  # the lock is taken: it does not wait
        assert not client.closed
    assert client.closed


def test_closed_just_as_a_call_ends_the_clients_are_closed(tmp_path: Path) -> None:
    reader, client = _reader(tmp_path)
    lock = _LockClosingAtRelease()
    reader._lock = lock  # type: ignore[assignment]
    lock.on_release = reader.close
    with reader._one_call():
        pass
    assert client.closed


def test_closed_with_no_call_in_flight_closes_at_once(tmp_path: Path) -> None:
    reader, client = _reader(tmp_path)
    reader.close()
    assert client.closed
