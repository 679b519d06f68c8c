"""Headless Chromium for the browser tests: Debian's chromium, driven by Playwright (no
browser download). In CI (`CI` set) a missing one fails the test: .ci/run installs it;
elsewhere the test is skipped with the reason."""

from __future__ import annotations

import os
import shutil

import pytest

# Without the background-networking flags Chromium dials out at start, which a closed network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def chromium() -> str:
    """The Chromium executable, once both it and the playwright package are there."""
    path = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        path = None
    if path is None:
        reason = "headless Chromium (Debian's chromium) and the playwright package are needed for this test"
        if os.environ.get("CI"):
            pytest.fail(reason + ": .ci/run installs them")
        pytest.skip(reason)
    return path
