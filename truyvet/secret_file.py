"""Files that hold secrets (tokens, passwords, keys, a role's environment): readable by their
owner only from the first byte, and replaced whole.

:func:`write_private` makes a new file 0600 with ``O_EXCL`` beside the target and renames it
over the target: a reader sees the old file or the whole new one, never a half-written one,
and never a moment where the secret is readable by others (a file written then ``chmod``-ed
is). An existing file's wider mode is not kept. :func:`read_private` refuses to trust a file
others could read: it is made 0600 and the caller is told.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)


TOKEN_BYTES = 32  # a made token: 256 random bits, 43 characters of base64url


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def write_private(path: Path, text: str) -> None:
    with replacing_private(path) as f:
        f.write(text.encode())


@contextmanager
def replacing_private(path: Path) -> Iterator[BinaryIO]:
    """A new private file (0600 from its first byte, in a 0700 folder if one is made) to write
    ``path``'s new content to; renamed over ``path`` when the block ends without error, else
    removed. Synced before the rename: after a crash ``path`` is the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_private(path: Path) -> str:
    """The file's text; a file readable or writable by others is made 0600 first, with a
    warning (what it holds may have been read: replace it)."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        os.chmod(path, 0o600)
        log.warning("%s was readable by others (mode %o); made 0600: consider the secret in it "
                    "exposed and replace it", path, mode)
    return path.read_text()
