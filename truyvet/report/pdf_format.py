"""The report as PDF, printed from its HTML by a headless Chromium (Debian's ``chromium``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_browser() -> str:
    configured = os.environ.get("TRUYVET_CHROMIUM")
    for name in ((configured,) if configured else BROWSERS):
        path = shutil.which(name)
        if path:
            return path
    raise RuntimeError("no Chromium found to print the PDF (install Debian's `chromium`, "
                       "or set TRUYVET_CHROMIUM to a Chrome/Chromium executable)")


def headless_flags(profile: str) -> list[str]:
    """Flags for a Chromium that runs as root in CI, offline, without a display."""
    return ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-extensions", "--no-first-run",
            "--disable-sync", "--mute-audio", f"--user-data-dir={profile}"]


def render(html: bytes, timeout_s: float = 120.0) -> bytes:
    browser = find_browser()
    with tempfile.TemporaryDirectory(prefix="truyvet-pdf-", ignore_cleanup_errors=True) as tmp:
        page, out = Path(tmp, "report.html"), Path(tmp, "report.pdf")
        page.write_bytes(html)
        cmd = [browser, *headless_flags(str(Path(tmp, "profile"))), "--no-pdf-header-footer",
               f"--print-to-pdf={out}", page.as_uri()]
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout_s, check=False)
        if proc.returncode != 0 or not out.exists() or out.stat().st_size == 0:
            tail = proc.stderr.decode(errors="replace").strip().splitlines()[-5:]
            raise RuntimeError(f"{browser} could not print the PDF (exit {proc.returncode}): "
                               + " | ".join(tail))
        return out.read_bytes()
