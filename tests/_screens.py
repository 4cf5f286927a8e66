"""Screenshots of browser tests, for a reviewer to look at: ``shot(page, name)``.

They go to test-artifacts/screenshots/ at the top of the repository, which git ignores and CI
keeps as an artifact of the run.
"""

from __future__ import annotations

from pathlib import Path

SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"


def shot(page, name: str, *, full_page: bool = True) -> Path:
    """Save a PNG of ``page`` as ``<name>.png`` and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
