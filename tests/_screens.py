"""Screenshots of browser tests, for a reviewer to look at: ``shot(page, name)``.

They go to test-artifacts/screenshots/ at the top of the repository, which git ignores and CI
keeps as an artifact of the run.
"""

from __future__ import annotations

from pathlib import Path

SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"


def shot(page, name: str, *, full_page: bool = True) -> Path:
    """Save a JPEG of ``page`` as ``<name>.jpg`` and return its path.

    JPEG, not PNG: Chromium encodes a whole phone-width page (often 5 000 px and more) as JPEG in
    about half the time, and the walks in tests/core/test_axe.py take about a hundred of them.
    At quality 85 the text stays as legible as on screen.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.jpg"
    page.screenshot(path=str(path), full_page=full_page, type="jpeg", quality=85)
    return path
